//! The user directory (the stand-in for Active Directory) and policy
//! assignments. Directory attributes with a column of their own (SAM
//! account name, UPN, display name, SIP address, Lync-enabled flag and the
//! three per-user policy assignments) are searchable in SQL; every other
//! attribute lives in the row's JSON `data`.
//!
//! Reads go in pages keyed by row id ([`page`]) so a cmdlet can emit users
//! as it reads them while later pipeline stages write to the same table.

use rusqlite::ToSql;
use rusqlite::types::Value as Sql;
use serde_json::Value as Json;

use super::engine::{Engine, EngineError};
use super::store::Mark;

type R<T> = Result<T, EngineError>;

/// The per-user policy properties and their columns.
pub const POLICY_COLUMNS: [(&str, &str); 3] = [
    ("ConferencingPolicy", "conferencing_policy"),
    ("ExternalAccessPolicy", "external_access_policy"),
    ("ClientPolicy", "client_policy"),
];

/// Per-user policy kinds that Lync users carry but lyncsh has no family
/// for: shown (always `$null`) and filterable, never granted.
pub const OTHER_POLICIES: &[&str] = &[
    "VoicePolicy",
    "VoiceRoutingPolicy",
    "PresencePolicy",
    "DialPlan",
    "LocationPolicy",
    "ClientVersionPolicy",
    "ArchivingPolicy",
    "PinPolicy",
    "MobilityPolicy",
    "PersistentChatPolicy",
    "UserServicesPolicy",
    "HostedVoicemailPolicy",
];

/// Lync attributes kept in `data`; Disable-CsUser removes them.
pub const LYNC_DATA: &[&str] = &[
    "RegistrarPool",
    "Enabled",
    "EnterpriseVoiceEnabled",
    "HostedVoiceMail",
    "LineURI",
    "LineServerURI",
    "PrivateLine",
    "AudioVideoDisabled",
    "RemoteCallControlTelephonyEnabled",
    "ExchangeArchivingPolicy",
];

/// The users column that records each family's per-user assignments.
pub fn column(user_property: &str) -> Option<&'static str> {
    POLICY_COLUMNS
        .iter()
        .find(|(p, _)| p.eq_ignore_ascii_case(user_property))
        .map(|(_, c)| *c)
}

/// The distinguished name of a user stored without one.
pub fn default_dn(display_name: &str) -> String {
    format!("CN={display_name},OU=Users,DC=contoso,DC=com")
}

/// One directory user.
#[derive(Clone, Debug, Default)]
pub struct User {
    pub id: i64,
    pub sam: String,
    pub upn: Option<String>,
    pub display_name: String,
    pub sip: Option<String>,
    pub lync_enabled: bool,
    /// Per-user policy names, in the order of [`POLICY_COLUMNS`].
    pub policies: [Option<String>; 3],
    pub data: serde_json::Map<String, Json>,
}

impl User {
    /// The distinguished name (the Identity both cmdlet families show).
    pub fn dn(&self) -> String {
        self.text("Identity")
            .unwrap_or_else(|| default_dn(&self.display_name))
    }

    pub fn text(&self, key: &str) -> Option<String> {
        match self.data.get(key) {
            Some(Json::String(s)) => Some(s.clone()),
            _ => None,
        }
    }

    pub fn flag(&self, key: &str) -> bool {
        matches!(self.data.get(key), Some(Json::Bool(true)))
    }

    pub fn policy(&self, user_property: &str) -> Option<&str> {
        POLICY_COLUMNS
            .iter()
            .position(|(p, _)| p.eq_ignore_ascii_case(user_property))
            .and_then(|i| self.policies.get(i))
            .and_then(|p| p.as_deref())
    }

    /// The NetBIOS domain for `domain\logon`.
    pub fn domain(&self) -> String {
        self.text("Domain").unwrap_or_else(|| "contoso".into())
    }
}

const COLS: &str = "id, sam, upn, display_name, sip, lync_enabled, conferencing_policy, external_access_policy, client_policy, data";

