//! Source text to syntax tree: the pest grammar `grammar/powershell.pest`
//! (derived in `grammar`), read into the tree of [`ast`] by [`build`], with
//! errors that know their line and column. The hand-written parser in
//! [`parser`] stays only as the reference `tests/grammar.rs` compares with.

pub mod ast;
pub mod build;
pub mod check;
pub mod error;
mod grammar;
pub mod literals;
pub mod parser;
pub mod source;
pub mod tokens;

pub use build::parse_script_pest as parse_script;
pub use error::ParseError;
pub use source::Source;
