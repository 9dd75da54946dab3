//! The owned syntax tree. Every node that can fail at run time carries a
//! [`Span`] so errors can say where they happened.

use std::rc::Rc;

use super::source::Source;

/// Byte offsets into a [`Source`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A parsed script or script block `{ ... }`.
#[derive(Debug)]
pub struct ScriptBlockAst {
    pub source: Rc<Source>,
    pub span: Span,
    /// `[CmdletBinding()]` or any `[Parameter()]` makes the block an advanced
    /// function: common parameters apply and `$args` stays empty.
    pub cmdlet_binding: bool,
    /// `[CmdletBinding(SupportsShouldProcess)]`: takes -WhatIf and -Confirm.
    pub should_process: bool,
    pub params: Option<Vec<ParamDecl>>,
    pub begin: Option<Block>,
    pub process: Option<Block>,
    pub end: Option<Block>,
    /// `clean { }` (pwsh 7.3): runs last, once any other block has run; its
    /// output goes nowhere.
    pub clean: Option<Block>,
}

impl ScriptBlockAst {
    /// The source text of the block without its braces, as `ToString()` shows it.
    pub fn body_text(&self) -> &str {
        let text = self.source.slice(self.span);
        text.strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(text)
    }
}

pub type Block = Rc<[Stmt]>;

#[derive(Debug)]
pub struct ParamDecl {
    pub name: VarRef,
    pub type_name: Option<TypeName>,
    pub default: Option<Expr>,
    pub mandatory: bool,
    pub position: Option<usize>,
    pub from_pipeline: bool,
    pub from_pipeline_by_name: bool,
    pub aliases: Vec<String>,
    pub validate_set: Option<Vec<String>>,
    pub validate_range: Option<(Expr, Expr)>,
    pub validate_not_null_or_empty: bool,
    pub validate_pattern: Option<String>,
    pub validate_script: Option<Rc<ScriptBlockAst>>,
    pub span: Span,
}

#[derive(Debug)]
pub enum Stmt {
    Pipeline(Pipeline),
    Chain(Box<Chain>),
    Assign(Box<Assign>),
    If(Box<If>),
    Foreach(Box<Foreach>),
    For(Box<For>),
    While(Box<While>),
    DoLoop(Box<DoLoop>),
    Switch(Box<Switch>),
    Try(Box<Try>),
    Trap(Box<Trap>),
    Function(Rc<FunctionDef>),
    Flow(Box<FlowStmt>),
    /// `enum` and `class`: defined before the block they stand in runs.
    TypeDef(Rc<TypeDef>),
}

impl Stmt {
    pub fn span(&self) -> Span {
        match self {
            Stmt::Pipeline(p) => p.span,
            Stmt::Chain(c) => c.span,
            Stmt::Assign(a) => a.span,
            Stmt::If(s) => s.span,
            Stmt::Foreach(s) => s.span,
            Stmt::For(s) => s.span,
            Stmt::While(s) => s.span,
            Stmt::DoLoop(s) => s.span,
            Stmt::Switch(s) => s.span,
            Stmt::Try(s) => s.span,
            Stmt::Trap(s) => s.span,
            Stmt::Function(f) => f.span,
            Stmt::Flow(f) => f.span,
            Stmt::TypeDef(t) => t.span(),
        }
    }
}

