//! The `*-Cs*` cmdlets: the configuration families' Get/Set/New/Remove
//! generated from the schema, plus the ones with logic of their own.

use crate::commands::CommandInfo;

mod family;

/// Every Cs cmdlet, for the registry.
pub fn infos() -> Vec<CommandInfo> {
    family::infos()
}
