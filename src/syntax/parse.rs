//! pest pairs → AST. The grammar gives flat operator lists; binary
//! precedence is applied here by precedence climbing.

use std::rc::Rc;

use pest::Parser;
use pest::iterators::{Pair, Pairs};

use super::ast::*;
use super::error::ParseError;
use super::source::Source;
use crate::runtime::value::Value;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/powershell.pest"]
struct PsParser;

/// Deeper nesting than this is refused before pest sees it: the parser and
/// the evaluator recurse, and a script nested a thousand levels deep is an
/// attack or a mistake, not a script.
pub const MAX_NESTING: usize = 128;

/// Parses a whole script.
pub fn parse_script(source: Rc<Source>) -> Result<Rc<ScriptBlockAst>, ParseError> {
    if std::env::var_os("LYNCSH_PEST").is_none() {
        return super::parser::parse_script(source);
    }
    check_nesting(&source)?;
    let pairs = PsParser::parse(Rule::program, &source.text)
        .map_err(|e| ParseError::from_pest(&source, e))?;
    let program = first(pairs, &source)?;
    let span = span_of(&program);
    let body = program
        .into_inner()
        .find(|p| p.as_rule() == Rule::script_body)
        .ok_or_else(|| ParseError::internal(&source, span))?;
    Builder { source: &source }.script_body(body, span)
}

fn first<'i>(
    mut pairs: Pairs<'i, Rule>,
    source: &Rc<Source>,
) -> Result<Pair<'i, Rule>, ParseError> {
    pairs
        .next()
        .ok_or_else(|| ParseError::internal(source, Span::default()))
}

/// Counts bracket depth outside strings and comments (roughly: it only has to
/// stop runaway nesting, not to be exact).
fn check_nesting(source: &Rc<Source>) -> Result<(), ParseError> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut chars = source.text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if let Some(q) = quote {
            if c == '`' && q == '"' {
                chars.next();
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '<' if chars.peek().map(|p| p.1) == Some('#') => {
                // Block comment: skip to `#>`.
                let mut prev = ' ';
                for (_, c2) in chars.by_ref() {
                    if prev == '#' && c2 == '>' {
                        break;
                    }
                    prev = c2;
                }
            }
            '#' => {
                for (_, c2) in chars.by_ref() {
                    if c2 == '\n' {
                        break;
                    }
                }
            }
            '`' => {
                chars.next();
            }
            '(' | '{' | '[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(ParseError::too_deep(source, i));
                }
            }
            ')' | '}' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn span_of(p: &Pair<Rule>) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.end())
}

struct Builder<'s> {
    source: &'s Rc<Source>,
}

type R<T> = Result<T, ParseError>;

