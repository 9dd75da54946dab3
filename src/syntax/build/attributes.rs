//! Parameter attributes: what `[Parameter(...)]`, `[Alias(...)]` and the
//! `[Validate*(...)]` family say about a declared parameter.

use crate::syntax::ast::*;

/// One argument of an attribute: `Mandatory`, `Position = 0` or `'a', 'b'`.
pub(crate) enum AttrArg {
    Named(String, Option<Expr>),
    Positional(Expr),
}

/// Reads `[Parameter(...)]`, `[Validate*(...)]`, `[Alias(...)]`. Returns
/// whether the attribute makes the function advanced.
pub(crate) fn apply_attribute(name: &str, args: Vec<AttrArg>, pd: &mut ParamDecl) -> bool {
    let lower = name.to_ascii_lowercase();
    let lower = lower
        .strip_prefix("system.management.automation.")
        .unwrap_or(&lower);
    let lower = lower.strip_suffix("attribute").unwrap_or(lower);
    let truthy = |e: &Option<Expr>| match e {
        None => true,
        Some(Expr {
            kind: ExprKind::Const(v),
            ..
        }) => v.is_true(),
        Some(_) => true,
    };
    let mut positional = Vec::new();
    let mut named = Vec::new();
    for a in args {
        match a {
            AttrArg::Named(k, v) => named.push((k.to_ascii_lowercase(), v)),
            AttrArg::Positional(e) => positional.push(e),
        }
    }
    match lower {
        "parameter" => {
            for (key, value) in &named {
                match key.as_str() {
                    "mandatory" => pd.mandatory = truthy(value),
                    "valuefrompipeline" => pd.from_pipeline = truthy(value),
                    "valuefrompipelinebypropertyname" => pd.from_pipeline_by_name = truthy(value),
                    "position" => {
                        if let Some(Expr {
                            kind: ExprKind::Const(v),
                            ..
                        }) = value
                        {
                            pd.position = v.as_i64().and_then(|n| usize::try_from(n).ok());
                        }
                    }
                    _ => {}
                }
            }
            true
        }
        "alias" => {
            for e in positional {
                pd.aliases.extend(const_strings(&e));
            }
            false
        }
        "validateset" => {
            let mut set = Vec::new();
            for e in positional {
                set.extend(const_strings(&e));
            }
            pd.validate_set = Some(set);
            false
        }
        "validaterange" => {
            let mut it = positional.into_iter();
            if let (Some(lo), Some(hi)) = (it.next(), it.next()) {
                pd.validate_range = Some((lo, hi));
            }
            false
        }
        "validatenotnullorempty" | "validatenotnull" => {
            pd.validate_not_null_or_empty = true;
            false
        }
        "validatepattern" => {
            pd.validate_pattern = positional.first().and_then(|e| const_strings(e).pop());
            false
        }
        "validatescript" => {
            if let Some(Expr {
                kind: ExprKind::ScriptBlock(sb),
                ..
            }) = positional.into_iter().next()
            {
                pd.validate_script = Some(sb);
            }
            false
        }
        _ => false,
    }
}

fn const_strings(e: &Expr) -> Vec<String> {
    match &e.kind {
        ExprKind::Const(v) => vec![v.to_string()],
        ExprKind::Array(items) => items.iter().flat_map(const_strings).collect(),
        _ => Vec::new(),
    }
}
