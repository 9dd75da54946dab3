//! Expression mode: binary operators by precedence (pest's PrattParser),
//! unary prefixes, members, calls and indexes, and the bracketed
//! primaries (`( )`, `$( )`, `@( )`, `@{ }`, `{ }`).

use std::sync::LazyLock;

use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::*;
use crate::syntax::literals::negate_literal;
use crate::syntax::operators::op_by_name;

/// Binary operators, loosest first; all are left-associative.
/// The ternary `? :` comes first, as a postfix looser than all of them.
static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::postfix(Rule::ternary) | Op::postfix(Rule::arg_ternary))
        .op(Op::infix(Rule::op_coalesce, Assoc::Left))
        .op(Op::infix(Rule::op_logic, Assoc::Left))
        .op(Op::infix(Rule::op_bitwise, Assoc::Left))
        .op(Op::infix(Rule::op_cmp, Assoc::Left))
        .op(Op::infix(Rule::op_add, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left))
        .op(Op::infix(Rule::op_format, Assoc::Left))
        .op(Op::infix(Rule::op_range, Assoc::Left))
});

/// The operator a binary operator pair stands for.
fn binop(pair: &Pair<Rule>) -> Option<BinOp> {
    let text = pair.as_str();
    Some(match text {
        "+" => BinOp::Add,
        "-" | "\u{2013}" | "\u{2014}" | "\u{2015}" => BinOp::Sub,
        "*" => BinOp::Mul,
        "/" => BinOp::Div,
        "%" => BinOp::Rem,
        ".." => BinOp::Range,
        "??" => BinOp::Coalesce,
        _ => op_by_name(&after_dash(text).to_ascii_lowercase())?,
    })
}