impl Builder<'_> {
    fn err(&self, span: Span, msg: impl Into<String>) -> ParseError {
        ParseError::at(self.source, span, msg.into())
    }

    // ------------------------------------------------------------ blocks

    fn script_body(&self, body: Pair<Rule>, span: Span) -> R<Rc<ScriptBlockAst>> {
        let mut ast = ScriptBlockAst {
            source: self.source.clone(),
            span,
            cmdlet_binding: false,
            params: None,
            begin: None,
            process: None,
            end: None,
        };
        for p in body.into_inner() {
            match p.as_rule() {
                Rule::attribute_list => {
                    for attr in p.into_inner() {
                        let name = attr
                            .clone()
                            .into_inner()
                            .next()
                            .map(|n| n.as_str().to_ascii_lowercase());
                        if name.as_deref() == Some("cmdletbinding") {
                            ast.cmdlet_binding = true;
                        }
                    }
                }
                Rule::param_block => {
                    let list = p
                        .into_inner()
                        .find(|x| x.as_rule() == Rule::param_list)
                        .ok_or_else(|| ParseError::internal(self.source, span))?;
                    let (params, advanced) = self.param_list(list)?;
                    ast.cmdlet_binding |= advanced;
                    ast.params = Some(params);
                }
                Rule::named_blocks => {
                    for nb in p.into_inner() {
                        let nb_span = span_of(&nb);
                        let mut inner = nb.into_inner();
                        let kind = inner
                            .next()
                            .map(|k| k.as_str().to_ascii_lowercase())
                            .unwrap_or_default();
                        let block = match inner.next() {
                            Some(b) => self.block(b)?,
                            None => return Err(ParseError::internal(self.source, nb_span)),
                        };
                        match kind.as_str() {
                            "begin" => ast.begin = Some(block),
                            "process" => ast.process = Some(block),
                            "end" => ast.end = Some(block),
                            _ => {} // dynamicparam is accepted and ignored
                        }
                    }
                }
                Rule::statements => ast.end = Some(self.statements(p)?),
                _ => {}
            }
        }
        Ok(Rc::new(ast))
    }

    fn block(&self, p: Pair<Rule>) -> R<Block> {
        match p.into_inner().find(|x| x.as_rule() == Rule::statements) {
            Some(s) => self.statements(s),
            None => Ok(Rc::from(Vec::new())),
        }
    }

    fn statements(&self, p: Pair<Rule>) -> R<Block> {
        let mut out = Vec::new();
        for s in p.into_inner() {
            out.push(self.statement(s)?);
        }
        Ok(Rc::from(out))
    }

    fn param_list(&self, p: Pair<Rule>) -> R<(Vec<ParamDecl>, bool)> {
        let mut params = Vec::new();
        let mut advanced = false;
        for decl in p.into_inner() {
            let span = span_of(&decl);
            let mut pd = ParamDecl {
                name: VarRef {
                    key: Rc::from(""),
                    name: Rc::from(""),
                    scope: VarScope::Any,
                    special: None,
                    span,
                },
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
                span,
            };
            for part in decl.into_inner() {
                match part.as_rule() {
                    Rule::type_literal => pd.type_name = Some(self.type_literal(part)),
                    Rule::attribute => advanced |= self.param_attribute(part, &mut pd)?,
                    Rule::variable => pd.name = self.variable(part)?,
                    Rule::expression | Rule::arg_expr => pd.default = Some(self.expression(part)?),
                    _ => {}
                }
            }
            params.push(pd);
        }
        Ok((params, advanced))
    }

    /// Reads `[Parameter(...)]`, `[Validate*(...)]`, `[Alias(...)]`. Returns
    /// whether the attribute makes the function advanced.
    fn param_attribute(&self, p: Pair<Rule>, pd: &mut ParamDecl) -> R<bool> {
        let mut inner = p.into_inner();
        let name = inner
            .next()
            .map(|n| n.as_str().to_ascii_lowercase())
            .unwrap_or_default();
        let name = name
            .strip_prefix("system.management.automation.")
            .unwrap_or(&name);
        let name = name.strip_suffix("attribute").unwrap_or(name);
        let mut positional: Vec<Expr> = Vec::new();
        let mut named: Vec<(String, Option<Expr>)> = Vec::new();
        for arg in inner {
            let Some(a) = arg.into_inner().next() else {
                continue;
            };
            match a.as_rule() {
                Rule::attr_named => {
                    let mut it = a.into_inner();
                    let key = it
                        .next()
                        .map(|k| k.as_str().to_ascii_lowercase())
                        .unwrap_or_default();
                    let value = match it.next() {
                        Some(v) => Some(self.expression(v)?),
                        None => None,
                    };
                    named.push((key, value));
                }
                _ => positional.push(self.expression(a)?),
            }
        }
        let truthy = |e: &Option<Expr>| match e {
            None => true,
            Some(Expr {
                kind: ExprKind::Const(v),
                ..
            }) => v.is_true(),
            Some(_) => true,
        };
        match name {
            "parameter" => {
                for (key, value) in &named {
                    match key.as_str() {
                        "mandatory" => pd.mandatory = truthy(value),
                        "valuefrompipeline" => pd.from_pipeline = truthy(value),
                        "valuefrompipelinebypropertyname" => {
                            pd.from_pipeline_by_name = truthy(value)
                        }
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
                Ok(true)
            }
            "alias" => {
                for e in positional {
                    pd.aliases.extend(const_strings(&e));
                }
                Ok(false)
            }
            "validateset" => {
                let mut set = Vec::new();
                for e in positional {
                    set.extend(const_strings(&e));
                }
                pd.validate_set = Some(set);
                Ok(false)
            }
            "validaterange" => {
                let mut it = positional.into_iter();
                if let (Some(lo), Some(hi)) = (it.next(), it.next()) {
                    pd.validate_range = Some((lo, hi));
                }
                Ok(false)
            }
            "validatenotnullorempty" | "validatenotnull" => {
                pd.validate_not_null_or_empty = true;
                Ok(false)
            }
            "validatepattern" => {
                pd.validate_pattern = positional.first().and_then(|e| const_strings(e).pop());
                Ok(false)
            }
            "validatescript" => {
                if let Some(Expr {
                    kind: ExprKind::ScriptBlock(sb),
                    ..
                }) = positional.into_iter().next()
                {
                    pd.validate_script = Some(sb);
                }
                Ok(false)
            }
            _ => Ok(false),
        }
    }

    // ------------------------------------------------------------ statements

    fn statement(&self, p: Pair<Rule>) -> R<Stmt> {
        let span = span_of(&p);
        match p.as_rule() {
            Rule::pipeline => Ok(Stmt::Pipeline(self.pipeline(p)?)),
            Rule::assignment => self.assignment(p),
            Rule::if_stmt => self.if_stmt(p),
            Rule::labeled_loop => {
                let mut inner = p.into_inner();
                let label = inner
                    .next()
                    .map(|l| Rc::from(l.as_str()[1..].to_ascii_lowercase()));
                let stmt = inner
                    .next()
                    .ok_or_else(|| ParseError::internal(self.source, span))?;
                self.loop_stmt(stmt, label)
            }
            Rule::foreach_stmt
            | Rule::for_stmt
            | Rule::while_stmt
            | Rule::do_stmt
            | Rule::switch_stmt => self.loop_stmt(p, None),
            Rule::try_stmt => self.try_stmt(p),
            Rule::trap_stmt => {
                let mut type_name = None;
                let mut body = None;
                for x in p.into_inner() {
                    match x.as_rule() {
                        Rule::type_literal => type_name = Some(self.type_literal(x)),
                        Rule::block => body = Some(self.block(x)?),
                        _ => {}
                    }
                }
                Ok(Stmt::Trap(Box::new(Trap {
                    type_name,
                    body: body.ok_or_else(|| ParseError::internal(self.source, span))?,
                    span,
                })))
            }
            Rule::function_def => self.function_def(p),
            Rule::flow_stmt => self.flow_stmt(p),
            _ => Err(self.err(span, "Unexpected token in statement.")),
        }
    }

    fn function_def(&self, p: Pair<Rule>) -> R<Stmt> {
        let span = span_of(&p);
        let mut is_filter = false;
        let mut name: Rc<str> = Rc::from("");
        let mut params = None;
        let mut body = None;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::function_kw => is_filter = x.as_str().eq_ignore_ascii_case("filter"),
                Rule::function_name => {
                    let n = x.as_str();
                    // `function global:foo` defines foo in the global scope;
                    // lyncsh keeps one function table per scope, so the
                    // prefix is accepted and dropped.
                    let n = n
                        .split_once(':')
                        .filter(|(s, _)| {
                            ["global", "script", "local", "private"]
                                .iter()
                                .any(|k| s.eq_ignore_ascii_case(k))
                        })
                        .map(|(_, n)| n)
                        .unwrap_or(n);
                    name = Rc::from(n);
                }
                Rule::function_params => {
                    if let Some(list) = x.into_inner().next() {
                        params = Some(self.param_list(list)?);
                    }
                }
                Rule::function_body => {
                    let bspan = span_of(&x);
                    let inner = x
                        .into_inner()
                        .next()
                        .ok_or_else(|| ParseError::internal(self.source, bspan))?;
                    body = Some(self.script_body(inner, bspan)?);
                }
                _ => {}
            }
        }
        let mut body = body.ok_or_else(|| ParseError::internal(self.source, span))?;
        if let Some((list, advanced)) = params {
            let b =
                Rc::get_mut(&mut body).ok_or_else(|| ParseError::internal(self.source, span))?;
            if b.params.is_some() {
                return Err(self.err(
                    span,
                    "A function cannot declare parameters both in its name line and in a param() block.",
                ));
            }
            b.params = Some(list);
            b.cmdlet_binding |= advanced;
        }
        if is_filter {
            // A filter's body runs once per input object.
            if let Some(b) = Rc::get_mut(&mut body)
                && b.process.is_none()
                && b.begin.is_none()
            {
                b.process = b.end.take();
            }
        }
        Ok(Stmt::Function(Rc::new(FunctionDef {
            name,
            is_filter,
            body,
            span,
        })))
    }

    fn flow_stmt(&self, p: Pair<Rule>) -> R<Stmt> {
        let span = span_of(&p);
        let mut kind = FlowKind::Return;
        let mut label = None;
        let mut value = None;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::flow_kw => {
                    kind = match x.as_str().to_ascii_lowercase().as_str() {
                        "break" => FlowKind::Break,
                        "continue" => FlowKind::Continue,
                        "return" => FlowKind::Return,
                        "exit" => FlowKind::Exit,
                        _ => FlowKind::Throw,
                    }
                }
                Rule::flow_arg => {
                    for a in x.into_inner() {
                        match a.as_rule() {
                            Rule::label_word => {
                                if matches!(kind, FlowKind::Break | FlowKind::Continue) {
                                    label = Some(Rc::from(a.as_str().to_ascii_lowercase()));
                                } else {
                                    // `throw Oops` / `return word`: a bare string.
                                    let s = span_of(&a);
                                    value = Some(Pipeline {
                                        elements: vec![PipeElement::Expr {
                                            expr: Expr {
                                                kind: ExprKind::Const(Value::from(a.as_str())),
                                                span: s,
                                            },
                                            redirs: Vec::new(),
                                        }],
                                        span: s,
                                    });
                                }
                            }
                            Rule::pipeline => {
                                if matches!(kind, FlowKind::Break | FlowKind::Continue) {
                                    return Err(self.err(
                                        span_of(&a),
                                        "A break or continue label must be a plain word.",
                                    ));
                                }
                                value = Some(self.pipeline(a)?)
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(Stmt::Flow(Box::new(FlowStmt {
            kind,
            label,
            value,
            span,
        })))
    }

    fn cond(&self, p: Pair<Rule>) -> R<Stmt> {
        let span = span_of(&p);
        let inner = p
            .into_inner()
            .next()
            .ok_or_else(|| self.err(span, "Missing condition inside the parentheses."))?;
        self.statement(inner)
    }

    fn if_stmt(&self, p: Pair<Rule>) -> R<Stmt> {
        let span = span_of(&p);
        let mut clauses = Vec::new();
        let mut else_block = None;
        let mut cond = None;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::cond => cond = Some(self.cond(x)?),
                Rule::block => {
                    if let Some(c) = cond.take() {
                        clauses.push((c, self.block(x)?));
                    }
                }
                Rule::elseif_clause => {
                    let mut c = None;
                    for y in x.into_inner() {
                        match y.as_rule() {
                            Rule::cond => c = Some(self.cond(y)?),
                            Rule::block => {
                                if let Some(c) = c.take() {
                                    clauses.push((c, self.block(y)?));
                                }
                            }
                            _ => {}
                        }
                    }
                }
                Rule::else_clause => {
                    if let Some(b) = x.into_inner().find(|y| y.as_rule() == Rule::block) {
                        else_block = Some(self.block(b)?);
                    }
                }
                _ => {}
            }
        }
        Ok(Stmt::If(Box::new(If {
            clauses,
            else_block,
            span,
        })))
    }

    fn loop_stmt(&self, p: Pair<Rule>, label: Option<Rc<str>>) -> R<Stmt> {
        let span = span_of(&p);
        let rule = p.as_rule();
        let missing = || ParseError::internal(self.source, span);
        match rule {
            Rule::foreach_stmt => {
                let mut var = None;
                let mut source = None;
                let mut body = None;
                for x in p.into_inner() {
                    match x.as_rule() {
                        Rule::variable => var = Some(self.variable(x)?),
                        Rule::block => body = Some(self.block(x)?),
                        Rule::kw_foreach | Rule::kw_in => {}
                        _ => source = Some(self.statement(x)?),
                    }
                }
                Ok(Stmt::Foreach(Box::new(Foreach {
                    label,
                    var: var.ok_or_else(missing)?,
                    source: source.ok_or_else(missing)?,
                    body: body.ok_or_else(missing)?,
                    span,
                })))
            }
            Rule::for_stmt => {
                let mut init = None;
                let mut cond = None;
                let mut iter = None;
                let mut body = None;
                for x in p.into_inner() {
                    let rule = x.as_rule();
                    if rule == Rule::block {
                        body = Some(self.block(x)?);
                        continue;
                    }
                    let part = match x.into_inner().next() {
                        Some(s) => Some(self.statement(s)?),
                        None => None,
                    };
                    match rule {
                        Rule::for_init => init = part,
                        Rule::for_cond => cond = part,
                        Rule::for_iter => iter = part,
                        _ => {}
                    }
                }
                Ok(Stmt::For(Box::new(For {
                    label,
                    init,
                    cond,
                    iter,
                    body: body.ok_or_else(missing)?,
                    span,
                })))
            }
            Rule::while_stmt => {
                let mut cond = None;
                let mut body = None;
                for x in p.into_inner() {
                    match x.as_rule() {
                        Rule::cond => cond = Some(self.cond(x)?),
                        Rule::block => body = Some(self.block(x)?),
                        _ => {}
                    }
                }
                Ok(Stmt::While(Box::new(While {
                    label,
                    cond: cond.ok_or_else(missing)?,
                    body: body.ok_or_else(missing)?,
                    span,
                })))
            }
            Rule::do_stmt => {
                let mut cond = None;
                let mut body = None;
                let mut until = false;
                for x in p.into_inner() {
                    match x.as_rule() {
                        Rule::cond => cond = Some(self.cond(x)?),
                        Rule::block => body = Some(self.block(x)?),
                        Rule::do_kind => until = x.as_str().eq_ignore_ascii_case("until"),
                        _ => {}
                    }
                }
                Ok(Stmt::DoLoop(Box::new(DoLoop {
                    label,
                    body: body.ok_or_else(missing)?,
                    cond: cond.ok_or_else(missing)?,
                    until,
                    span,
                })))
            }
            Rule::switch_stmt => self.switch_stmt(p, label),
            _ => Err(missing()),
        }
    }

    fn switch_stmt(&self, p: Pair<Rule>, label: Option<Rc<str>>) -> R<Stmt> {
        let span = span_of(&p);
        let mut flags = SwitchFlags::default();
        let mut subject = None;
        let mut clauses = Vec::new();
        let mut default = None;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::switch_flag => match x.as_str()[1..].to_ascii_lowercase().as_str() {
                    "regex" => flags.regex = true,
                    "wildcard" => flags.wildcard = true,
                    "exact" => flags.exact = true,
                    "casesensitive" => flags.case_sensitive = true,
                    other => {
                        return Err(self.err(
                            span_of(&x),
                            format!("The switch option -{other} is not supported."),
                        ));
                    }
                },
                Rule::switch_subject => {
                    if let Some(s) = x.into_inner().next() {
                        subject = Some(self.statement(s)?);
                    }
                }
                Rule::switch_clause => {
                    let mut it = x.into_inner();
                    let (Some(pat), Some(body)) = (it.next(), it.next()) else {
                        continue;
                    };
                    let body = self.block(body)?;
                    let pspan = span_of(&pat);
                    let Some(pat) = pat.into_inner().next() else {
                        continue;
                    };
                    match pat.as_rule() {
                        Rule::switch_default => default = Some(body),
                        Rule::block => {
                            let sb = self.script_block_from_block(pat)?;
                            clauses.push(SwitchClause {
                                pattern: Expr {
                                    kind: ExprKind::ScriptBlock(sb),
                                    span: pspan,
                                },
                                body,
                            });
                        }
                        Rule::bare_word => clauses.push(SwitchClause {
                            pattern: Expr {
                                kind: ExprKind::Const(Value::from(pat.as_str())),
                                span: pspan,
                            },
                            body,
                        }),
                        _ => clauses.push(SwitchClause {
                            pattern: self.postfix_expr(pat)?,
                            body,
                        }),
                    }
                }
                _ => {}
            }
        }
        Ok(Stmt::Switch(Box::new(Switch {
            label,
            flags,
            subject: subject.ok_or_else(|| self.err(span, "Missing switch subject."))?,
            clauses,
            default,
            span,
        })))
    }

    fn script_block_from_block(&self, p: Pair<Rule>) -> R<Rc<ScriptBlockAst>> {
        let span = span_of(&p);
        let end = self.block(p)?;
        Ok(Rc::new(ScriptBlockAst {
            source: self.source.clone(),
            span,
            cmdlet_binding: false,
            params: None,
            begin: None,
            process: None,
            end: Some(end),
        }))
    }

    fn try_stmt(&self, p: Pair<Rule>) -> R<Stmt> {
        let span = span_of(&p);
        let mut body = None;
        let mut catches = Vec::new();
        let mut finally = None;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::block => body = Some(self.block(x)?),
                Rule::catch_clause => {
                    let mut types = Vec::new();
                    let mut cbody = None;
                    for y in x.into_inner() {
                        match y.as_rule() {
                            Rule::type_literal => types.push(self.type_literal(y)),
                            Rule::block => cbody = Some(self.block(y)?),
                            _ => {}
                        }
                    }
                    catches.push(Catch {
                        types,
                        body: cbody.ok_or_else(|| ParseError::internal(self.source, span))?,
                    });
                }
                Rule::finally_clause => {
                    if let Some(b) = x.into_inner().find(|y| y.as_rule() == Rule::block) {
                        finally = Some(self.block(b)?);
                    }
                }
                _ => {}
            }
        }
        if catches.is_empty() && finally.is_none() {
            return Err(self.err(
                span,
                "The Try statement is missing its Catch or Finally block.",
            ));
        }
        Ok(Stmt::Try(Box::new(Try {
            body: body.ok_or_else(|| ParseError::internal(self.source, span))?,
            catches,
            finally,
            span,
        })))
    }

    fn assignment(&self, p: Pair<Rule>) -> R<Stmt> {
        let span = span_of(&p);
        let mut targets = Vec::new();
        let mut op = AssignOp::Set;
        let mut value = None;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::assign_targets => {
                    for t in x.into_inner() {
                        targets.push(self.assign_target(t)?);
                    }
                }
                Rule::assign_op => {
                    op = match x.as_str() {
                        "=" => AssignOp::Set,
                        "+=" => AssignOp::Add,
                        "-=" => AssignOp::Sub,
                        "*=" => AssignOp::Mul,
                        "/=" => AssignOp::Div,
                        "%=" => AssignOp::Rem,
                        _ => AssignOp::Coalesce,
                    }
                }
                _ => value = Some(self.statement(x)?),
            }
        }
        if targets.len() > 1 && op != AssignOp::Set {
            return Err(self.err(span, "Only '=' can assign to several variables at once."));
        }
        Ok(Stmt::Assign(Box::new(Assign {
            targets,
            op,
            value: value.ok_or_else(|| {
                self.err(
                    span,
                    "You must provide a value expression following the '=' operator.",
                )
            })?,
            span,
        })))
    }

    fn assign_target(&self, p: Pair<Rule>) -> R<Expr> {
        let span = span_of(&p);
        let mut casts = Vec::new();
        let mut target = None;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::cast_prefix => {
                    if let Some(t) = x.into_inner().next() {
                        casts.push(self.type_literal(t));
                    }
                }
                _ => target = Some(self.postfix_expr(x)?),
            }
        }
        let mut e = target.ok_or_else(|| ParseError::internal(self.source, span))?;
        match &e.kind {
            ExprKind::Var(_) | ExprKind::Member { .. } | ExprKind::Index { .. } => {}
            _ => {
                return Err(self.err(
                    span,
                    "The assignment expression is not valid. The input to an assignment operator must be an object that is able to accept assignments, such as a variable or a property.",
                ));
            }
        }
        for t in casts.into_iter().rev() {
            e = Expr {
                kind: ExprKind::Cast(t, Box::new(e)),
                span,
            };
        }
        Ok(e)
    }

    // ------------------------------------------------------------ pipelines

    fn pipeline(&self, p: Pair<Rule>) -> R<Pipeline> {
        let span = span_of(&p);
        let mut elements = Vec::new();
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::expression_element => {
                    let mut expr = None;
                    let mut redirs = Vec::new();
                    for y in x.into_inner() {
                        match y.as_rule() {
                            Rule::redirection => redirs.push(self.redirection(y)?),
                            _ => expr = Some(self.expression(y)?),
                        }
                    }
                    elements.push(PipeElement::Expr {
                        expr: expr.ok_or_else(|| ParseError::internal(self.source, span))?,
                        redirs,
                    });
                }
                Rule::command => elements.push(PipeElement::Command(Box::new(self.command(x)?))),
                _ => return Err(ParseError::internal(self.source, span_of(&x))),
            }
        }
        Ok(Pipeline { elements, span })
    }

    fn command(&self, p: Pair<Rule>) -> R<CommandCall> {
        let span = span_of(&p);
        let mut invoke = InvokeKind::Plain;
        let mut name = None;
        let mut name_span = span;
        let mut elements = Vec::new();
        let mut redirs = Vec::new();
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::call_op => {
                    invoke = if x.as_str() == "&" {
                        InvokeKind::Call
                    } else {
                        InvokeKind::DotSource
                    }
                }
                Rule::command_name => {
                    name_span = span_of(&x);
                    name = Some(CommandName::Literal(Rc::from(unescape_bare(x.as_str()))));
                }
                Rule::bare_word if name.is_none() => {
                    name_span = span_of(&x);
                    name = Some(CommandName::Literal(Rc::from(unescape_bare(x.as_str()))));
                }
                Rule::parameter => elements.push(self.parameter(x)?),
                Rule::redirection => redirs.push(self.redirection(x)?),
                Rule::stop_parsing => {
                    let rest = x.as_str()[3..].trim();
                    elements.push(CommandElement::Arg(Expr {
                        kind: ExprKind::Const(Value::from(rest)),
                        span: span_of(&x),
                    }));
                }
                Rule::argument => {
                    // `@params` alone splats; `@a, 1` is an ordinary argument.
                    let mut inner = x.clone().into_inner();
                    match (inner.next(), inner.next()) {
                        (Some(sp), None) if sp.as_rule() == Rule::splat => {
                            let v = self.variable_text(sp.as_str(), span_of(&sp))?;
                            elements.push(CommandElement::Splat(v));
                        }
                        _ => elements.push(CommandElement::Arg(self.argument(x)?)),
                    }
                }
                _ if name.is_none() => {
                    name_span = span_of(&x);
                    name = Some(CommandName::Expr(self.primary(x)?));
                }
                _ => return Err(ParseError::internal(self.source, span_of(&x))),
            }
        }
        Ok(CommandCall {
            invoke,
            name: name.ok_or_else(|| ParseError::internal(self.source, span))?,
            elements,
            redirs,
            span,
            name_span,
        })
    }

    fn parameter(&self, p: Pair<Rule>) -> R<CommandElement> {
        let span = span_of(&p);
        let mut name: Rc<str> = Rc::from("");
        let mut value = None;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::param_name => name = Rc::from(x.as_str()),
                Rule::argument_colon => value = Some(self.argument(x)?),
                _ => {}
            }
        }
        Ok(CommandElement::Param { name, value, span })
    }

    /// A command argument: one value, or several joined by commas.
    fn argument(&self, p: Pair<Rule>) -> R<Expr> {
        let span = span_of(&p);
        let mut items = Vec::new();
        for x in p.into_inner() {
            items.push(self.arg_primary(x)?);
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

    fn arg_primary(&self, x: Pair<Rule>) -> R<Expr> {
        let span = span_of(&x);
        match x.as_rule() {
            Rule::arg_postfix => match x.into_inner().next() {
                Some(inner) => self.arg_primary(inner),
                None => Err(self.err(span, "Unexpected token in expression.")),
            },
            Rule::splat => Ok(Expr {
                kind: ExprKind::Bare(Rc::from(x.as_str())),
                span,
            }),
            Rule::bare_word => Ok(Expr {
                kind: ExprKind::Bare(Rc::from(unescape_bare(x.as_str()))),
                span,
            }),
            Rule::expandable_bare => {
                let mut parts = Vec::new();
                for y in x.into_inner() {
                    match y.as_rule() {
                        Rule::bare_piece => {
                            parts.push(StrPart::Lit(Rc::from(unescape_bare(y.as_str()))))
                        }
                        Rule::var_in_word => {
                            if let Some(v) = y.into_inner().next() {
                                parts.push(StrPart::Var(self.variable(v)?));
                            }
                        }
                        Rule::sub_expression => {
                            parts.push(StrPart::Sub(self.sub_statements(y)?));
                        }
                        _ => {}
                    }
                }
                Ok(Expr {
                    kind: ExprKind::Expandable(parts),
                    span,
                })
            }
            _ => self.postfix_expr(x),
        }
    }

    fn redirection(&self, p: Pair<Rule>) -> R<Redirection> {
        let span = span_of(&p);
        let mut op = "";
        let mut target = None;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::redir_op => op = x.as_str(),
                Rule::redir_target => {
                    if let Some(t) = x.into_inner().next() {
                        target = Some(match t.as_rule() {
                            Rule::bare_word => Expr {
                                kind: ExprKind::Const(Value::from(unescape_bare(t.as_str()))),
                                span: span_of(&t),
                            },
                            _ => self.postfix_or_primary(t)?,
                        });
                    }
                }
                _ => {}
            }
        }
        let (stream_ch, rest) = match op.chars().next() {
            Some(c) if c == '*' || c.is_ascii_digit() => (Some(c), &op[1..]),
            _ => (None, op),
        };
        let from = match stream_ch {
            None | Some('1') => RedirStream::Output,
            Some('2') => RedirStream::Error,
            Some('3') => RedirStream::Warning,
            Some('4') => RedirStream::Verbose,
            Some('5') => RedirStream::Debug,
            Some('6') => RedirStream::Information,
            Some('*') => RedirStream::All,
            Some(c) => {
                return Err(self.err(span, format!("The redirection stream '{c}' is not valid.")));
            }
        };
        let to = match rest {
            ">&1" => RedirTarget::Merge,
            ">&2" => {
                return Err(self.err(
                    span,
                    "Redirecting into the error stream is not supported; only '>&1' can merge streams.",
                ));
            }
            ">>" | ">" => RedirTarget::File {
                path: target.ok_or_else(|| {
                    self.err(
                        span,
                        "Missing file specification after redirection operator.",
                    )
                })?,
                append: rest == ">>",
            },
            _ => return Err(self.err(span, "The redirection operator is not valid.")),
        };
        Ok(Redirection { from, to, span })
    }

    // ------------------------------------------------------------ expressions

    /// `expression` and `arg_expr`: a flat list of operands and operators.
    fn expression(&self, p: Pair<Rule>) -> R<Expr> {
        match p.as_rule() {
            Rule::expression | Rule::arg_expr => {
                let mut operands = Vec::new();
                let mut ops = Vec::new();
                for x in p.into_inner() {
                    match x.as_rule() {
                        Rule::binop => ops.push((self.binop(x.as_str()), span_of(&x))),
                        Rule::array_expr => operands.push(self.array_expr(x)?),
                        Rule::unary_expr => operands.push(self.unary_expr(x)?),
                        _ => return Err(ParseError::internal(self.source, span_of(&x))),
                    }
                }
                let mut operands = operands.into_iter();
                let mut ops = ops.into_iter().peekable();
                let first = operands
                    .next()
                    .ok_or_else(|| ParseError::internal(self.source, Span::default()))?;
                climb(first, 0, &mut operands, &mut ops)
            }
            Rule::array_expr => self.array_expr(p),
            Rule::unary_expr => self.unary_expr(p),
            _ => self.postfix_or_primary(p),
        }
    }

    fn binop(&self, s: &str) -> BinOp {
        if s.len() > 1 && s.starts_with('-') {
            let lower = s[1..].to_ascii_lowercase();
            let (case, name) = match lower.as_bytes().first() {
                Some(b'c')
                    if cmp_name(&lower[1..]).is_some()
                        || matches!(&lower[1..], "replace" | "split") =>
                {
                    (Case::Sensitive, &lower[1..])
                }
                Some(b'i')
                    if cmp_name(&lower[1..]).is_some()
                        || matches!(&lower[1..], "replace" | "split") =>
                {
                    (Case::Insensitive, &lower[1..])
                }
                _ => (Case::Default, lower.as_str()),
            };
            if let Some(op) = cmp_name(name) {
                return BinOp::Cmp(op, case);
            }
            return match name {
                "replace" => BinOp::Replace(case),
                "split" => BinOp::Split(case),
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
                _ => BinOp::Format,
            };
        }
        match s {
            ".." => BinOp::Range,
            "+" => BinOp::Add,
            "-" => BinOp::Sub,
            "*" => BinOp::Mul,
            "/" => BinOp::Div,
            "%" => BinOp::Rem,
            _ => BinOp::Coalesce,
        }
    }

    fn array_expr(&self, p: Pair<Rule>) -> R<Expr> {
        let span = span_of(&p);
        let mut items = Vec::new();
        for x in p.into_inner() {
            items.push(self.unary_expr(x)?);
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

    fn unary_expr(&self, p: Pair<Rule>) -> R<Expr> {
        let span = span_of(&p);
        let mut prefixes = Vec::new();
        let mut operand = None;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::postfix_expr => operand = Some(self.postfix_expr(x)?),
                _ => prefixes.push(x),
            }
        }
        let mut e = operand.ok_or_else(|| ParseError::internal(self.source, span))?;
        for pre in prefixes.into_iter().rev() {
            let pspan = span_of(&pre).to(e.span);
            let kind = match pre.as_rule() {
                Rule::cast_prefix => {
                    let t = pre
                        .into_inner()
                        .next()
                        .ok_or_else(|| ParseError::internal(self.source, pspan))?;
                    ExprKind::Cast(self.type_literal(t), Box::new(e))
                }
                Rule::incr_op => ExprKind::Step {
                    target: Box::new(e),
                    delta: if pre.as_str() == "++" { 1 } else { -1 },
                    post: false,
                },
                Rule::comma_prefix => ExprKind::Unary(UnaryOp::Comma, Box::new(e)),
                Rule::bang_op => ExprKind::Unary(UnaryOp::Not, Box::new(e)),
                Rule::unary_dash_op => {
                    if pre.as_str() == "+" {
                        ExprKind::Unary(UnaryOp::Plus, Box::new(e))
                    } else if let ExprKind::Const(v) = &e.kind
                        && let Some(neg) = negate_literal(v)
                    {
                        // `-5` is a literal, so `[int]::MinValue`-style edge
                        // values keep their type.
                        ExprKind::Const(neg)
                    } else {
                        ExprKind::Unary(UnaryOp::Neg, Box::new(e))
                    }
                }
                _ => {
                    let op = match pre.as_str().to_ascii_lowercase().as_str() {
                        "-not" => UnaryOp::Not,
                        "-bnot" => UnaryOp::BNot,
                        "-split" => UnaryOp::Split,
                        _ => UnaryOp::Join,
                    };
                    ExprKind::Unary(op, Box::new(e))
                }
            };
            e = Expr { kind, span: pspan };
        }
        Ok(e)
    }

    fn postfix_or_primary(&self, p: Pair<Rule>) -> R<Expr> {
        match p.as_rule() {
            Rule::postfix_expr => self.postfix_expr(p),
            _ => self.primary(p),
        }
    }

    fn postfix_expr(&self, p: Pair<Rule>) -> R<Expr> {
        if p.as_rule() != Rule::postfix_expr {
            return self.primary(p);
        }
        let mut inner = p.into_inner();
        let first = first(inner.clone(), self.source)?;
        inner.next();
        let mut e = self.primary(first)?;
        for post in inner {
            let pspan = span_of(&post);
            let span = e.span.to(pspan);
            let kind = match post.as_rule() {
                Rule::member_access => {
                    let name = self.member_name(post)?;
                    ExprKind::Member {
                        target: Box::new(e),
                        name: Box::new(name),
                        is_static: false,
                    }
                }
                Rule::member_call | Rule::static_member => {
                    let is_static = post.as_rule() == Rule::static_member;
                    let mut name = None;
                    let mut args = None;
                    for y in post.into_inner() {
                        match y.as_rule() {
                            Rule::member_name => name = Some(self.member_name_inner(y)?),
                            Rule::call_args => {
                                let mut a = Vec::new();
                                for z in y.into_inner() {
                                    a.push(self.expression(z)?);
                                }
                                args = Some(a);
                            }
                            _ => {}
                        }
                    }
                    let name = name.ok_or_else(|| ParseError::internal(self.source, pspan))?;
                    match args {
                        Some(args) => ExprKind::Invoke {
                            target: Box::new(e),
                            name: Box::new(name),
                            args,
                            is_static,
                        },
                        None => ExprKind::Member {
                            target: Box::new(e),
                            name: Box::new(name),
                            is_static,
                        },
                    }
                }
                Rule::index_access => {
                    let idx = post.into_inner().next().ok_or_else(|| {
                        self.err(pspan, "Array index expression is missing or not valid.")
                    })?;
                    ExprKind::Index {
                        target: Box::new(e),
                        index: Box::new(self.statement(idx)?),
                    }
                }
                Rule::post_incr => ExprKind::Step {
                    target: Box::new(e),
                    delta: if post.as_str() == "++" { 1 } else { -1 },
                    post: true,
                },
                _ => return Err(ParseError::internal(self.source, pspan)),
            };
            e = Expr { kind, span };
        }
        Ok(e)
    }

    fn member_name(&self, p: Pair<Rule>) -> R<MemberName> {
        let span = span_of(&p);
        let inner = p
            .into_inner()
            .find(|x| x.as_rule() == Rule::member_name)
            .ok_or_else(|| ParseError::internal(self.source, span))?;
        self.member_name_inner(inner)
    }

    fn member_name_inner(&self, p: Pair<Rule>) -> R<MemberName> {
        let span = span_of(&p);
        let x = p
            .into_inner()
            .next()
            .ok_or_else(|| ParseError::internal(self.source, span))?;
        match x.as_rule() {
            Rule::ident => Ok(MemberName::Name(Rc::from(x.as_str()))),
            Rule::sq_string => Ok(MemberName::Name(Rc::from(sq_content(x.as_str())))),
            _ => Ok(MemberName::Dynamic(self.primary(x)?)),
        }
    }

    fn primary(&self, p: Pair<Rule>) -> R<Expr> {
        let span = span_of(&p);
        let kind = match p.as_rule() {
            Rule::number => ExprKind::Const(parse_number(p.as_str()).ok_or_else(|| {
                self.err(
                    span,
                    format!("The numeric constant {} is not valid.", p.as_str()),
                )
            })?),
            Rule::variable => {
                let v = self.variable(p)?;
                match v.special {
                    Some(Special::True) => ExprKind::Const(Value::Bool(true)),
                    Some(Special::False) => ExprKind::Const(Value::Bool(false)),
                    _ => ExprKind::Var(v),
                }
            }
            Rule::sq_string => ExprKind::Const(Value::from(sq_content(p.as_str()))),
            Rule::here_sq_string => ExprKind::Const(Value::from(here_sq_content(p.as_str()))),
            Rule::dq_string | Rule::here_dq_string => self.expandable(p)?,
            Rule::sub_expression => ExprKind::SubExpr(self.sub_statements(p)?),
            Rule::array_sub_expression => ExprKind::ArraySub(self.sub_statements(p)?),
            Rule::paren_expr => match p.into_inner().next() {
                Some(inner) => ExprKind::Paren(Box::new(self.statement(inner)?)),
                None => ExprKind::Const(Value::Null),
            },
            Rule::hash_literal => {
                let mut entries = Vec::new();
                let mut seen: Vec<String> = Vec::new();
                for entry in p.into_inner() {
                    let espan = span_of(&entry);
                    let mut it = entry.into_inner();
                    let (Some(k), Some(v)) = (it.next(), it.next()) else {
                        return Err(
                            self.err(espan, "Missing '=' operator after key in hash literal.")
                        );
                    };
                    let key = self.hash_key(k)?;
                    // Constant keys are checked for duplicates at parse time.
                    if let ExprKind::Const(kv) = &key.kind {
                        let text = kv.to_string();
                        let lower = text.to_lowercase();
                        if seen.contains(&lower) {
                            return Err(self.err(
                                key.span,
                                format!(
                                    "Duplicate keys '{text}' are not allowed in hash literals."
                                ),
                            ));
                        }
                        seen.push(lower);
                    }
                    entries.push((key, self.statement(v)?));
                }
                ExprKind::Hash {
                    ordered: false,
                    entries,
                }
            }
            Rule::script_block => {
                let inner = p
                    .into_inner()
                    .next()
                    .ok_or_else(|| ParseError::internal(self.source, span))?;
                ExprKind::ScriptBlock(self.script_body(inner, span)?)
            }
            Rule::type_literal => ExprKind::Type(self.type_literal(p)),
            Rule::postfix_expr => return self.postfix_expr(p),
            Rule::bare_word => ExprKind::Bare(Rc::from(unescape_bare(p.as_str()))),
            _ => return Err(self.err(span, "Unexpected token in expression.")),
        };
        Ok(Expr { kind, span })
    }

    fn hash_key(&self, p: Pair<Rule>) -> R<Expr> {
        let span = span_of(&p);
        let x = p
            .into_inner()
            .next()
            .ok_or_else(|| ParseError::internal(self.source, span))?;
        match x.as_rule() {
            Rule::ident_key => Ok(Expr {
                kind: ExprKind::Const(Value::from(x.as_str())),
                span,
            }),
            _ => self.primary(x),
        }
    }

    fn sub_statements(&self, p: Pair<Rule>) -> R<Block> {
        match p.into_inner().find(|x| x.as_rule() == Rule::statements) {
            Some(s) => self.statements(s),
            None => Ok(Rc::from(Vec::new())),
        }
    }

    fn expandable(&self, p: Pair<Rule>) -> R<ExprKind> {
        let mut parts: Vec<StrPart> = Vec::new();
        let mut lit = String::new();
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::dq_text | Rule::here_text => lit.push_str(x.as_str()),
                Rule::dq_escape => lit.push(escape_char(&x.as_str()[1..])),
                Rule::dq_quote => lit.push('"'),
                Rule::dq_dollar => lit.push('$'),
                Rule::dq_var => {
                    if let Some(v) = x.into_inner().next() {
                        let var = self.variable(v)?;
                        if !lit.is_empty() {
                            parts.push(StrPart::Lit(Rc::from(std::mem::take(&mut lit))));
                        }
                        parts.push(StrPart::Var(var));
                    }
                }
                Rule::dq_sub => {
                    if !lit.is_empty() {
                        parts.push(StrPart::Lit(Rc::from(std::mem::take(&mut lit))));
                    }
                    parts.push(StrPart::Sub(self.sub_statements(x)?));
                }
                _ => {}
            }
        }
        if parts.is_empty() {
            return Ok(ExprKind::Const(Value::from(lit)));
        }
        if !lit.is_empty() {
            parts.push(StrPart::Lit(Rc::from(lit)));
        }
        Ok(ExprKind::Expandable(parts))
    }

    fn variable(&self, p: Pair<Rule>) -> R<VarRef> {
        self.variable_text(p.as_str(), span_of(&p))
    }

    /// A variable reference from its text: `$x`, `${a b}`, `@x` (splat).
    fn variable_text(&self, text: &str, span: Span) -> R<VarRef> {
        // `@name` names the variable `$name`.
        let text = text.strip_prefix('@').unwrap_or(text);
        let text = &*if text.starts_with('$') {
            text.to_string()
        } else {
            format!("${text}")
        };
        let raw = if let Some(b) = text.strip_prefix("${") {
            b.strip_suffix('}').unwrap_or(b).replace('`', "")
        } else {
            text.strip_prefix('$').unwrap_or(text).to_string()
        };
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
                            format!("The variable drive '{s}:' is not supported; use global:, script:, local:, private:, env:, variable: or function:."),
                        ));
                    }
                };
                (scope, n.to_string())
            }
            _ => (VarScope::Any, raw),
        };
        if name.is_empty() {
            return Err(self.err(
                span,
                "Variable reference is not valid. ':' was not followed by a valid variable name character. Consider using ${} to delimit the name.",
            ));
        }
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
        Ok(VarRef {
            key: Rc::from(key),
            name: Rc::from(name),
            scope,
            special,
            span,
        })
    }

    fn type_literal(&self, p: Pair<Rule>) -> TypeName {
        let span = span_of(&p);
        let name = p
            .into_inner()
            .next()
            .map(|n| n.as_str().to_string())
            .unwrap_or_default();
        TypeName {
            name: Rc::from(name),
            span,
        }
    }
}

