//! Source text to syntax tree: the pest grammar in `grammar/powershell.pest`,
//! the tree in [`ast`], and errors that know their line and column.

pub mod ast;
pub mod error;
pub mod parse;
pub mod source;

pub use error::ParseError;
pub use parse::parse_script;
pub use source::Source;
