//! Source text to syntax tree: the hand-written parser in [`parser`] (its
//! grammar is written out in `grammar/powershell.ebnf`), the tree in [`ast`],
//! and errors that know their line and column.

pub mod ast;
pub mod build;
pub mod check;
pub mod error;
mod grammar;
pub mod literals;
pub mod parser;
pub mod source;
pub mod tokens;

pub use error::ParseError;
pub use parser::parse_script;
pub use source::Source;
