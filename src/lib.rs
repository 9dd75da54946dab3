//! lyncsh: a PowerShell-compatible shell for a Lync Server 2013 style
//! configuration store. See `src/README.md` for the map of this crate.

pub mod cli;
pub mod clixml;
pub mod commands;
pub mod complete;
pub mod config;
pub mod cs;
pub mod format;
pub mod host;
pub mod pester;
pub mod remote;
pub mod runtime;
pub mod syntax;
pub mod web;