fn cmp_name(s: &str) -> Option<CmpOp> {
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
}

/// Precedence climbing over the flat operand/operator lists; all binary
/// operators are left-associative.
fn climb(
    mut lhs: Expr,
    min_prec: u8,
    operands: &mut impl Iterator<Item = Expr>,
    ops: &mut std::iter::Peekable<impl Iterator<Item = (BinOp, Span)>>,
) -> R<Expr> {
    while let Some(&(op, _)) = ops.peek() {
        let prec = op.precedence();
        if prec < min_prec {
            break;
        }
        ops.next();
        let mut rhs = match operands.next() {
            Some(r) => r,
            None => break,
        };
        while let Some(&(next, _)) = ops.peek() {
            if next.precedence() > prec {
                rhs = climb(rhs, prec + 1, operands, ops)?;
            } else {
                break;
            }
        }
        let span = lhs.span.to(rhs.span);
        lhs = Expr {
            kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
            span,
        };
    }
    Ok(lhs)
}

fn const_strings(e: &Expr) -> Vec<String> {
    match &e.kind {
        ExprKind::Const(v) => vec![v.to_string()],
        ExprKind::Array(items) => items.iter().flat_map(const_strings).collect(),
        _ => Vec::new(),
    }
}

fn negate_literal(v: &Value) -> Option<Value> {
    Some(match v {
        Value::Int(i) => match i.checked_neg() {
            Some(n) => Value::Int(n),
            None => Value::Long(-(*i as i64)),
        },
        Value::Long(l) => {
            if *l == i32::MAX as i64 + 1 {
                Value::Int(i32::MIN)
            } else {
                Value::Long(l.checked_neg()?)
            }
        }
        Value::Double(d) => Value::Double(-d),
        Value::Decimal(d) => Value::Decimal(-*d),
        _ => return None,
    })
}

