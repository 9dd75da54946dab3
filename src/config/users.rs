//! The user directory (the stand-in for Active Directory) and policy
//! assignments. The cmdlets over it are still to come; the engine already
//! needs to know who holds a per-user policy.

use super::engine::{Engine, EngineError};

/// The users column that records each family's per-user assignments.
fn column(user_property: &str) -> Option<&'static str> {
    match user_property {
        "ConferencingPolicy" => Some("conferencing_policy"),
        "ExternalAccessPolicy" => Some("external_access_policy"),
        "ClientPolicy" => Some("client_policy"),
        _ => None,
    }
}

/// How many users hold a per-user policy.
pub fn count_holders(
    engine: &Engine,
    user_property: &str,
    policy: &str,
) -> Result<i64, EngineError> {
    let Some(col) = column(user_property) else {
        return Ok(0);
    };
    engine.with_store(|s| {
        Ok(s.conn().query_row(
            &format!("SELECT COUNT(*) FROM users WHERE {col} = ?1"),
            [policy],
            |r| r.get(0),
        )?)
    })
}
