//! The grammar's `e_*` rules in PowerShell's words.
//!
//! An `e_*` rule matches where the text cannot go on and takes the rest of
//! the input, so the first one in the tree is where parsing stopped; the
//! construct around it decides the message, the position (the opening
//! bracket of what was left open, or where the text went wrong) and whether
//! more input could still complete it (the REPL then reads on).

use super::*;

const INCOMPLETE: &str = "The statement is not complete: more input was expected.";

/// The first `e_*` pair of a parse, if the text had an error.
pub(super) fn first_error(b: &Builder, script: &Pair<Rule>) -> Option<ParseError> {
    // An error takes the rest of the input, so whatever follows it in the
    // tree sits at the end of the text: looking backwards finds it at once,
    // and a clean parse shows itself by its last real token.
    let end = b.len();
    let stops = |p: &Pair<Rule>| is_error(p.as_rule()) || p.as_rule() == Rule::e_rest;
    let failed = script
        .clone()
        .into_inner()
        .flatten()
        .rev()
        .find(|p| p.as_span().start() < end || stops(p))
        .is_some_and(|p| stops(&p));
    if !failed {
        return None;
    }
    let mut ancestors = Vec::new();
    b.find(script.clone(), &mut ancestors)
}

fn is_error(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::e_unexpected
            | Rule::e_close
            | Rule::e_primary
            | Rule::e_string
            | Rule::e_dollar
            | Rule::e_unicode
            | Rule::e_var_brace
            | Rule::e_type
            | Rule::e_block_open
            | Rule::e_function_name
            | Rule::e_function_body
            | Rule::e_params_close
            | Rule::e_param_var
            | Rule::e_cond_open
            | Rule::e_cond_empty
            | Rule::e_label
            | Rule::e_foreach_open
            | Rule::e_foreach_var
            | Rule::e_foreach_in
            | Rule::e_for_open
            | Rule::e_for_sep
            | Rule::e_for_close
            | Rule::e_do_keyword
            | Rule::e_switch_open
            | Rule::e_try
            | Rule::e_flow_label
            | Rule::e_assign_value
            | Rule::e_empty_pipe
            | Rule::e_lead_pipe
            | Rule::e_pipe_expr
            | Rule::e_param_arg
            | Rule::e_arg_comma
            | Rule::e_redir_file
            | Rule::e_after_op
            | Rule::e_using
            | Rule::e_after_chain
            | Rule::e_ternary_value
            | Rule::e_ternary_colon
            | Rule::e_after_comma
            | Rule::e_member_name
            | Rule::e_index_empty
            | Rule::e_hash_equals
            | Rule::e_hash_value
            | Rule::e_attr_sep
            | Rule::e_attr_close
            | Rule::e_attr_bracket
            | Rule::e_here_header
    )
}

/// Where a construct starts and what it is.
type Frame = (Rule, usize);