/// A user row as stored: `data` still JSON text, parsed only when some
/// attribute of it is wanted ([`Row::user`]).
#[derive(Clone, Debug)]
pub struct Row {
    pub id: i64,
    pub sam: String,
    pub upn: Option<String>,
    pub display_name: String,
    pub sip: Option<String>,
    pub lync_enabled: bool,
    pub policies: [Option<String>; 3],
    pub data: String,
    /// Where the store stood when the row was read.
    pub seen: Mark,
}

impl Row {
    /// The user's distinguished name: the one stored with it, else the
    /// default for its display name. Reads only that member of `data`,
    /// which Get-CsUser needs for every row it writes.
    pub fn dn(&self) -> String {
        #[derive(serde::Deserialize)]
        struct Named<'a> {
            #[serde(rename = "Identity", borrow)]
            identity: Option<std::borrow::Cow<'a, str>>,
        }
        // Most users carry no name of their own: a scan for the key is
        // cheaper than a parse.
        if !self.data.contains("\"Identity\"") {
            return default_dn(&self.display_name);
        }
        match serde_json::from_str::<Named>(&self.data) {
            Ok(Named { identity: Some(dn) }) => dn.into_owned(),
            _ => default_dn(&self.display_name),
        }
    }

    pub fn user(&self) -> User {
        let data = match serde_json::from_str(&self.data) {
            Ok(Json::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        User {
            id: self.id,
            sam: self.sam.clone(),
            upn: self.upn.clone(),
            display_name: self.display_name.clone(),
            sip: self.sip.clone(),
            lync_enabled: self.lync_enabled,
            policies: self.policies.clone(),
            data,
        }
    }
}

fn row_of(r: &rusqlite::Row) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        sam: r.get(1)?,
        upn: r.get(2)?,
        display_name: r.get(3)?,
        sip: r.get(4)?,
        lync_enabled: r.get::<_, i64>(5)? != 0,
        policies: [r.get(6)?, r.get(7)?, r.get(8)?],
        data: r.get(9)?,
        seen: Mark::default(),
    })
}

/// A WHERE clause with its parameters.
#[derive(Clone, Debug)]
pub struct Where {
    pub sql: String,
    pub params: Vec<Sql>,
}

impl Where {
    pub fn all() -> Where {
        Where {
            sql: "1".into(),
            params: Vec::new(),
        }
    }

    pub fn new(sql: impl Into<String>, params: Vec<Sql>) -> Where {
        Where {
            sql: sql.into(),
            params,
        }
    }

    pub fn and(self, other: Where) -> Where {
        let mut params = self.params;
        params.extend(other.params);
        Where {
            sql: format!("({}) AND ({})", self.sql, other.sql),
            params,
        }
    }
}

/// Up to `limit` rows after row `after` that match, in row order.
pub fn rows(engine: &Engine, w: &Where, after: i64, limit: i64) -> R<Vec<Row>> {
    let sql = format!(
        "SELECT {COLS} FROM users WHERE id > ? AND ({}) ORDER BY id LIMIT {limit}",
        w.sql
    );
    engine.with_store(|s| {
        let mut st = s.conn().prepare_cached(&sql)?;
        let mut params: Vec<&dyn rusqlite::ToSql> = vec![&after];
        for p in &w.params {
            params.push(p);
        }
        let seen = s.mark();
        let rows = st.query_map(params.as_slice(), row_of)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(Row { seen, ..r? });
        }
        Ok(out)
    })
}

/// How many users match.
pub fn count(engine: &Engine, w: &Where) -> R<i64> {
    let sql = format!("SELECT COUNT(*) FROM users WHERE {}", w.sql);
    engine.with_store(|s| {
        let mut st = s.conn().prepare_cached(&sql)?;
        let params: Vec<&dyn rusqlite::ToSql> =
            w.params.iter().map(|p| p as &dyn rusqlite::ToSql).collect();
        Ok(st.query_row(params.as_slice(), |r| r.get(0))?)
    })
}

/// Up to `limit` users after row `after` that match, in row order.
pub fn page(engine: &Engine, w: &Where, after: i64, limit: i64) -> R<Vec<User>> {
    Ok(rows(engine, w, after, limit)?
        .iter()
        .map(Row::user)
        .collect())
}

