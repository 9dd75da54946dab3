//! Literal tokens: numbers, expandable strings, variables and type names.

use super::*;
use crate::syntax::literals::{escape_char, parse_number};

impl Builder<'_> {
    pub(super) fn number(&self, pair: &Pair<Rule>) -> R<ExprKind> {
        let text = pair.as_str();
        match parse_number(text) {
            Some(v) => Ok(ExprKind::Const(v)),
            None => Err(self.err(
                span_of(pair),
                format!("The numeric constant {text} is not valid."),
            )),
        }
    }

    /// The parts of a double-quoted string or here-string body.
    pub(super) fn expandable(&self, pair: Pair<Rule>) -> R<ExprKind> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::dq_quote => lit.push('"'),
                Rule::dq_unicode => lit.push(self.expandable_char(&p)?),
                Rule::dq_escape => {
                    if let Some(c) = p.as_str()[1..].chars().next() {
                        lit.push(escape_char(c));
                    }
                }
                Rule::sub_expression => {
                    if !lit.is_empty() {
                        parts.push(StrPart::Lit(Rc::from(std::mem::take(&mut lit))));
                    }
                    parts.push(StrPart::Sub(self.sub_statements(p)?));
                }
                Rule::variable => {
                    if !lit.is_empty() {
                        parts.push(StrPart::Lit(Rc::from(std::mem::take(&mut lit))));
                    }
                    parts.push(StrPart::Var(self.variable(&p)?));
                }
                _ => lit.push_str(p.as_str()),
            }
        }
        Ok(finish_expandable(parts, lit))
    }

    /// The character of a `` `u{hex} `` escape.
    pub(super) fn expandable_char(&self, p: &Pair<Rule>) -> R<char> {
        let text = p.as_str();
        let hex = &text[3..text.len() - 1];
        match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
            Some(c) => Ok(c),
            None => {
                let at = p.as_span().start() + 1;
                Err(self.err(
                    Span::new(at, at + 1),
                    "The Unicode escape sequence is not valid.",
                ))
            }
        }
    }

    pub(super) fn variable(&self, pair: &Pair<Rule>) -> R<VarRef> {
        let span = span_of(pair);
        let text = pair.as_str();
        let raw: String = if let Some(braced) = text.strip_prefix("${") {
            let braced = braced.strip_suffix('}').unwrap_or(braced);
            let mut s = String::new();
            let mut chars = braced.chars();
            while let Some(c) = chars.next() {
                if c == '`' {
                    if let Some(n) = chars.next() {
                        s.push(n);
                    }
                } else {
                    s.push(c);
                }
            }
            s
        } else {
            text[1..].to_string()
        };
        if raw.is_empty() {
            return Err(self.err(span, "Variable reference is not valid. '$' was not followed by a valid variable name character. Consider using ${} to delimit the name."));
        }
        let (scope, name) = match raw.split_once(':') {
            Some((s, n)) if !s.is_empty() => {
                let scope = match s.to_ascii_lowercase().as_str() {
                    "global" => VarScope::Global,
                    "script" => VarScope::Script,
                    "local" => VarScope::Local,
                    "private" => VarScope::Private,
                    "env" => VarScope::Env,
                    "variable" => VarScope::Variable,
                    "function" => VarScope::Function,
                    _ => {
                        return Err(self.err(
                            span,
                            format!(
                                "The variable drive '{s}:' is not supported; use global:, script:, local:, private:, env:, variable: or function:."
                            ),
                        ));
                    }
                };
                (scope, n.to_string())
            }
            _ => (VarScope::Any, raw),
        };
        if name.is_empty() {
            return Err(self.err(span, "Variable reference is not valid. ':' was not followed by a valid variable name character. Consider using ${} to delimit the name."));
        }
        Ok(var_ref(&name, scope, span))
    }

    /// `[Name]`: the name as written, without the brackets.
    pub(super) fn type_name(&self, pair: &Pair<Rule>) -> R<TypeName> {
        let span = span_of(pair);
        let text = pair.as_str();
        let name = text[1..text.len().saturating_sub(1).max(1)].trim();
        if !name
            .as_bytes()
            .first()
            .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_')
        {
            return Err(self.err(span, "Missing type name after '['."));
        }
        Ok(TypeName {
            name: Rc::from(name),
            span,
            using: self.using.borrow().clone(),
        })
    }
}

/// The string node: a constant when nothing in it expands.
pub(crate) fn finish_expandable(mut parts: Vec<StrPart>, lit: String) -> ExprKind {
    if parts.is_empty() {
        return ExprKind::Const(Literal::str(lit));
    }
    if !lit.is_empty() {
        parts.push(StrPart::Lit(Rc::from(lit)));
    }
    ExprKind::Expandable(parts)
}

/// A variable reference, with `$true`/`$false`/`$null` known up front and
/// `$PSItem` read as `$_`.
pub(crate) fn var_ref(name: &str, scope: VarScope, span: Span) -> VarRef {
    let key = name.to_ascii_lowercase();
    let special = if matches!(scope, VarScope::Any | VarScope::Global) {
        match key.as_str() {
            "true" => Some(Special::True),
            "false" => Some(Special::False),
            "null" => Some(Special::Null),
            _ => None,
        }
    } else {
        None
    };
    let key = if key == "psitem" {
        "_".to_string()
    } else {
        key
    };
    VarRef {
        key: Rc::from(key),
        name: Rc::from(name),
        scope,
        special,
        span,
    }
}
