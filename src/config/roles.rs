//! Role-based access control: the built-in Lync administrator roles as
//! data, which cmdlets each role may run, and who holds which role.
//!
//! Role membership lives in the store's `role_members` table, standing in
//! for membership of the roles' Active Directory groups. Which cmdlets a
//! role may run is decided by rules over the cmdlet's verb and noun (the
//! simplified model of the reference), so a family added to the schema is
//! covered without code: its Get is open to every role, its other verbs
//! to CsAdministrator (plus the roles named in the tables below).

use super::engine::{Engine, EngineError};
use super::schema::schema;
use super::store::{Store, StoreError};

/// A built-in role.
pub struct Role {
    pub name: &'static str,
    /// The Active Directory group whose members hold the role.
    pub group: &'static str,
    pub summary: &'static str,
}

pub const ADMINISTRATOR: &str = "CsAdministrator";
const USER_ADMIN: &str = "CsUserAdministrator";
const VOICE_ADMIN: &str = "CsVoiceAdministrator";
const SERVER_ADMIN: &str = "CsServerAdministrator";
const HELP_DESK: &str = "CsHelpDesk";
const ARCHIVING_ADMIN: &str = "CsArchivingAdministrator";
const RESPONSE_GROUP_ADMIN: &str = "CsResponseGroupAdministrator";
const LOCATION_ADMIN: &str = "CsLocationAdministrator";
const PERSISTENT_CHAT_ADMIN: &str = "CsPersistentChatAdministrator";

pub const BUILTIN: &[Role] = &[
    Role {
        name: ADMINISTRATOR,
        group: "CSAdministrator",
        summary: "Runs every cmdlet: all settings and policies, users, and the roles themselves.",
    },
    Role {
        name: USER_ADMIN,
        group: "CSUserAdministrator",
        summary: "Enables, disables and changes users and assigns them existing policies; does not edit policies.",
    },
    Role {
        name: VOICE_ADMIN,
        group: "CSVoiceAdministrator",
        summary: "Manages voice settings and voice policies, including assigning voice policies.",
    },
    Role {
        name: SERVER_ADMIN,
        group: "CSServerAdministrator",
        summary: "Runs and monitors servers and services; edits conferencing and client policies and meeting settings.",
    },
    Role {
        name: "CsViewOnlyAdministrator",
        group: "CSViewOnlyAdministrator",
        summary: "Reads the whole deployment and changes nothing.",
    },
    Role {
        name: HELP_DESK,
        group: "CSHelpDesk",
        summary: "Reads users and policies and runs troubleshooting cmdlets.",
    },
    Role {
        name: ARCHIVING_ADMIN,
        group: "CSArchivingAdministrator",
        summary: "Manages archiving settings and archiving policies.",
    },
    Role {
        name: RESPONSE_GROUP_ADMIN,
        group: "CSResponseGroupAdministrator",
        summary: "Manages the Response Group application.",
    },
    Role {
        name: LOCATION_ADMIN,
        group: "CSLocationAdministrator",
        summary: "Manages Enhanced 9-1-1 locations and network identifiers.",
    },
    Role {
        name: "CsResponseGroupManager",
        group: "CSResponseGroupManager",
        summary: "Manages the response groups it has been put in charge of.",
    },
    Role {
        name: PERSISTENT_CHAT_ADMIN,
        group: "CSPersistentChatAdministrator",
        summary: "Manages the Persistent Chat feature and its rooms.",
    },
];

/// Nouns whose New/Set/Remove CsServerAdministrator may also run.
const SERVER_ADMIN_NOUNS: &[&str] = &[
    "CsConferencingPolicy",
    "CsClientPolicy",
    "CsMeetingConfiguration",
];

/// Nouns about users: CsUserAdministrator may run their non-Get verbs.
const USER_NOUNS: &[&str] = &["CsUser", "CsAdUser"];

/// Feature roles: a noun containing the word is theirs too (New/Set/
/// Remove/Grant), besides CsAdministrator's.
const FEATURE_ROLES: &[(&str, &str)] = &[
    ("Voice", VOICE_ADMIN),
    ("Archiving", ARCHIVING_ADMIN),
    ("Rgs", RESPONSE_GROUP_ADMIN),
    ("ResponseGroup", RESPONSE_GROUP_ADMIN),
    ("Lis", LOCATION_ADMIN),
    ("PersistentChat", PERSISTENT_CHAT_ADMIN),
];

/// A built-in role by name, case-insensitively.
pub fn builtin(name: &str) -> Option<&'static Role> {
    BUILTIN.iter().find(|r| r.name.eq_ignore_ascii_case(name))
}

/// The made-up security identifier of a built-in role; stable across runs.
pub fn sid(role: &Role) -> String {
    let n = BUILTIN
        .iter()
        .position(|r| r.name == role.name)
        .unwrap_or(0);
    format!("S-1-5-21-2906442831-1650739165-3519082746-{}", 1121 + n)
}

