//! Source text to syntax tree: the pest grammar in `grammar/powershell.pest`,
//! the tree in [`ast`], and errors that know their line and column.

pub mod ast;
pub mod error;
pub mod literals;
pub mod parse;
pub mod parser;
pub mod source;

pub use error::ParseError;
pub use parser::parse_script;
pub use source::Source;
