//! Evaluation: the object model ([`value`]), conversions and operators,
//! scopes, the interpreter and its pipelines.

pub mod budget;
pub mod classes;
pub mod convert;
pub mod dates;
pub mod dotnet_format;
pub mod error;
pub mod eval;
pub mod interp;
pub mod members;
pub mod ops;
pub mod pipeline;
pub mod regex_cache;
pub mod sandbox;
pub mod scope;
pub mod session;
pub mod types;
pub mod value;
pub mod wildcard;

pub use interp::Interp;
pub use value::Value;