/// Reads a numeric literal as PowerShell does: int if it fits, else long,
/// else double; `kb`..`pb` multiply; `d` makes a decimal, `l` a long.
pub fn parse_number(text: &str) -> Option<Value> {
    let lower = text.to_ascii_lowercase();
    let (body, mult) = match lower.len().checked_sub(2).map(|i| lower.split_at(i)) {
        Some((b, "kb")) => (b, 1i64 << 10),
        Some((b, "mb")) => (b, 1 << 20),
        Some((b, "gb")) => (b, 1 << 30),
        Some((b, "tb")) => (b, 1 << 40),
        Some((b, "pb")) => (b, 1 << 50),
        _ => (lower.as_str(), 1),
    };
    let is_hex = body.starts_with("0x");
    let (body, suffix) = match body.chars().last() {
        Some(c @ ('l' | 'd' | 'u' | 'y' | 'n')) if !(is_hex && c == 'd') => {
            (&body[..body.len() - 1], Some(c))
        }
        _ => (body, None),
    };
    if let Some(hex) = body.strip_prefix("0x") {
        let n = u64::from_str_radix(hex, 16).ok()?;
        // Hex literals up to 32 bits wrap into int, as PowerShell reads 0xFFFFFFFF as -1.
        let v = if hex.len() <= 8 && suffix != Some('l') {
            Value::Int(n as u32 as i32)
        } else {
            Value::Long(n as i64)
        };
        return scale(v, mult);
    }
    if let Some(bin) = body.strip_prefix("0b") {
        let n = u64::from_str_radix(bin, 2).ok()?;
        let v = if bin.len() <= 32 && suffix != Some('l') {
            Value::Int(n as u32 as i32)
        } else {
            Value::Long(n as i64)
        };
        return scale(v, mult);
    }
    let is_real = body.contains(['.', 'e']);
    if is_real && suffix == Some('l') {
        // `1.2L` is the long 1: the real value converted, as PowerShell does.
        let d: f64 = body.parse().ok()?;
        let r = (d * mult as f64).round_ties_even();
        return (r.abs() < 9.2e18).then_some(Value::Long(r as i64));
    }
    match suffix {
        Some('d') => {
            let d: rust_decimal::Decimal = if body.contains('e') {
                rust_decimal::Decimal::from_scientific(body).ok()?
            } else {
                body.parse().ok()?
            };
            return Some(Value::Decimal(d * rust_decimal::Decimal::from(mult)));
        }
        Some('l') if !is_real => return scale(Value::Long(body.parse().ok()?), mult),
        _ => {}
    }
    if is_real {
        let d: f64 = body.parse().ok()?;
        return Some(Value::Double(d * mult as f64));
    }
    match body.parse::<i64>() {
        Ok(n) => scale(
            match i32::try_from(n) {
                Ok(i) => Value::Int(i),
                Err(_) => Value::Long(n),
            },
            mult,
        ),
        Err(_) => Some(Value::Double(body.parse::<f64>().ok()? * mult as f64)),
    }
}