impl Builder<'_> {
    fn len(&self) -> usize {
        self.src.text.len()
    }

    /// An error at `at` that is not about missing input.
    fn err_at(&self, at: usize, msg: impl Into<String>) -> ParseError {
        let end = (at + 1).min(self.len().max(at));
        self.err(Span::new(at, end), msg)
    }

    /// Input ended where more was needed: the error points at `at`.
    fn unclosed(&self, at: usize, len: usize, msg: &str, id: &'static str) -> ParseError {
        ParseError {
            incomplete: true,
            error_id: id,
            ..self.err(Span::new(at, at + len), msg)
        }
    }

    pub(super) fn unexpected_at(&self, at: usize) -> ParseError {
        if at >= self.len() {
            return self.unclosed(self.len(), 1, INCOMPLETE, "IncompleteParseException");
        }
        let rest = &self.src.text[at..];
        let end = token_len(rest);
        ParseError {
            error_id: "UnexpectedToken",
            ..self.err(
                Span::new(at, at + end),
                format!(
                    "Unexpected token '{}' in expression or statement.",
                    &rest[..end]
                ),
            )
        }
    }

    /// At the end of input: incomplete, at `eof_at`; elsewhere `msg` where
    /// the text went wrong.
    fn expect_error(&self, at: usize, msg: &str, id: &'static str, eof_at: usize) -> ParseError {
        if at >= self.len() {
            self.unclosed(eof_at, 1, msg, id)
        } else {
            ParseError {
                error_id: id,
                ..self.err_at(at, msg)
            }
        }
    }

    /// Depth-first, in source order: the first `e_*` pair below `pair`.
    fn find(&self, pair: Pair<Rule>, ancestors: &mut Vec<Frame>) -> Option<ParseError> {
        ancestors.push((pair.as_rule(), pair.as_span().start()));
        let mut prev: Option<Pair<Rule>> = None;
        let mut keys: Vec<String> = Vec::new();
        let is_hash = pair.as_rule() == Rule::hash_literal;
        let mut targets = 0;
        for child in pair.into_inner() {
            if is_hash && let Some(e) = self.duplicate_key(&child, &mut keys) {
                return Some(e);
            }
            // Tokens the builder would refuse, before the error in the text.
            if child.as_rule() == Rule::assign_target {
                targets += 1;
            }
            let refused = match child.as_rule() {
                Rule::assign_op if targets > 1 && child.as_str() != "=" => {
                    let at = child.as_span().start();
                    Some(self.err(
                        Span::new(at, at + 1),
                        "Only '=' can assign to several variables at once.",
                    ))
                }
                Rule::number if !ancestors.iter().any(|(r, _)| *r == Rule::argument) => {
                    self.number(&child).err()
                }
                Rule::variable => self.variable(&child).err(),
                Rule::redirection => self.refused_redirection(&child),
                Rule::type_literal => self.type_name(&child).err(),
                Rule::switch_flag => self.switch_flag(&child, &mut SwitchFlags::default()).err(),
                Rule::dq_unicode => self.expandable_char(&child).err(),
                _ => None,
            };
            if refused.is_some() {
                return refused;
            }
            if is_error(child.as_rule()) {
                if let Some(inner) = self.find(child.clone(), ancestors) {
                    return Some(inner);
                }
                return Some(self.describe(&child, prev.as_ref(), ancestors));
            }
            if let Some(e) = self.find(child.clone(), ancestors) {
                return Some(e);
            }
            prev = Some(child);
        }
        ancestors.pop();
        None
    }

    /// A constant key of a hash literal entry seen before in `keys`.
    fn duplicate_key(&self, entry: &Pair<Rule>, keys: &mut Vec<String>) -> Option<ParseError> {
        // A missing `=` or value is reported first.
        if entry.clone().into_inner().any(|p| is_error(p.as_rule())) {
            return None;
        }
        let key = entry.clone().into_inner().next()?;
        let text = match key.as_rule() {
            Rule::hash_word => key.as_str().to_string(),
            Rule::sq_string | Rule::number => match self.primary(key.clone()).ok()?.kind {
                ExprKind::Const(v) => v.to_string(),
                _ => return None,
            },
            _ => return None,
        };
        let lower = text.to_lowercase();
        if keys.contains(&lower) {
            return Some(self.err(
                span_of(&key),
                format!("Duplicate keys '{text}' are not allowed in hash literals."),
            ));
        }
        keys.push(lower);
        None
    }

    /// The message for an `e_*` pair inside the constructs `ancestors`
    /// (innermost last), after its sibling `prev`.
    fn describe(
        &self,
        e: &Pair<Rule>,
        prev: Option<&Pair<Rule>>,
        ancestors: &[Frame],
    ) -> ParseError {
        let at = e.as_span().start();
        let eof = at >= self.len();
        let len = self.len();
        let (parent, open) = ancestors.last().copied().unwrap_or((Rule::script, 0));
        let prev_start = prev.map(|p| p.as_span().start()).unwrap_or(at);
        // The keyword a condition belongs to: if, elseif, while, until, switch.
        let keyword = || {
            let (rule, start) = ancestors
                .len()
                .checked_sub(2)
                .and_then(|i| ancestors.get(i))
                .copied()
                .unwrap_or((Rule::if_stmt, 0));
            match rule {
                Rule::elseif_clause => "elseif".to_string(),
                Rule::while_stmt => "while".to_string(),
                Rule::switch_stmt => "switch".to_string(),
                Rule::do_stmt => {
                    let text = self.src.text[start..at].to_ascii_lowercase();
                    if text.rfind("until") > text.rfind("while") {
                        "until".to_string()
                    } else {
                        "while".to_string()
                    }
                }
                _ => "if".to_string(),
            }
        };
        match e.as_rule() {
            Rule::e_close => match parent {
                Rule::block | Rule::script_block | Rule::switch_body if eof => self.unclosed(
                    open,
                    1,
                    "Missing closing '}' in statement block or type definition.",
                    "MissingEndCurlyBrace",
                ),
                Rule::hash_literal if eof => self.unclosed(
                    open,
                    2,
                    "Missing closing '}' in hash literal.",
                    "MissingEndCurlyBrace",
                ),
                Rule::paren if eof => self.unclosed(
                    open,
                    1,
                    "Missing closing ')' in expression.",
                    "MissingEndParenthesisInExpression",
                ),
                Rule::sub_expression | Rule::array_sub if eof => self.unclosed(
                    open,
                    1,
                    "Missing closing ')' in subexpression.",
                    "MissingEndParenthesisInExpression",
                ),
                Rule::condition => {
                    let msg = format!(
                        "Missing closing ')' after expression in '{}' statement.",
                        keyword()
                    );
                    let open = skip_nl(&self.src.text, open);
                    self.expect_error(at, &msg, "MissingEndParenthesisAfterStatement", open)
                }
                Rule::foreach_stmt => {
                    let msg = "Missing closing ')' after expression in 'foreach' statement.";
                    let open = skip_nl(&self.src.text, open + "foreach".len());
                    self.expect_error(at, msg, "MissingEndParenthesisAfterStatement", open)
                }
                Rule::call_args => self.expect_error(
                    at,
                    "Missing closing ')' in method call.",
                    "MissingEndParenthesisInMethodCall",
                    open,
                ),
                Rule::index => self.expect_error(
                    at,
                    "Missing ']' after array index expression.",
                    "MissingEndSquareBracket",
                    open,
                ),
                Rule::dq_string => self.unclosed(
                    open,
                    1,
                    "The string is missing the terminator: \".",
                    "TerminatorExpectedAtEndOfString",
                ),
                Rule::here_sq | Rule::here_dq => self.unclosed(
                    open,
                    2,
                    "The here-string is missing its terminator: a line that starts with the closing quote and @.",
                    "TerminatorExpectedAtEndOfString",
                ),
                _ => self.unexpected_at(at),
            },
            Rule::e_primary if eof => {
                self.unclosed(len, 1, "An expression was expected.", "ExpectedExpression")
            }
            Rule::e_string => self.unclosed(
                at,
                1,
                "The string is missing the terminator: '.",
                "TerminatorExpectedAtEndOfString",
            ),
            Rule::e_type => {
                // Brackets nest in type names: `[string[]]`.
                let b = self.src.text.as_bytes();
                let mut depth = 0usize;
                let mut i = at + 1;
                loop {
                    match b.get(i) {
                        None => {
                            break self.unclosed(
                                at,
                                1,
                                "Missing ']' at end of type name.",
                                "MissingEndSquareBracket",
                            );
                        }
                        Some(b'[') => depth += 1,
                        Some(b']') if depth > 0 => depth -= 1,
                        Some(&c)
                            if c.is_ascii_alphanumeric()
                                || matches!(c, b'_' | b'.' | b',' | b' ' | b'`' | b'+') => {}
                        Some(_) => break self.err_at(i, "Unexpected character in a type name."),
                    }
                    i += 1;
                }
            }
            Rule::e_unicode => self.err_at(at + 1, "The Unicode escape sequence is not valid."),
            Rule::e_var_brace => self.unclosed(
                at,
                2,
                "Missing closing '}' in variable name.",
                "MissingEndCurlyBrace",
            ),
            Rule::e_dollar => self.err(
                Span::new(at, at + 1),
                "Variable reference is not valid. '$' was not followed by a valid variable name character. Consider using ${} to delimit the name.",
            ),
            Rule::e_block_open => self.expect_error(
                at,
                if eof {
                    "Missing statement block."
                } else {
                    "Missing opening '{' of a statement block."
                },
                "MissingStatementBlock",
                len,
            ),
            Rule::e_function_name if eof => {
                self.unclosed(len, 1, "Missing function name.", "MissingNameAfterKeyword")
            }
            Rule::e_function_name => self.err_at(at, "Missing name after the function keyword."),
            Rule::e_function_body => self.expect_error(
                at,
                "Missing function body in function declaration.",
                "MissingFunctionBody",
                len,
            ),
            Rule::e_params_close => self.expect_error(
                at,
                "Missing ')' in function parameter list.",
                "MissingEndParenthesisInFunctionParameterList",
                len,
            ),
            Rule::e_param_var if eof => self.unclosed(
                len,
                1,
                "Missing ')' in function parameter list.",
                "MissingEndParenthesisInFunctionParameterList",
            ),
            Rule::e_param_var => self.err_at(at, "Missing variable name in the parameter list."),
            Rule::e_cond_open => self.expect_error(
                at,
                &format!("Missing '(' after '{}'.", keyword()),
                "MissingOpenParenthesisAfterKeyword",
                len,
            ),
            Rule::e_cond_empty => self.err_at(
                at,
                format!(
                    "Missing condition in the '{}' statement after '('.",
                    keyword()
                ),
            ),
            Rule::e_label => self.err_at(
                at,
                "A loop label must be followed by a loop or a switch statement.",
            ),
            Rule::e_foreach_open => self.expect_error(
                at,
                "Missing opening '(' after keyword 'foreach'.",
                "MissingOpenParenthesisAfterKeyword",
                len,
            ),
            Rule::e_foreach_var => self.err_at(at, "Missing variable name after foreach."),
            Rule::e_foreach_in => self.expect_error(
                at,
                "Missing 'in' after variable in foreach loop.",
                "MissingInInForeach",
                len,
            ),
            Rule::e_for_open => self.expect_error(
                at,
                "Missing opening '(' after keyword 'for'.",
                "MissingOpenParenthesisAfterKeyword",
                len,
            ),
            Rule::e_for_sep if eof => self.unclosed(
                len,
                1,
                "Missing closing ')' after expression in 'for' statement.",
                "MissingEndParenthesisAfterStatement",
            ),
            Rule::e_for_close => self.expect_error(
                at,
                "Missing closing ')' after expression in 'for' statement.",
                "MissingEndParenthesisAfterStatement",
                len,
            ),
            Rule::e_do_keyword => self.expect_error(
                at,
                "Missing while or until keyword in do loop.",
                "MissingWhileOrUntilInDoWhile",
                len,
            ),
            Rule::e_switch_open => self.expect_error(
                at,
                "Missing '{' in switch statement.",
                "MissingCurlyBraceInSwitchStatement",
                len,
            ),
            Rule::e_try if eof => self.unclosed(
                len,
                1,
                "The Try statement is missing its Catch or Finally block.",
                "MissingCatchOrFinally",
            ),
            Rule::e_try => self.err(
                Span::new(open, at),
                "The Try statement is missing its Catch or Finally block.",
            ),
            Rule::e_flow_label => self.err_at(at, "A break or continue label must be a plain word."),
            Rule::e_assign_value => self.expect_error(
                if eof { len } else { prev_start },
                "You must provide a value expression following the '=' operator.",
                "ExpectedValueExpression",
                prev_start,
            ),
            Rule::e_empty_pipe => self.expect_error(
                if eof { len } else { prev_start },
                "An empty pipe element is not allowed.",
                "EmptyPipeElement",
                prev_start,
            ),
            Rule::e_lead_pipe => ParseError {
                error_id: "EmptyPipeElement",
                ..self.err_at(at, "An empty pipe element is not allowed.")
            },
            Rule::e_pipe_expr => {
                let end = e
                    .clone()
                    .into_inner()
                    .next()
                    .and_then(|x| self.expression(x).ok())
                    .map(|x| x.span.end as usize)
                    .unwrap_or(at);
                self.err(
                    Span::new(at, end),
                    "Expressions are only allowed as the first element of a pipeline.",
                )
            }
            Rule::e_param_arg => {
                let name = prev.map(|p| p.as_str()).unwrap_or("");
                self.err_at(
                    at,
                    format!("Missing an argument for parameter '{name}' after ':'."),
                )
            }
            Rule::e_arg_comma => self.expect_error(
                at,
                "Missing argument in parameter list.",
                "MissingArgument",
                at,
            ),
            Rule::e_redir_file => self.expect_error(
                if eof { len } else { open },
                "Missing file specification after redirection operator.",
                "MissingFileSpecification",
                open,
            ),
            Rule::e_after_op if eof => self.unclosed(
                prev_start,
                1,
                "You must provide a value expression following the operator.",
                "ExpectedValueExpression",
            ),
            Rule::e_after_op => ParseError {
                error_id: "ExpectedValueExpression",
                ..self.err_at(
                    prev_start,
                    format!(
                        "You must provide a value expression following the '{}' operator.",
                        prev.map(|p| p.as_str()).unwrap_or("")
                    ),
                )
            },
            Rule::e_ternary_value => {
                // The `?` or `:` the missing value should follow.
                let before = self.src.text[..at].trim_end();
                let op_at = before.len().saturating_sub(1);
                let op = &before[op_at..];
                if eof {
                    self.unclosed(
                        op_at,
                        1,
                        &format!("You must provide a value expression following the '{op}' operator."),
                        "ExpectedValueExpression",
                    )
                } else {
                    self.err_at(
                        at,
                        format!("You must provide a value expression following the '{op}' operator."),
                    )
                }
            }
            Rule::e_using => self.expect_error(
                at,
                "A using statement is 'using namespace <name>' (lyncsh also reads 'using module' and 'using assembly', to refuse them).",
                "UsingStatementSyntax",
                len,
            ),
            Rule::e_after_chain => self.expect_error(
                at,
                &format!(
                    "Missing expression after '{}' in pipeline chain.",
                    prev.map(|p| p.as_str()).unwrap_or("&&")
                ),
                "MissingExpressionAfterToken",
                prev_start,
            ),
            Rule::e_ternary_colon => self.expect_error(
                at,
                "Missing ':' between the two values of the ternary expression.",
                "MissingColonInTernaryExpression",
                self.src.text.trim_end().len(),
            ),
            Rule::e_after_comma => self.expect_error(
                at,
                "Missing expression after ','.",
                "MissingExpressionAfterToken",
                at,
            ),
            Rule::e_member_name => {
                self.err_at(at, "Missing property name after reference operator.")
            }
            Rule::e_index_empty => {
                self.err_at(at, "Array index expression is missing or not valid.")
            }
            Rule::e_hash_equals => self.expect_error(
                at,
                "Missing '=' operator after key in hash literal.",
                "MissingEqualsInHashLiteral",
                len,
            ),
            Rule::e_hash_value => self.expect_error(
                at,
                "Missing statement after '=' in hash literal.",
                "MissingStatementInHashLiteral",
                len,
            ),
            Rule::e_attr_sep | Rule::e_attr_close if eof => self.unclosed(
                open,
                1,
                "Missing ')' in attribute.",
                "MissingEndParenthesisInAttribute",
            ),
            Rule::e_attr_bracket => self.expect_error(
                at,
                "Missing ']' after attribute.",
                "MissingEndSquareBracket",
                open,
            ),
            Rule::e_here_header if eof => self.unclosed(
                open,
                1,
                "The here-string is missing its terminator.",
                "TerminatorExpectedAtEndOfString",
            ),
            Rule::e_here_header => self.err_at(
                at,
                "No characters are allowed after a here-string header but before the end of the line.",
            ),
            _ => self.unexpected_at(at),
        }
    }
}

/// The offset after blanks, comments and line breaks from `pos`, as the
/// parser skips them.
fn skip_nl(text: &str, mut pos: usize) -> usize {
    let b = text.as_bytes();
    loop {
        match b.get(pos) {
            Some(b' ' | b'\t' | 0x0c | b'\r' | b'\n') => pos += 1,
            Some(b'`') if matches!(b.get(pos + 1), Some(b'\n' | b'\r')) => pos += 2,
            Some(b'#') => {
                while pos < b.len() && !matches!(b[pos], b'\n' | b'\r') {
                    pos += 1;
                }
            }
            Some(b'<') if b.get(pos + 1) == Some(&b'#') => match text[pos + 2..].find("#>") {
                Some(e) => pos += e + 4,
                None => pos = b.len(),
            },
            Some(0xc2) if b.get(pos + 1) == Some(&0xa0) => pos += 2,
            _ => return pos,
        }
    }
}