impl Builder<'_> {
    /// `operand (op operand)*`, operands being comma lists or unary
    /// expressions depending on the rule.
    pub(super) fn expression(&self, pair: Pair<Rule>) -> R<Expr> {
        PRATT
            .map_primary(|p| match p.as_rule() {
                Rule::array_expr => self.array_expr(p),
                _ => self.unary_expr(p),
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let Some(op) = binop(&op) else {
                    return Err(ParseError::internal(self.src, span_of(&op)));
                };
                let span = lhs.span.to(rhs.span);
                Ok(Expr {
                    kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                    span,
                })
            })
            .map_postfix(|cond, op| {
                let cond = cond?;
                let end = op.as_span().end();
                // ternary_q, then the two branches (expressions, or the
                // e_* pair the error pass has already reported).
                let mut branches = op
                    .into_inner()
                    .filter(|p| matches!(p.as_rule(), Rule::expression | Rule::arg_expr));
                let (Some(then), Some(otherwise)) = (branches.next(), branches.next()) else {
                    return Err(ParseError::internal(self.src, Span::new(end, end)));
                };
                let span = Span::new(cond.span.start as usize, end);
                Ok(Expr {
                    kind: ExprKind::Ternary(
                        Box::new(cond),
                        Box::new(self.expression(then)?),
                        Box::new(self.expression(otherwise)?),
                    ),
                    span,
                })
            })
            .parse(pair.into_inner())
    }

    /// An expression without a top-level comma.
    pub(super) fn arg_expr(&self, pair: Pair<Rule>) -> R<Expr> {
        self.expression(pair)
    }

    fn array_expr(&self, pair: Pair<Rule>) -> R<Expr> {
        let span = span_of(&pair);
        let mut items = Vec::new();
        for p in pair.into_inner() {
            items.push(self.unary_expr(p)?);
        }
        if items.len() == 1
            && let Some(e) = items.pop()
        {
            return Ok(e);
        }
        Ok(Expr {
            kind: ExprKind::Array(items),
            span,
        })
    }

    /// Prefix operators folded right to left onto their operand.
    pub(super) fn unary_expr(&self, pair: Pair<Rule>) -> R<Expr> {
        let mut prefixes = Vec::new();
        let mut operand = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::postfix_expr => operand = Some(self.postfix_expr(p)?),
                _ => prefixes.push(p),
            }
        }
        let Some(mut e) = operand else {
            return Err(ParseError::internal(self.src, Span::default()));
        };
        // Each prefix is a level the evaluator descends.
        if prefixes.len() > MAX_NESTING {
            return Err(ParseError::too_deep(
                self.src,
                prefixes[MAX_NESTING].as_span().start(),
            ));
        }
        for p in prefixes.into_iter().rev() {
            let span = Span::new(p.as_span().start(), e.span.end as usize);
            let inner = std::mem::replace(&mut e, null());
            let unary = |op, inner: Expr| ExprKind::Unary(op, Box::new(inner));
            let kind = match p.as_rule() {
                Rule::prefix_comma => unary(UnaryOp::Comma, inner),
                Rule::prefix_not => unary(UnaryOp::Not, inner),
                Rule::prefix_step => ExprKind::Step {
                    target: Box::new(inner),
                    delta: if p.as_str() == "++" { 1 } else { -1 },
                    post: false,
                },
                Rule::prefix_word => match after_dash(p.as_str()).to_ascii_lowercase().as_str() {
                    "not" => unary(UnaryOp::Not, inner),
                    "bnot" => unary(UnaryOp::BNot, inner),
                    "split" => unary(UnaryOp::Split, inner),
                    _ => unary(UnaryOp::Join, inner),
                },
                Rule::prefix_sign if p.as_str() == "+" => unary(UnaryOp::Plus, inner),
                Rule::prefix_sign => {
                    // `-5` is the constant -5, not negation at run time.
                    let negated = match &inner.kind {
                        ExprKind::Const(v) => negate_literal(v),
                        _ => None,
                    };
                    match negated {
                        Some(neg) => ExprKind::Const(neg),
                        None => unary(UnaryOp::Neg, inner),
                    }
                }
                _ => {
                    let t = match p.into_inner().next() {
                        Some(t) => self.type_name(&t)?,
                        None => return Err(ParseError::internal(self.src, span)),
                    };
                    ExprKind::Cast(t, Box::new(inner))
                }
            };
            e = Expr { kind, span };
        }
        Ok(e)
    }

    /// A primary with `.member`, `::member`, `[index]`, calls and `++`/`--`.
    pub(super) fn postfix_expr(&self, pair: Pair<Rule>) -> R<Expr> {
        let start = pair.as_span().start();
        let mut inner = pair.into_inner();
        let Some(first) = inner.next() else {
            return Err(ParseError::internal(self.src, Span::new(start, start)));
        };
        let mut e = self.primary(first)?;
        for p in inner {
            let span = Span::new(start, p.as_span().end());
            let target = Box::new(e);
            let kind = match p.as_rule() {
                Rule::member | Rule::static_member => {
                    let is_static = p.as_rule() == Rule::static_member;
                    let mut mi = p.into_inner();
                    let name = match mi.next() {
                        Some(n) => Box::new(self.member_name(n)?),
                        None => return Err(ParseError::internal(self.src, span)),
                    };
                    match mi.next() {
                        Some(args) => {
                            let block = args.as_rule() == Rule::block_arg;
                            let mut list = Vec::new();
                            for a in args.into_inner() {
                                list.push(if block {
                                    self.primary(a)?
                                } else {
                                    self.arg_expr(a)?
                                });
                            }
                            ExprKind::Invoke {
                                target,
                                name,
                                args: list,
                                is_static,
                            }
                        }
                        None => ExprKind::Member {
                            target,
                            name,
                            is_static,
                        },
                    }
                }
                Rule::index => match p.into_inner().next() {
                    Some(i) => ExprKind::Index {
                        target,
                        index: Box::new(self.statement(i)?),
                    },
                    None => return Err(ParseError::internal(self.src, span)),
                },
                _ => ExprKind::Step {
                    target,
                    delta: if p.as_str() == "++" { 1 } else { -1 },
                    post: true,
                },
            };
            e = Expr { kind, span };
        }
        Ok(e)
    }

    fn member_name(&self, pair: Pair<Rule>) -> R<MemberName> {
        match pair.as_rule() {
            Rule::ident => Ok(MemberName::Name(Rc::from(pair.as_str()))),
            Rule::sq_string => {
                let e = self.primary(pair)?;
                match &e.kind {
                    ExprKind::Const(v) => Ok(MemberName::Name(Rc::from(v.to_string()))),
                    _ => Ok(MemberName::Dynamic(e)),
                }
            }
            _ => Ok(MemberName::Dynamic(self.primary(pair)?)),
        }
    }

    pub(super) fn primary(&self, pair: Pair<Rule>) -> R<Expr> {
        let span = span_of(&pair);
        let kind = match pair.as_rule() {
            Rule::sub_expression => ExprKind::SubExpr(self.sub_statements(pair)?),
            Rule::array_sub => ExprKind::ArraySub(self.sub_statements(pair)?),
            Rule::variable => {
                let v = self.variable(&pair)?;
                match v.special {
                    Some(Special::True) => ExprKind::Const(Literal::Bool(true)),
                    Some(Special::False) => ExprKind::Const(Literal::Bool(false)),
                    _ => ExprKind::Var(v),
                }
            }
            Rule::hash_literal => self.hash_literal(pair)?,
            Rule::paren => match pair.into_inner().next() {
                Some(s) => ExprKind::Paren(Box::new(self.statement(s)?)),
                None => ExprKind::Const(Literal::Null),
            },
            Rule::script_block => ExprKind::ScriptBlock(self.script_block(pair)?),
            Rule::type_literal => ExprKind::Type(self.type_name(&pair)?),
            Rule::number => self.number(&pair)?,
            Rule::sq_string => ExprKind::Const(Literal::str(single_quoted(pair.as_str()))),
            Rule::here_sq => ExprKind::Const(Literal::str(
                pair.into_inner()
                    .next()
                    .map(|b| b.as_str())
                    .unwrap_or("")
                    .to_string(),
            )),
            Rule::here_dq => match pair.into_inner().next() {
                Some(body) => self.expandable(body)?,
                None => ExprKind::Const(Literal::str("")),
            },
            _ => self.expandable(pair)?,
        };
        Ok(Expr { kind, span })
    }

    /// The statements of `$( )` or `@( )`.
    pub(super) fn sub_statements(&self, pair: Pair<Rule>) -> R<Block> {
        match pair.into_inner().next() {
            Some(s) => self.statements(s),
            None => Ok(Rc::from(Vec::new())),
        }
    }

    fn hash_literal(&self, pair: Pair<Rule>) -> R<ExprKind> {
        let mut entries = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for entry in pair.into_inner() {
            let mut inner = entry.into_inner();
            let (Some(k), Some(v)) = (inner.next(), inner.next()) else {
                continue;
            };
            let key = match k.as_rule() {
                Rule::hash_word => const_str(k.as_str(), span_of(&k)),
                _ => self.primary(k)?,
            };
            // Constant keys are checked for duplicates here, as PowerShell does.
            if let ExprKind::Const(kv) = &key.kind {
                let text = kv.to_string();
                let lower = text.to_lowercase();
                if seen.contains(&lower) {
                    return Err(self.err(
                        key.span,
                        format!("Duplicate keys '{text}' are not allowed in hash literals."),
                    ));
                }
                seen.push(lower);
            }
            entries.push((key, self.statement(v)?));
        }
        Ok(ExprKind::Hash {
            ordered: false,
            entries,
        })
    }
}

/// A placeholder while a node moves into its parent.
fn null() -> Expr {
    Expr {
        kind: ExprKind::Const(Literal::Null),
        span: Span::default(),
    }
}

/// The value of a single-quoted string: doubled quotes stand for one.
fn single_quoted(text: &str) -> String {
    let mut chars = text.chars();
    chars.next();
    let mut out = String::new();
    let mut rest: Vec<char> = chars.collect();
    rest.pop();
    let mut i = 0;
    while i < rest.len() {
        let c = rest[i];
        out.push(c);
        if crate::syntax::literals::is_single_quote(c) {
            i += 1;
        }
        i += 1;
    }
    out
}