fn scale(v: Value, mult: i64) -> Option<Value> {
    if mult == 1 {
        return Some(v);
    }
    let n = v.as_i64()?;
    Some(match n.checked_mul(mult) {
        Some(p) => match i32::try_from(p) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Long(p),
        },
        None => Value::Double(n as f64 * mult as f64),
    })
}

fn sq_content(s: &str) -> String {
    let mut chars = s.chars();
    chars.next();
    chars.next_back();
    let inner: String = chars.collect();
    // Any quote doubled inside stands for one.
    let mut out = String::with_capacity(inner.len());
    let mut it = inner.chars().peekable();
    while let Some(c) = it.next() {
        out.push(c);
        if is_single_quote(c) && it.peek().is_some_and(|&n| is_single_quote(n)) {
            it.next();
        }
    }
    out
}

fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}')
}

fn here_sq_content(s: &str) -> String {
    // @'<ws>\n ... \n'@
    let after = s.find(['\n', '\r']).map(|i| &s[i..]).unwrap_or("");
    let after = after
        .strip_prefix("\r\n")
        .or_else(|| after.strip_prefix('\n'))
        .or_else(|| after.strip_prefix('\r'))
        .unwrap_or(after);
    let body = after.strip_suffix("'@").unwrap_or(after);
    let body = body
        .strip_suffix("\r\n")
        .or_else(|| body.strip_suffix('\n'))
        .or_else(|| body.strip_suffix('\r'))
        .unwrap_or(body);
    body.to_string()
}

