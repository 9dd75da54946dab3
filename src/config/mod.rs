//! The configuration engine: the families as data ([`schema`]), their
//! identities ([`identity`]), validated values ([`values`]), the rules of
//! Lync configuration ([`engine`]) and the SQLite store ([`store`]), with
//! the note that spares an opener its damage check ([`check_note`]).

pub mod check_note;
pub mod engine;
pub mod identity;
pub mod roles;
pub mod schema;
pub mod store;
pub mod users;
pub mod values;

pub use engine::Engine;
