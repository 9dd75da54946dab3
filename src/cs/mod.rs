//! The `*-Cs*` cmdlets: the configuration families' Get/Set/New/Remove
//! generated from the schema, plus the ones with logic of their own.

use crate::commands::CommandInfo;

mod family;
mod grant;
mod user_filter;
mod users;

/// Every Cs cmdlet, for the registry.
pub fn infos() -> Vec<CommandInfo> {
    let mut out = family::infos();
    out.extend(users::infos());
    out.extend(grant::infos());
    out
}
