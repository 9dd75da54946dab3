//! `enum` and `class` statements. pwsh settles what it can about a type
//! when it parses it (enum values, duplicate members, methods that may end
//! without returning), so those errors are parse errors here too.

use std::cell::Cell;

use super::*;

impl Builder<'_> {
    /// Attributes, then the enum or class they apply to.
    pub(super) fn type_def(&self, pair: Pair<Rule>) -> R<Stmt> {
        let span = span_of(&pair);
        let mut flags = false;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::attribute => {
                    let (name, _) = self.attribute(p)?;
                    let name = name.to_ascii_lowercase();
                    let name = name.strip_prefix("system.").unwrap_or(&name);
                    flags |= name == "flags" || name == "flagsattribute";
                }
                Rule::enum_def => {
                    return Ok(Stmt::TypeDef(Rc::new(TypeDef::Enum(
                        self.enum_def(p, flags, span)?,
                    ))));
                }
                Rule::class_def => {
                    return Ok(Stmt::TypeDef(Rc::new(TypeDef::Class(
                        self.class_def(p, span)?,
                    ))));
                }
                _ => {}
            }
        }
        Err(ParseError::internal(self.src, span))
    }

    fn enum_def(&self, pair: Pair<Rule>, flags: bool, span: Span) -> R<EnumDef> {
        let mut name: Rc<str> = Rc::from("");
        let mut members: Vec<(Rc<str>, i64)> = Vec::new();
        let mut next = 0i64;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::type_def_name => name = Rc::from(p.as_str()),
                Rule::enum_body => {
                    for m in p.into_inner() {
                        let mut inner = m.into_inner();
                        let Some(id) = inner.next() else { continue };
                        let member: Rc<str> = Rc::from(id.as_str());
                        if members.iter().any(|(n, _)| n.eq_ignore_ascii_case(&member)) {
                            return Err(self.already_defined(&member, span_of(&id)));
                        }
                        // Without a value a member counts on from the previous one.
                        let value = match inner.next() {
                            Some(v) => self.enum_value(&self.arg_expr(v)?)?,
                            None => next,
                        };
                        next = value.saturating_add(1);
                        members.push((member, value));
                    }
                }
                _ => {}
            }
        }
        Ok(EnumDef {
            name,
            flags,
            members,
            span,
        })
    }

    /// An enum member's value: a constant that converts to an integer.
    fn enum_value(&self, e: &Expr) -> R<i64> {
        let fold = |op: BinOp, l: i64, r: i64| match op {
            BinOp::BOr => Some(l | r),
            BinOp::BAnd => Some(l & r),
            BinOp::BXor => Some(l ^ r),
            BinOp::Add => l.checked_add(r),
            BinOp::Sub => l.checked_sub(r),
            BinOp::Mul => l.checked_mul(r),
            BinOp::Shl => u32::try_from(r).ok().and_then(|r| l.checked_shl(r)),
            _ => None,
        };
        match &e.kind {
            ExprKind::Const(Literal::Str(s)) => {
                s.trim().parse::<i64>().map_err(|_| ParseError {
                    error_id: "CannotConvertValue",
                    ..self.err(
                        e.span,
                        format!(
                            "Cannot convert value \"{s}\" to type \"System.Int32\". Error: \"The input string '{s}' was not in a correct format.\""
                        ),
                    )
                })
            }
            ExprKind::Const(c) => c.as_i64().ok_or_else(|| self.not_constant(e.span)),
            ExprKind::Unary(UnaryOp::Neg, inner) => self
                .enum_value(inner)?
                .checked_neg()
                .ok_or_else(|| self.not_constant(e.span)),
            ExprKind::Unary(UnaryOp::Plus, inner) => self.enum_value(inner),
            ExprKind::Binary(op, l, r) => {
                let (l, r) = (self.enum_value(l)?, self.enum_value(r)?);
                fold(*op, l, r).ok_or_else(|| self.not_constant(e.span))
            }
            _ => Err(self.not_constant(e.span)),
        }
    }

    fn not_constant(&self, span: Span) -> ParseError {
        ParseError {
            error_id: "EnumeratorValueMustBeConstant",
            ..self.err(span, "Enumerator value must be a constant value.")
        }
    }

    fn already_defined(&self, name: &str, span: Span) -> ParseError {
        ParseError {
            error_id: "MemberAlreadyDefined",
            ..self.err(span, format!("The member '{name}' is already defined."))
        }
    }

    fn class_def(&self, pair: Pair<Rule>, span: Span) -> R<ClassDef> {
        let mut class = ClassDef {
            name: Rc::from(""),
            base: None,
            properties: Vec::new(),
            methods: Vec::new(),
            source: self.src.clone(),
            span,
        };
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::type_def_name => class.name = Rc::from(p.as_str()),
                // The first base is the class; later ones would be
                // interfaces, which script classes only declare.
                Rule::class_base if class.base.is_none() => {
                    class.base = Some(TypeName {
                        name: Rc::from(p.as_str()),
                        span: span_of(&p),
                        using: self.using.borrow().clone(),
                    });
                }
                Rule::class_body => {
                    for m in p.into_inner() {
                        match m.as_rule() {
                            Rule::class_property => self.class_property(m, &mut class)?,
                            Rule::class_method => self.class_method(m, &mut class)?,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(class)
    }

    fn class_property(&self, pair: Pair<Rule>, class: &mut ClassDef) -> R<()> {
        let mut prop = PropertyDef {
            name: Rc::from(""),
            type_name: None,
            default: None,
            is_static: false,
            hidden: false,
        };
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::member_mod => match p.as_str().to_ascii_lowercase().as_str() {
                    "static" => prop.is_static = true,
                    _ => prop.hidden = true,
                },
                Rule::attribute => {}
                Rule::type_literal => prop.type_name = Some(self.type_name(&p)?),
                Rule::variable => {
                    let v = self.variable(&p)?;
                    if class
                        .properties
                        .iter()
                        .any(|q| q.name.eq_ignore_ascii_case(&v.name))
                    {
                        return Err(self.already_defined(&v.name, v.span));
                    }
                    prop.name = v.name;
                }
                _ => prop.default = Some(self.expression(p)?),
            }
        }
        class.properties.push(prop);
        Ok(())
    }

    fn class_method(&self, pair: Pair<Rule>, class: &mut ClassDef) -> R<()> {
        let span = span_of(&pair);
        let mut name = None;
        let mut returns = None;
        let mut params = Vec::new();
        let mut is_static = false;
        let mut base_args = None;
        let mut body = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::member_mod => is_static |= p.as_str().eq_ignore_ascii_case("static"),
                Rule::attribute => {}
                Rule::type_literal => returns = Some(self.type_name(&p)?),
                Rule::ident => name = Some((Rc::<str>::from(p.as_str()), span_of(&p))),
                Rule::param_list => params = self.param_list(p)?.0,
                Rule::base_call => {
                    let mut args = Vec::new();
                    for a in p.into_inner().flat_map(|c| c.into_inner()) {
                        args.push(self.arg_expr(a)?);
                    }
                    base_args = Some(args);
                }
                Rule::block => {
                    // `return` in this body (not in a script block within
                    // it) gives the method's value.
                    let was = self.in_method.replace(true);
                    let b = self.block(p);
                    self.in_method.set(was);
                    body = Some(b?);
                }
                _ => {}
            }
        }
        let (Some((name, name_span)), Some(body)) = (name, body) else {
            return Err(ParseError::internal(self.src, span));
        };
        let is_ctor = name.eq_ignore_ascii_case(&class.name) && returns.is_none();
        if class.methods.iter().any(|m| {
            m.name.eq_ignore_ascii_case(&name)
                && m.params.len() == params.len()
                && m.is_static == is_static
        }) {
            return Err(self.already_defined(&name, name_span));
        }
        let is_void = returns
            .as_ref()
            .is_none_or(|t| t.name.eq_ignore_ascii_case("void"));
        if !is_ctor && !is_void && !always_returns(&body) {
            return Err(ParseError {
                error_id: "MethodHasCodePathNotReturn",
                ..self.err(name_span, "Not all code path returns value within method.")
            });
        }
        class.methods.push(Rc::new(MethodDef {
            name,
            returns,
            params,
            body,
            is_static,
            is_ctor,
            base_args,
            span,
        }));
        Ok(())
    }
}

/// Whether every way through a block ends in `return` or `throw`: a
/// method with a return type must not fall off its end.
fn always_returns(block: &[Stmt]) -> bool {
    block.iter().any(|s| match s {
        Stmt::Flow(f) => matches!(f.kind, FlowKind::Return | FlowKind::Throw | FlowKind::Exit),
        Stmt::If(i) => {
            i.else_block.as_deref().is_some_and(always_returns)
                && i.clauses.iter().all(|(_, b)| always_returns(b))
        }
        Stmt::Try(t) => {
            t.finally.as_deref().is_some_and(always_returns)
                || (always_returns(&t.body) && t.catches.iter().all(|c| always_returns(&c.body)))
        }
        Stmt::Switch(s) => {
            s.default.as_deref().is_some_and(always_returns)
                && s.clauses.iter().all(|c| always_returns(&c.body))
        }
        _ => false,
    })
}

/// Whether the builder is inside a class method's own statements.
pub(super) type InMethod = Cell<bool>;