/// Every matching user (for identities, which match few).
pub fn find(engine: &Engine, w: &Where) -> R<Vec<User>> {
    const FIND_PAGE: i64 = 500;
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let batch = page(engine, w, after, FIND_PAGE)?;
        let full = batch.len() as i64 == FIND_PAGE;
        let Some(last) = batch.last() else {
            return Ok(out);
        };
        after = last.id;
        out.extend(batch);
        // A short page was the last: no second query to learn that.
        if !full {
            return Ok(out);
        }
    }
}

pub fn by_sam(engine: &Engine, sam: &str) -> R<Option<User>> {
    Ok(
        find(engine, &Where::new("sam = ?", vec![Sql::Text(sam.into())]))?
            .into_iter()
            .next(),
    )
}

fn data_text(u: &User) -> R<String> {
    serde_json::to_string(&u.data).map_err(|e| EngineError::Rule(e.to_string()))
}

/// The parameters of insert and save: the key in `?1` (sam or id), then
/// every column both write, `?2` to `?9`.
fn row<'a>(key: &'a dyn ToSql, u: &'a User, data: &'a dyn ToSql) -> [&'a dyn ToSql; 9] {
    [
        key,
        &u.upn,
        &u.display_name,
        &u.sip,
        &u.lync_enabled,
        &u.policies[0],
        &u.policies[1],
        &u.policies[2],
        data,
    ]
}

/// Adds a user; a SamAccountName or SIP address in use is refused.
pub fn insert(engine: &Engine, u: &User, command: &str) -> R<i64> {
    if by_sam(engine, &u.sam)?.is_some() {
        return Err(EngineError::Rule(format!(
            "A user with the SamAccountName \"{}\" already exists in the directory.",
            u.sam
        )));
    }
    let data = data_text(u)?;
    engine.with_store(|s| {
        s.write(
            "INSERT INTO users (sam, upn, display_name, sip, lync_enabled, conferencing_policy, external_access_policy, client_policy, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            &row(&u.sam, u, &data)[..],
        )?;
        let id = s.conn().last_insert_rowid();
        s.log(
            &engine.account,
            command,
            &format!("ADUser:{}", u.dn()),
            "created",
        )?;
        Ok(id)
    })
}

/// Writes every attribute of an existing user back, logging `detail`.
pub fn save(engine: &Engine, u: &User, command: &str, detail: &str) -> R<()> {
    if let Some(sip) = &u.sip {
        let taken = find(
            engine,
            &Where::new(
                "sip = ? AND id <> ?",
                vec![Sql::Text(sip.clone()), Sql::Integer(u.id)],
            ),
        )?;
        if let Some(other) = taken.first() {
            return Err(EngineError::Rule(format!(
                "The SIP address \"{sip}\" is already assigned to {}.",
                other.display_name
            )));
        }
    }
    let data = data_text(u)?;
    engine.with_store(|s| {
        s.write(
            "UPDATE users SET upn = ?2, display_name = ?3, sip = ?4, lync_enabled = ?5,
               conferencing_policy = ?6, external_access_policy = ?7, client_policy = ?8, data = ?9
             WHERE id = ?1",
            &row(&u.id, u, &data)[..],
        )?;
        s.log(
            &engine.account,
            command,
            &format!("CsUser:{}", u.dn()),
            detail,
        )?;
        Ok(())
    })
}

/// Assigns (or with `None` clears) one per-user policy; logged.
pub fn set_policy(
    engine: &Engine,
    u: &User,
    user_property: &str,
    policy: Option<&str>,
    command: &str,
) -> R<()> {
    let Some(col) = column(user_property) else {
        return Err(EngineError::Rule(format!(
            "{user_property} is not a per-user policy property."
        )));
    };
    let sql = format!("UPDATE users SET {col} = ?1 WHERE id = ?2");
    engine.with_store(|s| {
        s.write(&sql, rusqlite::params![policy, u.id])?;
        s.log(
            &engine.account,
            command,
            &format!("CsUser:{}", u.dn()),
            &format!("{user_property}={}", policy.unwrap_or("$null")),
        )
    })?;
    Ok(())
}

