//! Remote sessions: `lyncsh serve` (SSH), the `lyncsh` JSON-lines
//! subsystem, and the session processes (or threads) behind them.

pub mod authorized_keys;
mod channel;
pub mod child;
pub mod client;
pub mod confine;
pub mod continuation;
pub mod directories;
mod frames;
pub mod line_editor;
pub mod passwords;
mod process;
pub mod protocol;
pub mod psrp;
pub mod server;
pub mod worker;