#[derive(Debug)]
pub struct Assign {
    pub targets: Vec<Expr>,
    pub op: AssignOp,
    pub value: Stmt,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignOp {
    Set,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Coalesce,
}

#[derive(Debug)]
pub struct If {
    pub clauses: Vec<(Stmt, Block)>,
    pub else_block: Option<Block>,
    pub span: Span,
}

#[derive(Debug)]
pub struct Foreach {
    pub label: Option<Rc<str>>,
    pub var: VarRef,
    pub source: Stmt,
    pub body: Block,
    pub span: Span,
}

#[derive(Debug)]
pub struct For {
    pub label: Option<Rc<str>>,
    pub init: Option<Stmt>,
    pub cond: Option<Stmt>,
    pub iter: Option<Stmt>,
    pub body: Block,
    pub span: Span,
}

#[derive(Debug)]
pub struct While {
    pub label: Option<Rc<str>>,
    pub cond: Stmt,
    pub body: Block,
    pub span: Span,
}

#[derive(Debug)]
pub struct DoLoop {
    pub label: Option<Rc<str>>,
    pub body: Block,
    pub cond: Stmt,
    /// `do {} until (...)` loops while the condition is false.
    pub until: bool,
    pub span: Span,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SwitchFlags {
    pub regex: bool,
    pub wildcard: bool,
    pub exact: bool,
    pub case_sensitive: bool,
}

#[derive(Debug)]
pub struct Switch {
    pub label: Option<Rc<str>>,
    pub flags: SwitchFlags,
    pub subject: Stmt,
    pub clauses: Vec<SwitchClause>,
    pub default: Option<Block>,
    pub span: Span,
}

#[derive(Debug)]
pub struct SwitchClause {
    pub pattern: Expr,
    pub body: Block,
}

#[derive(Debug)]
pub struct Try {
    pub body: Block,
    pub catches: Vec<Catch>,
    pub finally: Option<Block>,
    pub span: Span,
}

#[derive(Debug)]
pub struct Catch {
    pub types: Vec<TypeName>,
    pub body: Block,
}

#[derive(Debug)]
pub struct Trap {
    pub type_name: Option<TypeName>,
    pub body: Block,
    pub span: Span,
}

#[derive(Debug)]
pub struct FunctionDef {
    pub name: Rc<str>,
    pub is_filter: bool,
    pub body: Rc<ScriptBlockAst>,
    pub span: Span,
}

#[derive(Debug)]
pub struct FlowStmt {
    pub kind: FlowKind,
    pub label: Option<Rc<str>>,
    pub value: Option<Pipeline>,
    /// A `return` of a class method (not of a script block inside one):
    /// its value is the method's result, whatever else the body wrote.
    pub in_method: bool,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowKind {
    Break,
    Continue,
    Return,
    Exit,
    Throw,
}

/// `a && b || c` (pwsh 7): each pipeline after the first runs only when
/// the one before succeeded (`&&`) or failed (`||`), as `$?` tells.
#[derive(Debug)]
pub struct Chain {
    pub first: Pipeline,
    pub rest: Vec<(ChainOp, Pipeline)>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainOp {
    And,
    Or,
}

#[derive(Debug)]
pub struct Pipeline {
    pub elements: Vec<PipeElement>,
    pub span: Span,
}

#[derive(Debug)]
pub enum PipeElement {
    Expr {
        expr: Expr,
        redirs: Vec<Redirection>,
    },
    Command(Box<CommandCall>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvokeKind {
    /// `Get-Thing`
    Plain,
    /// `& $block`
    Call,
    /// `. $block` runs in the caller's scope.
    DotSource,
}

#[derive(Debug)]
pub enum CommandName {
    Literal(Rc<str>),
    Expr(Expr),
}

#[derive(Debug)]
pub struct CommandCall {
    pub invoke: InvokeKind,
    pub name: CommandName,
    pub elements: Vec<CommandElement>,
    pub redirs: Vec<Redirection>,
    pub span: Span,
    pub name_span: Span,
}

#[derive(Debug)]
pub enum CommandElement {
    /// `-Name` or `-Name:value`
    Param {
        name: Rc<str>,
        value: Option<Expr>,
        span: Span,
    },
    Arg(Expr),
    /// `@params`
    Splat(VarRef),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirStream {
    Output,
    Error,
    Warning,
    Verbose,
    Debug,
    Information,
    All,
}

#[derive(Debug)]
pub enum RedirTarget {
    /// `2>&1`: merge into the output stream.
    Merge,
    File {
        path: Expr,
        append: bool,
    },
}

#[derive(Debug)]
pub struct Redirection {
    pub from: RedirStream,
    pub to: RedirTarget,
    pub span: Span,
}

#[derive(Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// A constant the text spells out: a number, a string, `$true`, `$false`,
/// `$null`. The syntax layer holds no run-time values; evaluation turns a
/// literal into one (`Value::from(&Literal)`).
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Double(f64),
    Decimal(rust_decimal::Decimal),
    Str(Rc<str>),
}

impl Literal {
    /// An integer as PowerShell types it: `int` when it fits, else `long`.
    pub fn integer(n: i64) -> Literal {
        match i32::try_from(n) {
            Ok(i) => Literal::Int(i),
            Err(_) => Literal::Long(n),
        }
    }

    pub fn str(s: impl Into<Rc<str>>) -> Literal {
        Literal::Str(s.into())
    }

    /// The whole number it holds, if any (a real only when integral).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Literal::Int(i) => Some(i64::from(*i)),
            Literal::Long(l) => Some(*l),
            Literal::Bool(b) => Some(i64::from(*b)),
            Literal::Double(d) if d.fract() == 0.0 && d.abs() < 9.2e18 => Some(*d as i64),
            Literal::Decimal(d) if d.fract().is_zero() => i64::try_from(*d).ok(),
            _ => None,
        }
    }