/// Sets a per-user policy on users as Get-CsUser read them (`None` for
/// one that is no such row): true for each one written and logged. A row
/// read in this statement with nothing changed since is written by its id;
/// one read earlier only while it is still as read. Those not written are
/// for the caller to resolve again.
pub fn set_policy_on_rows(
    engine: &Engine,
    rows: &[Option<(&Row, &str)>],
    user_property: &str,
    policy: Option<&str>,
    command: &str,
) -> R<Vec<bool>> {
    let Some(col) = column(user_property) else {
        return Ok(vec![false; rows.len()]);
    };
    let fast = format!("UPDATE users SET {col} = ?1 WHERE id = ?2 AND lync_enabled = 1");
    let checked = format!(
        "UPDATE users SET {col} = ?1 WHERE id = ?2 AND lync_enabled = 1 AND sam = ?3 COLLATE BINARY
           AND display_name = ?4 COLLATE BINARY AND data = ?5"
    );
    let detail = format!("{user_property}={}", policy.unwrap_or("$null"));
    engine.with_store(|s| {
        s.begin_write()?;
        let mark = s.mark();
        // Each write touches only a row that was as read: the mark stays.
        s.write_unseen(|s| {
            s.log_batch(|conn, log, time| {
                let mut fast = conn.prepare_cached(&fast)?;
                let mut checked = conn.prepare_cached(&checked)?;
                let mut done = Vec::with_capacity(rows.len());
                for r in rows {
                    let Some((row, dn)) = r else {
                        done.push(false);
                        continue;
                    };
                    let n = if row.seen == mark {
                        fast.execute(rusqlite::params![policy, row.id])?
                    } else {
                        checked.execute(rusqlite::params![
                            policy,
                            row.id,
                            row.sam,
                            row.display_name,
                            row.data
                        ])?
                    };
                    if n == 1 {
                        log.execute(rusqlite::params![
                            time,
                            engine.account,
                            command,
                            format!("CsUser:{dn}"),
                            detail
                        ])?;
                    }
                    done.push(n == 1);
                }
                Ok(done)
            })
        })
    })
}

pub fn delete(engine: &Engine, u: &User, command: &str) -> R<()> {
    engine.with_store(|s| {
        s.write("DELETE FROM users WHERE id = ?1", [u.id])?;
        s.log(
            &engine.account,
            command,
            &format!("ADUser:{}", u.dn()),
            "removed",
        )
    })?;
    Ok(())
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

/// Clears every assignment of a per-user policy (when it is removed).
pub fn clear_holders(engine: &Engine, user_property: &str, policy: &str) -> R<usize> {
    let Some(col) = column(user_property) else {
        return Ok(0);
    };
    engine.with_store(|s| {
        s.write(
            &format!("UPDATE users SET {col} = NULL WHERE {col} = ?1"),
            [policy],
        )
    })
}

/// `*` wildcards as a LIKE pattern (with `\` as the escape character).
pub fn like_pattern(wildcard: &str) -> String {
    let mut out = String::new();
    for c in wildcard.chars() {
        match c {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// The users an identity names: SIP address (with or without `sip:`),
/// UPN, `domain\logon`, distinguished name, or display name (`*` and `?`
/// are wildcards there).
pub fn identity_where(identity: &str) -> Where {
    let t = identity.trim();
    let text = |s: &str| Sql::Text(s.to_string());
    if t.contains('*') {
        return Where::new(
            "display_name LIKE ? ESCAPE '\\'",
            vec![text(&like_pattern(t))],
        );
    }
    if t.len() > 4 && t.is_char_boundary(4) && t[..4].eq_ignore_ascii_case("sip:") {
        return Where::new("sip = ?", vec![text(t)]);
    }
    if t.len() > 3 && t.is_char_boundary(3) && t[..3].eq_ignore_ascii_case("cn=") {
        return Where::new(
            "json_extract(data, '$.Identity') = ? COLLATE NOCASE",
            vec![text(t)],
        );
    }
    if let Some((domain, logon)) = t.split_once('\\') {
        return Where::new(
            "sam = ? AND COALESCE(json_extract(data, '$.Domain'), 'contoso') = ? COLLATE NOCASE",
            vec![text(logon), text(domain)],
        );
    }
    if t.contains('@') {
        return Where::new(
            "(sip = ? OR upn = ?)",
            vec![text(&format!("sip:{t}")), text(t)],
        );
    }
    Where::new("display_name = ?", vec![text(t)])
}
