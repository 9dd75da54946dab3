//! Remote sessions: `lyncsh serve` (SSH), the `lyncsh` JSON-lines
//! subsystem, and the session threads behind them.

mod channel;
pub mod client;
pub mod line_editor;
pub mod passwords;
pub mod protocol;
pub mod server;
pub mod worker;