    /// PowerShell's truth of the constant: zero, empty and `$null` are false.
    pub fn is_true(&self) -> bool {
        match self {
            Literal::Null => false,
            Literal::Bool(b) => *b,
            Literal::Int(i) => *i != 0,
            Literal::Long(l) => *l != 0,
            Literal::Double(d) => *d != 0.0,
            Literal::Decimal(d) => !d.is_zero(),
            Literal::Str(s) => !s.is_empty(),
        }
    }
}

impl std::fmt::Display for Literal {
    /// The text of an attribute argument such as `[ValidateSet('a', 1)]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Literal::Null => Ok(()),
            Literal::Bool(true) => f.write_str("True"),
            Literal::Bool(false) => f.write_str("False"),
            Literal::Int(i) => write!(f, "{i}"),
            Literal::Long(l) => write!(f, "{l}"),
            Literal::Double(d) => write!(f, "{d}"),
            Literal::Decimal(d) => write!(f, "{d}"),
            Literal::Str(s) => f.write_str(s),
        }
    }
}

#[derive(Debug)]
pub enum ExprKind {
    Const(Literal),
    /// A bare word in command mode: a string, or a number if it reads as one.
    Bare(Rc<str>),
    Expandable(Vec<StrPart>),
    Var(VarRef),
    Array(Vec<Expr>),
    ArraySub(Block),
    SubExpr(Block),
    Paren(Box<Stmt>),
    Hash {
        ordered: bool,
        entries: Vec<(Expr, Stmt)>,
    },
    ScriptBlock(Rc<ScriptBlockAst>),
    Type(TypeName),
    Cast(TypeName, Box<Expr>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `cond ? then : otherwise`
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
    Member {
        target: Box<Expr>,
        name: Box<MemberName>,
        is_static: bool,
    },
    Invoke {
        target: Box<Expr>,
        name: Box<MemberName>,
        args: Vec<Expr>,
        is_static: bool,
    },
    Index {
        target: Box<Expr>,
        index: Box<Stmt>,
    },
    /// `++$x`, `$x--` and friends; `post` decides which value is produced.
    Step {
        target: Box<Expr>,
        delta: i32,
        post: bool,
    },
}

#[derive(Debug)]
pub enum MemberName {
    Name(Rc<str>),
    Dynamic(Expr),
}

#[derive(Debug)]
pub enum StrPart {
    Lit(Rc<str>),
    Var(VarRef),
    Sub(Block),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Plus,
    Not,
    BNot,
    Split,
    Join,
    /// `,$x` wraps its operand in a one-element array.
    Comma,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    Default,
    Sensitive,
    Insensitive,
}

impl Case {
    pub fn sensitive(self) -> bool {
        self == Case::Sensitive
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Like,
    NotLike,
    Match,
    NotMatch,
    Contains,
    NotContains,
    In,
    NotIn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Range,
    Format,
    BAnd,
    BOr,
    BXor,
    Shl,
    Shr,
    And,
    Or,
    Xor,
    Cmp(CmpOp, Case),
    Replace(Case),
    Split(Case),
    Join,
    Is,
    IsNot,
    As,
    Coalesce,
}

impl BinOp {
    /// PowerShell's binding strength; higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Coalesce => 0,
            BinOp::And | BinOp::Or | BinOp::Xor => 1,
            BinOp::BAnd | BinOp::BOr | BinOp::BXor => 2,
            BinOp::Cmp(..)
            | BinOp::Replace(_)
            | BinOp::Split(_)
            | BinOp::Join
            | BinOp::Is
            | BinOp::IsNot
            | BinOp::As
            | BinOp::Shl
            | BinOp::Shr => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::Rem => 5,
            BinOp::Format => 6,
            BinOp::Range => 7,
        }
    }
}

/// Where a variable lives: `$global:x`, `$env:PATH`, or plain `$x`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarScope {
    Any,
    Global,
    Script,
    Local,
    Private,
    Env,
    /// `$variable:x` is the same as `$x`.
    Variable,
    /// `$function:name` reads a function as a script block.
    Function,
}

/// Variables the evaluator answers without a scope lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    True,
    False,
    Null,
}

