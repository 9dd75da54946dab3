//! Operator names: the table both the builder (which reads `-eq` into a
//! [`BinOp`]) and the highlighter (which colours it) go by, so the two
//! never disagree on what is an operator.

use super::ast::{BinOp, Case, CmpOp};

/// Whether `-name` (given without the dash, lower-case) is an operator;
/// the highlighter (`tokens.rs`) asks, so both agree on the set.
pub(crate) fn is_operator_name(name: &str) -> bool {
    op_by_name(name).is_some() || matches!(name, "not" | "bnot" | "join" | "split")
}

/// The binary operator `-name` stands for (without the dash, lower-case).
pub(crate) fn op_by_name(name: &str) -> Option<BinOp> {
    let cmp = |s: &str| -> Option<CmpOp> {
        Some(match s {
            "eq" => CmpOp::Eq,
            "ne" => CmpOp::Ne,
            "gt" => CmpOp::Gt,
            "ge" => CmpOp::Ge,
            "lt" => CmpOp::Lt,
            "le" => CmpOp::Le,
            "like" => CmpOp::Like,
            "notlike" => CmpOp::NotLike,
            "match" => CmpOp::Match,
            "notmatch" => CmpOp::NotMatch,
            "contains" => CmpOp::Contains,
            "notcontains" => CmpOp::NotContains,
            "in" => CmpOp::In,
            "notin" => CmpOp::NotIn,
            _ => return None,
        })
    };
    if let Some(op) = cmp(name) {
        return Some(BinOp::Cmp(op, Case::Default));
    }
    let (case, rest) = match name.as_bytes().first() {
        Some(b'c') => (Case::Sensitive, &name[1..]),
        Some(b'i') => (Case::Insensitive, &name[1..]),
        _ => (Case::Default, name),
    };
    if case != Case::Default {
        if let Some(op) = cmp(rest) {
            return Some(BinOp::Cmp(op, case));
        }
        match rest {
            "replace" => return Some(BinOp::Replace(case)),
            "split" => return Some(BinOp::Split(case)),
            _ => {}
        }
    }
    Some(match name {
        "replace" => BinOp::Replace(Case::Default),
        "split" => BinOp::Split(Case::Default),
        "and" => BinOp::And,
        "or" => BinOp::Or,
        "xor" => BinOp::Xor,
        "band" => BinOp::BAnd,
        "bor" => BinOp::BOr,
        "bxor" => BinOp::BXor,
        "shl" => BinOp::Shl,
        "shr" => BinOp::Shr,
        "is" => BinOp::Is,
        "isnot" => BinOp::IsNot,
        "as" => BinOp::As,
        "join" => BinOp::Join,
        "f" => BinOp::Format,
        _ => return None,
    })
}
