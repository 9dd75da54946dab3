//! Source text to syntax tree: the pest grammar `grammar/powershell.pest`
//! (derived in `grammar`), read into the tree of [`ast`] by [`build`], with
//! errors that know their line and column.

pub mod ast;
pub mod build;
pub mod cache;
pub mod check;
pub mod error;
mod grammar;
pub mod literals;
mod operators;
pub mod requires;
pub mod source;
pub mod tokens;

pub use build::parse_script;
pub use error::ParseError;
pub use source::Source;