/// The role names, comma-separated, for error messages.
pub fn names() -> String {
    BUILTIN
        .iter()
        .map(|r| r.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Account names: letters, digits and `. _ - @ \ $`, at most 256
/// characters.
pub fn check_member(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("The member name is empty.".into());
    }
    if name.chars().count() > 256 {
        return Err("The member name is longer than 256 characters.".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '\\' | '$')))
    {
        return Err(format!(
            "The member name \"{name}\" contains '{c}': account names use letters, digits and . _ - @ \\ $ only."
        ));
    }
    Ok(())
}

/// Is the command a Lync cmdlet? Its noun is `Cs` and a capitalised word
/// (`Get-CsUser`, `Grant-CsClientPolicy`), so `ConvertFrom-Csv` and
/// `Import-Csv` are not. The name must be spelled as the registry spells
/// it ([`crate::runtime::Interp::may_run`] looks it up first): typed in
/// lower case, a Lync cmdlet could not be told from a shell command.
pub fn is_lync_command(command: &str) -> bool {
    command.split_once('-').is_some_and(|(_, noun)| {
        noun.strip_prefix("Cs")
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| c.is_ascii_uppercase())
    })
}

/// Does `command` change the store? Lync cmdlets other than those that
/// only read (Get, Export, Test) do.
pub fn writes_store(command: &str) -> bool {
    is_lync_command(command)
        && command.split_once('-').is_some_and(|(verb, _)| {
            !["get", "export", "test"]
                .iter()
                .any(|v| verb.eq_ignore_ascii_case(v))
        })
}

/// May a holder of `role` run `command`? Commands that are not Lync
/// cmdlets (the language's own: Where-Object, Format-List, ...) are open
/// to every role.
pub fn permits(role: &str, command: &str) -> bool {
    let Some((verb, noun)) = command.split_once('-') else {
        return true;
    };
    if !is_lync_command(command) {
        return true;
    }
    if role.eq_ignore_ascii_case(ADMINISTRATOR) {
        return true;
    }
    let verb = verb.to_ascii_lowercase();
    // Test-CsAnonymousMeetingAccess only reads, as a Get does.
    if verb == "get" || noun.eq_ignore_ascii_case("CsAnonymousMeetingAccess") {
        return true;
    }
    let is = |r: &str| role.eq_ignore_ascii_case(r);
    let noun_is = |list: &[&str]| list.iter().any(|n| n.eq_ignore_ascii_case(noun));
    let lower = noun.to_ascii_lowercase();
    let feature = FEATURE_ROLES
        .iter()
        .any(|(word, r)| is(r) && lower.contains(&word.to_ascii_lowercase()));
    match verb.as_str() {
        "grant" => {
            // Archiving policies are the archiving administrators' alone.
            if lower.contains("archiving") {
                feature
            } else {
                is(USER_ADMIN) || feature
            }
        }
        "test" => is(HELP_DESK) || is(SERVER_ADMIN),
        "lock" | "unlock" if lower == "csclientpin" => is(HELP_DESK) || is(USER_ADMIN),
        _ if noun_is(USER_NOUNS) => is(USER_ADMIN),
        "new" | "set" | "remove" if noun_is(SERVER_ADMIN_NOUNS) => is(SERVER_ADMIN),
        "new" | "set" | "remove" => {
            feature && schema().family(noun).is_none_or(|f| !f.is_domain_list())
        }
        _ => false,
    }
}

/// May an account holding `roles` run `command`? No role, no command.
pub fn allowed(roles: &[String], command: &str) -> bool {
    roles.iter().any(|r| permits(r, command))
}

/// The Lync cmdlets of `all` that a role may run, sorted by name.
pub fn cmdlets<'a>(role: &str, all: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = all
        .filter(|c| is_lync_command(c) && permits(role, c))
        .map(str::to_string)
        .collect();
    out.sort_by_key(|c| c.to_ascii_lowercase());
    out.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    out
}

/// The roles an account holds, in the order of [`BUILTIN`].
pub fn roles_of(engine: &Engine, account: &str) -> Result<Vec<String>, EngineError> {
    Ok(in_order(engine.with_store(|s| held(s, account))?))
}

/// The same, looked up before a statement runs, as that statement's
/// permission: read in its snapshot ([`Engine::with_checks`]).
pub fn roles_for_statement(engine: &Engine, account: &str) -> Result<Vec<String>, EngineError> {
    Ok(in_order(engine.with_checks(|s| held(s, account))?))
}

fn held(s: &mut Store, account: &str) -> Result<Vec<String>, StoreError> {
    let mut st = s
        .conn()
        .prepare_cached("SELECT role FROM role_members WHERE member = ?1")?;
    let rows = st.query_map([account], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r?);
    }
    Ok(out)
}