fn escape_char(s: &str) -> char {
    if let Some(hex) = s.strip_prefix("u{").and_then(|h| h.strip_suffix('}')) {
        return u32::from_str_radix(hex, 16)
            .ok()
            .and_then(char::from_u32)
            .unwrap_or('\u{fffd}');
    }
    match s.chars().next() {
        Some('n') => '\n',
        Some('r') => '\r',
        Some('t') => '\t',
        Some('0') => '\0',
        Some('a') => '\u{7}',
        Some('b') => '\u{8}',
        Some('e') => '\u{1b}',
        Some('f') => '\u{c}',
        Some('v') => '\u{b}',
        Some(c) => c,
        None => '`',
    }
}

/// Bare words keep backtick-escaped characters literally.
fn unescape_bare(s: &str) -> String {
    if !s.contains('`') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '`' {
            if let Some(n) = it.next() {
                out.push(escape_char(&n.to_string()));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Parses without building an AST: used by `check` and the REPL to ask
/// whether input is complete.
pub fn validate(source: &Rc<Source>) -> Result<(), ParseError> {
    parse_script(source.clone()).map(|_| ())
}

/// Every syntax error of a script, for `lyncsh check`: after the first
/// error, each top-level statement is parsed on its own so one mistake does
/// not hide the next.
pub fn check_all(source: Rc<Source>) -> Vec<ParseError> {
    let first = match parse_script(source.clone()) {
        Ok(_) => return Vec::new(),
        Err(e) => e,
    };
    let text = &source.text;
    let mut errors: Vec<ParseError> = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let Some((start, end)) = next_chunk(text, pos) else {
            break;
        };
        let Some(chunk_text) = text.get(start..end) else {
            break;
        };
        let chunk = Rc::new(Source::new(None, chunk_text.to_string()));
        match parse_script(chunk) {
            Ok(_) => pos = end,
            Err(mut e) => {
                let at = e.span.start as usize + start;
                e.span = Span::new(at, e.span.end as usize + start);
                e.src = source.clone();
                errors.push(e);
                // Resume on the line after the error.
                pos = text[at..]
                    .find('\n')
                    .map(|n| at + n + 1)
                    .unwrap_or(text.len())
                    .max(start + 1);
            }
        }
    }
    if errors.is_empty() {
        errors.push(first);
    }
    errors
}

/// The next top-level statement from `from`: it ends at a line break
/// outside brackets and strings, unless the statement obviously continues.
fn next_chunk(text: &str, from: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let mut depth = 0i64;
    let start = from;
    let mut i = from;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            if c == b'`' && q == b'"' {
                i += 1;
            } else if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            b'\'' | b'"' => quote = Some(c),
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'`' => i += 1,
            b'(' | b'{' | b'[' => depth += 1,
            b')' | b'}' | b']' => depth -= 1,
            b'\n' if depth <= 0 => {
                let line = text[start..i].trim_end();
                let continues = line.ends_with('|') || line.ends_with(',') || line.ends_with('`');
                let next = text[i + 1..].trim_start().to_ascii_lowercase();
                let joins_next = ["else", "elseif", "catch", "finally", "while", "until", "}"]
                    .iter()
                    .any(|k| next.starts_with(k));
                if !continues && !joins_next && !line.is_empty() {
                    return Some((start, i));
                }
            }
            _ => {}
        }
        i += 1;
    }
    (start < b.len()).then_some((start, b.len()))
}
