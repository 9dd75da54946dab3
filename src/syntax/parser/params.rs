//! Parameter declarations: `param()` lists and attributes such as
//! `[Parameter(Mandatory)]` and `[ValidateSet(...)]`.

use super::*;

impl Parser<'_> {
    /// `[Name(args)]` attribute; `None` when this is a plain type literal.
    pub(super) fn try_attribute(&mut self) -> R<Option<(String, Vec<AttrArg>)>> {
        let start = self.pos;
        self.pos += 1;
        let nstart = self.pos;
        while is_ident(self.peek()) || self.peek() == b'.' {
            self.pos += 1;
        }
        let name = self.text[nstart..self.pos].to_string();
        if self.peek() != b'(' || name.is_empty() {
            self.pos = start;
            return Ok(None);
        }
        self.pos += 1;
        let mut args = Vec::new();
        self.skip_nl();
        while self.peek() != b')' {
            if self.eof() {
                return Err(self.incomplete(
                    "Missing ')' in attribute.",
                    "MissingEndParenthesisInAttribute",
                    start,
                ));
            }
            let astart = self.pos;
            if is_ident_start(self.peek()) {
                let mut end = self.pos;
                while end < self.b.len() && is_ident(self.b[end]) {
                    end += 1;
                }
                let key = self.text[astart..end].to_string();
                let save = self.pos;
                self.pos = end;
                self.skip_nl();
                if self.peek() == b'=' {
                    self.pos += 1;
                    self.skip_nl();
                    let v = self.arg_expr()?;
                    args.push(AttrArg::Named(key, Some(v)));
                } else if matches!(self.peek(), b',' | b')') {
                    args.push(AttrArg::Named(key, None));
                } else {
                    self.pos = save;
                    args.push(AttrArg::Positional(self.arg_expr()?));
                }
            } else {
                args.push(AttrArg::Positional(self.arg_expr()?));
            }
            self.skip_nl();
            if self.peek() == b',' {
                self.pos += 1;
                self.skip_nl();
            } else if self.peek() != b')' {
                if self.eof() {
                    return Err(self.incomplete(
                        "Missing ')' in attribute.",
                        "MissingEndParenthesisInAttribute",
                        start,
                    ));
                }
                return Err(self.unexpected());
            }
        }
        self.pos += 1;
        self.skip_ws();
        let msg = "Missing ']' after attribute.";
        self.require(b']', msg, msg, "MissingEndSquareBracket", start)?;
        Ok(Some((name, args)))
    }

    /// Parameter declarations up to `close` (not consumed).
    pub(super) fn param_list(&mut self, close: u8) -> R<(Vec<ParamDecl>, bool)> {
        let mut params = Vec::new();
        let mut advanced = false;
        loop {
            self.skip_nl();
            if self.peek() == close || self.eof() {
                break;
            }
            let start = self.pos;
            let mut pd = ParamDecl {
                name: var_ref("", VarScope::Any, Span::new(start, start)),
                type_name: None,
                default: None,
                mandatory: false,
                position: None,
                from_pipeline: false,
                from_pipeline_by_name: false,
                aliases: Vec::new(),
                validate_set: None,
                validate_range: None,
                validate_not_null_or_empty: false,
                validate_pattern: None,
                validate_script: None,
                span: Span::new(start, start),
            };
            while self.peek() == b'[' {
                match self.try_attribute()? {
                    Some((name, args)) => advanced |= apply_attribute(&name, args, &mut pd),
                    None => pd.type_name = Some(self.type_literal()?),
                }
                self.skip_nl();
            }
            if self.peek() != b'$' {
                if self.eof() {
                    return Err(self.incomplete(
                        "Missing ')' in function parameter list.",
                        "MissingEndParenthesisInFunctionParameterList",
                        self.b.len(),
                    ));
                }
                return Err(self.err_at(self.pos, "Missing variable name in the parameter list."));
            }
            pd.name = self.variable()?;
            self.skip_nl();
            if self.peek() == b'=' {
                self.pos += 1;
                self.skip_nl();
                pd.default = Some(self.arg_expr()?);
                self.skip_nl();
            }
            pd.span = self.span_from(start);
            params.push(pd);
            if self.peek() == b',' {
                self.pos += 1;
                continue;
            }
            break;
        }
        Ok((params, advanced))
    }
}

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

pub(super) fn const_strings(e: &Expr) -> Vec<String> {
    match &e.kind {
        ExprKind::Const(v) => vec![v.to_string()],
        ExprKind::Array(items) => items.iter().flat_map(const_strings).collect(),
        _ => Vec::new(),
    }
}