#[derive(Clone, Debug)]
pub struct VarRef {
    /// Lower-cased name without the scope prefix: the lookup key.
    pub key: Rc<str>,
    /// The name as written, for messages.
    pub name: Rc<str>,
    pub scope: VarScope,
    pub special: Option<Special>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeName {
    pub name: Rc<str>,
    pub span: Span,
    /// The namespaces of the script's `using namespace` statements, tried
    /// in front of `name` when it resolves to no type by itself.
    pub using: Rc<[Rc<str>]>,
}

/// An `enum` or `class` statement.
#[derive(Debug)]
pub enum TypeDef {
    Enum(EnumDef),
    Class(ClassDef),
}

impl TypeDef {
    pub fn name(&self) -> &Rc<str> {
        match self {
            TypeDef::Enum(e) => &e.name,
            TypeDef::Class(c) => &c.name,
        }
    }
    pub fn span(&self) -> Span {
        match self {
            TypeDef::Enum(e) => e.span,
            TypeDef::Class(c) => c.span,
        }
    }
}

/// `[Flags()] enum Name { A; B = 5; C }`: values are constants, fixed by
/// the parser as pwsh fixes them.
#[derive(Debug, PartialEq)]
pub struct EnumDef {
    pub name: Rc<str>,
    pub flags: bool,
    pub members: Vec<(Rc<str>, i64)>,
    pub span: Span,
}

#[derive(Debug)]
pub struct ClassDef {
    pub name: Rc<str>,
    pub base: Option<TypeName>,
    pub properties: Vec<PropertyDef>,
    pub methods: Vec<Rc<MethodDef>>,
    /// The script the class stands in: method bodies report errors there.
    pub source: Rc<Source>,
    pub span: Span,
}

/// `hidden static [int]$Count = 0`
#[derive(Debug)]
pub struct PropertyDef {
    pub name: Rc<str>,
    pub type_name: Option<TypeName>,
    pub default: Option<Expr>,
    pub is_static: bool,
    pub hidden: bool,
}

/// A method, or a constructor when its name is the class's.
#[derive(Debug)]
pub struct MethodDef {
    pub name: Rc<str>,
    /// `None`: no return type written, which is `[void]`.
    pub returns: Option<TypeName>,
    pub params: Vec<ParamDecl>,
    pub body: Block,
    pub is_static: bool,
    pub is_ctor: bool,
    /// A constructor's `: base(args)`.
    pub base_args: Option<Vec<Expr>>,
    pub span: Span,
}