fn in_order(held: Vec<String>) -> Vec<String> {
    BUILTIN
        .iter()
        .filter(|r| held.iter().any(|h| h.eq_ignore_ascii_case(r.name)))
        .map(|r| r.name.to_string())
        .collect()
}

/// The members of a role, sorted.
pub fn members(engine: &Engine, role: &str) -> Result<Vec<String>, EngineError> {
    engine.with_store(|s| {
        let mut st = s.conn().prepare_cached(
            "SELECT member FROM role_members WHERE role = ?1 ORDER BY member COLLATE NOCASE",
        )?;
        let rows = st.query_map([role], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r?);
        }
        Ok(out)
    })
}

/// Adds an account to a role; false when it already held it.
pub fn add_member(
    engine: &Engine,
    role: &Role,
    member: &str,
    command: &str,
) -> Result<bool, EngineError> {
    change_member(
        engine,
        "INSERT OR IGNORE INTO role_members (role, member) VALUES (?1, ?2)",
        role,
        member,
        command,
        "added",
    )
}

/// Takes an account out of a role; false when it did not hold it.
pub fn remove_member(
    engine: &Engine,
    role: &Role,
    member: &str,
    command: &str,
) -> Result<bool, EngineError> {
    change_member(
        engine,
        "DELETE FROM role_members WHERE role = ?1 AND member = ?2",
        role,
        member,
        command,
        "removed",
    )
}

/// Runs one membership change and logs it only when a row changed, so a
/// repeated add or remove leaves no entry in the change log.
fn change_member(
    engine: &Engine,
    sql: &str,
    role: &Role,
    member: &str,
    command: &str,
    verb: &str,
) -> Result<bool, EngineError> {
    let account = engine.account.clone();
    engine.with_store(|s| {
        let n = s.write(sql, [role.name, member])?;
        if n > 0 {
            s.log(
                &account,
                command,
                &format!("CsAdminRole:{}", role.name),
                &format!("{verb} member {member}"),
            )?;
        }
        Ok(n > 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_simplified_model() {
        let view = roles(&["CsViewOnlyAdministrator"]);
        assert!(allowed(&view, "Get-CsConferencingPolicy"));
        assert!(!allowed(&view, "Set-CsConferencingPolicy"));
        assert!(allowed(&view, "Where-Object"));
        let users = roles(&["CsUserAdministrator"]);
        assert!(allowed(&users, "Grant-CsConferencingPolicy"));
        assert!(allowed(&users, "enable-csuser"));
        assert!(allowed(&users, "New-CsAdUser"));
        assert!(!allowed(&users, "New-CsConferencingPolicy"));
        let server = roles(&["CsServerAdministrator"]);
        assert!(allowed(&server, "Set-CsMeetingConfiguration"));
        assert!(allowed(&server, "New-CsClientPolicy"));
        assert!(!allowed(&server, "Set-CsExternalAccessPolicy"));
        assert!(!allowed(&server, "Set-CsAccessEdgeConfiguration"));
        assert!(!allowed(&server, "Grant-CsClientPolicy"));
        assert!(!allowed(&users, "Add-CsAdminRoleMember"));
        assert!(!allowed(&users, "Export-CsConfiguration"));
        let admin = roles(&["CsAdministrator"]);
        assert!(allowed(&admin, "Import-CsConfiguration"));
        assert!(allowed(&admin, "New-CsAllowedDomain"));
        assert!(!allowed(&[], "Get-CsUser"));
        assert!(!allowed(&[], "Write-Output"));
        let voice = roles(&["CsVoiceAdministrator"]);
        assert!(allowed(&voice, "Grant-CsVoicePolicy"));
        assert!(!allowed(&voice, "Grant-CsConferencingPolicy"));
    }

    #[test]
    fn csv_cmdlets_are_not_lync_cmdlets() {
        for role in [
            "CsViewOnlyAdministrator",
            "CsHelpDesk",
            "CsUserAdministrator",
        ] {
            let held = roles(&[role]);
            for cmd in [
                "ConvertFrom-Csv",
                "ConvertTo-Csv",
                "Import-Csv",
                "Export-Csv",
            ] {
                assert!(allowed(&held, cmd), "{role} may not run {cmd}");
            }
        }
        assert!(!is_lync_command("Import-Csv"));
        assert!(is_lync_command("Get-CsUser"));
        assert!(!allowed(&roles(&["CsViewOnlyAdministrator"]), "Set-CsUser"));
    }

    #[test]
    fn sids_are_distinct() {
        let mut all: Vec<String> = BUILTIN.iter().map(sid).collect();
        all.dedup();
        assert_eq!(all.len(), 11);
    }
}
