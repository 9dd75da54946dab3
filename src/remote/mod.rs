//! Remote sessions: `lyncsh serve` (SSH), the `lyncsh` JSON-lines
//! subsystem, and the session threads behind them.

pub mod authorized_keys;
mod channel;
pub mod client;
pub mod confine;
pub mod continuation;
pub mod line_editor;
pub mod passwords;
pub mod protocol;
pub mod server;
pub mod worker;
