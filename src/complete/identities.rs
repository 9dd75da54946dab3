//! Values from the store: per-user policy names for `-PolicyName` of
//! Grant-*, users for `-Identity` of the user cmdlets, instance identities
//! for `-Identity` of the configuration cmdlets.

use super::Snapshot;
use crate::config::Engine;
use crate::config::schema::schema;
use crate::config::users;

/// Candidates with a description; `cmd` is the command's own name.
pub(super) fn identities(snap: &Snapshot, cmd: &str, param: &str) -> Vec<(String, Option<String>)> {
    let families = &schema().families;
    let verb_noun = cmd.split_once('-');
    let is_user_cmd = verb_noun.is_some_and(|(v, n)| {
        n.eq_ignore_ascii_case("CsUser")
            || n.eq_ignore_ascii_case("CsEffectivePolicy")
            || v.eq_ignore_ascii_case("Grant")
    });
    let wanted = param.eq_ignore_ascii_case("PolicyName") || param.eq_ignore_ascii_case("Identity");
    if !wanted {
        return Vec::new();
    }
    // A connection of its own: the caller may be on another thread than
    // the session's interpreter, and completion only reads.
    let Ok(engine) = Engine::open(&snap.store, "completion") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if param.eq_ignore_ascii_case("PolicyName") {
        if let Some(f) = families.iter().find(|f| {
            f.command("Grant")
                .is_some_and(|g| g.eq_ignore_ascii_case(cmd))
        }) && let Ok(list) = engine.list(f)
        {
            for o in list {
                if let Some(tag) = o
                    .identity
                    .strip_prefix("Tag:")
                    .or_else(|| o.identity.strip_prefix("tag:"))
                {
                    out.push((tag.to_string(), Some(f.noun.clone())));
                }
            }
        }
    } else if is_user_cmd {
        if let Ok(list) = users::page(&engine, &users::Where::all(), 0, 500) {
            for u in list {
                let id = u.sip.clone().unwrap_or_else(|| u.sam.clone());
                out.push((id, Some(u.display_name.clone())));
            }
        }
    } else if let Some(f) = families.iter().find(|f| {
        f.commands
            .iter()
            .any(|(_, n, _)| n.eq_ignore_ascii_case(cmd))
    }) && let Ok(list) = engine.list(f)
    {
        out.extend(list.into_iter().map(|o| (o.identity, None)));
    }
    engine.rollback();
    out
}
