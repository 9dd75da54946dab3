//! The `*-Cs*` cmdlets: the configuration families' Get/Set/New/Remove
//! generated from the schema, plus the ones with logic of their own.

use crate::commands::CommandInfo;

pub mod anonymous;
mod changelog;
mod family;
pub mod grant;
mod rbac;
mod transfer;
mod user_filter;
mod users;

/// Every Cs cmdlet, for the registry.
pub fn infos() -> Vec<CommandInfo> {
    let mut all = family::infos();
    all.extend(users::infos());
    all.extend(grant::infos());
    all.extend(rbac::infos());
    all.extend(changelog::infos());
    all.extend(transfer::infos());
    all.extend(anonymous::infos());
    all
}
