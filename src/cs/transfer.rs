//! Export-CsConfiguration and Import-CsConfiguration (ours): the whole
//! store — every instance of every family, the users with all their
//! columns, and the role memberships (not the change log) — as one JSON
//! document. Import checks the whole document first and only then
//! replaces the store's contents, in one statement.

use std::collections::HashSet;

use rusqlite::types::{Value as SqlValue, ValueRef};
use serde_json::{Map, Value as Json, json};

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::config::engine::Engine;
use crate::config::identity::Scope;
use crate::config::roles;
use crate::config::schema::{Family, schema};
use crate::config::store::{Store, StoreError, StoredObject};
use crate::config::values::{defaults, to_stored};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::Value;

use super::family::engine_error;

/// Marks a file as a lyncsh configuration export.
pub const FORMAT: &str = "lyncsh-configuration";
pub const VERSION: i64 = 1;

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<Export>(
            "Export-CsConfiguration",
            "Saves the whole configuration (settings, policies, users, role members) to a JSON file.",
            Signature::new()
                .named("FileName", PsType::String, "The JSON file to write.")
                .positional(0)
                .mandatory()
                .alias("Path"),
        )
        .examples(&[Example {
            code: "Export-CsConfiguration -FileName backup.json",
            about: "Saves the configuration to backup.json.",
        }])
        .module("Lync"),
        CommandInfo::new::<Import>(
            "Import-CsConfiguration",
            "Replaces the whole configuration with the contents of a file made by Export-CsConfiguration.",
            Signature::new()
                .named(
                    "FileName",
                    PsType::String,
                    "The JSON file to read, as written by Export-CsConfiguration.",
                )
                .positional(0)
                .mandatory()
                .alias("Path")
                .should_process(),
        )
        .examples(&[Example {
            code: "Import-CsConfiguration -FileName backup.json",
            about: "Restores the configuration saved in backup.json; the file is checked completely before anything changes.",
        }])
        .module("Lync"),
    ]
}

fn bad(msg: String) -> ErrorRecord {
    ErrorRecord::new(msg, "InvalidConfigurationFile", ErrorCategory::InvalidData)
        .with_exception("System.IO.InvalidDataException")
}

// ------------------------------------------------------------------ export

fn sql_to_json(v: ValueRef) -> Json {
    match v {
        ValueRef::Null => Json::Null,
        ValueRef::Integer(i) => Json::from(i),
        ValueRef::Real(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
        ValueRef::Text(t) => Json::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Json::String(String::from_utf8_lossy(b).into_owned()),
    }
}

/// The users table, every column, in id order.
fn export_users(s: &Store) -> Result<Vec<Json>, StoreError> {
    let mut st = s.conn().prepare("SELECT * FROM users ORDER BY id")?;
    let names: Vec<String> = st.column_names().map(|c| c.to_string()).collect();
    let mut rows = st.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut m = Map::new();
        for (i, name) in names.iter().enumerate() {
            let mut v = sql_to_json(row.get_ref(i)?);
            if name == "data"
                && let Some(text) = v.as_str()
                && let Ok(parsed @ Json::Object(_)) = serde_json::from_str::<Json>(text)
            {
                v = parsed;
            }
            m.insert(name.clone(), v);
        }
        out.push(Json::Object(m));
    }
    Ok(out)
}

fn export_members(s: &Store) -> Result<Vec<Json>, StoreError> {
    let mut st = s
        .conn()
        .prepare("SELECT role, member FROM role_members ORDER BY role, member")?;
    let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for r in rows {
        let (role, member) = r?;
        out.push(json!({ "Role": role, "Member": member }));
    }
    Ok(out)
}

/// The whole store as the export document.
pub fn export_document(engine: &Engine) -> Result<Json, crate::config::engine::EngineError> {
    let mut families = Map::new();
    for f in &schema().families {
        let instances: Vec<Json> = engine
            .list(f)?
            .into_iter()
            .map(|o| json!({ "Identity": o.identity, "Properties": Json::Object(o.data) }))
            .collect();
        families.insert(f.noun.clone(), Json::Array(instances));
    }
    let (users, members) = engine.with_store(|s| Ok((export_users(s)?, export_members(s)?)))?;
    let mut doc = Map::new();
    doc.insert("Format".into(), Json::from(FORMAT));
    doc.insert("Version".into(), Json::from(VERSION));
    doc.insert("Families".into(), Json::Object(families));
    doc.insert("Users".into(), Json::Array(users));
    doc.insert("RoleMembers".into(), Json::Array(members));
    Ok(Json::Object(doc))
}

#[derive(Default)]
struct Export;

impl Processor for Export {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let r = self.run(cx, args);
        cx.stamped(r)
    }
}

impl Export {
    fn run(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let name = args.string("FileName").unwrap_or_default();
        let path = cx.it.resolve_path(&name);
        crate::commands::check_path(cx.it, &path).map_err(|e| cx.fail(e))?;
        let engine = cx.it.engine().map_err(|e| cx.fail(e))?;
        let doc = export_document(&engine).map_err(|e| cx.fail(engine_error(e)))?;
        let mut text = serde_json::to_string_pretty(&doc).map_err(|e| {
            cx.fail(bad(format!(
                "The configuration could not be written as JSON: {e}"
            )))
        })?;
        text.push('\n');
        crate::commands::write_text_file(cx.it, &path, &text, false).map_err(|e| cx.fail(e))
    }
}

// ------------------------------------------------------------------ import

/// What an import writes, checked in full.
#[derive(Debug, Default)]
pub struct Plan {
    objects: Vec<(&'static Family, String, StoredObject)>,
    user_columns: Vec<String>,
    /// Per user, the columns given in the file (the others take the
    /// table's defaults).
    users: Vec<Vec<(String, SqlValue)>>,
    members: Vec<(&'static str, String)>,
}

impl Plan {
    pub fn summary(&self) -> String {
        format!(
            "{} instance(s), {} user(s), {} role membership(s)",
            self.objects.len(),
            self.users.len(),
            self.members.len()
        )
    }
}

/// A column of the users table: name, required, part of a unique key.
struct Column {
    name: String,
    required: bool,
    not_null: bool,
    unique: bool,
}

fn user_columns(s: &Store) -> Result<Vec<Column>, StoreError> {
    let mut cols = Vec::new();
    {
        let mut st = s.conn().prepare("PRAGMA table_info(users)")?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(1)?,
                r.get::<_, i64>(3)? != 0,
                r.get::<_, Option<String>>(4)?.is_some(),
                r.get::<_, i64>(5)? != 0,
            ))
        })?;
        for r in rows {
            let (name, not_null, has_default, pk) = r?;
            cols.push(Column {
                name,
                required: not_null && !has_default && !pk,
                not_null: not_null && !pk,
                unique: pk,
            });
        }
    }
    // Columns with a single-column unique index (UNIQUE constraints).
    let mut indexes = Vec::new();
    {
        let mut st = s.conn().prepare("PRAGMA index_list(users)")?;
        let rows = st.query_map([], |r| {
            Ok((r.get::<_, String>(1)?, r.get::<_, i64>(2)? != 0))
        })?;
        for r in rows {
            let (name, unique) = r?;
            if unique {
                indexes.push(name);
            }
        }
    }
    for index in indexes {
        let mut st = s.conn().prepare("SELECT name FROM pragma_index_info(?1)")?;
        let names: Vec<String> = st
            .query_map([&index], |r| r.get::<_, String>(0))?
            .collect::<Result<_, _>>()?;
        if let [only] = names.as_slice()
            && let Some(c) = cols.iter_mut().find(|c| &c.name == only)
        {
            c.unique = true;
        }
    }
    Ok(cols)
}

/// A JSON value as the shell would have passed it to a parameter.
fn json_to_value(j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Long(i),
            None => Value::Double(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(a) => Value::array(a.iter().map(json_to_value).collect()),
        Json::Object(_) => Value::from(j.to_string()),
    }
}

/// snake_case of a user property: ConferencingPolicy → conferencing_policy.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn instances(doc: &Map<String, Json>) -> Result<Vec<(&'static Family, &Json)>, String> {
    let families = match doc.get("Families") {
        None | Some(Json::Null) => return Ok(Vec::new()),
        Some(Json::Object(m)) => m,
        Some(_) => return Err("\"Families\" must be an object keyed by family name.".into()),
    };
    let mut out = Vec::new();
    for (noun, list) in families {
        let Some(family) = schema().family(noun) else {
            return Err(format!(
                "Unknown configuration family \"{noun}\"; this lyncsh knows {}.",
                schema()
                    .families
                    .iter()
                    .map(|f| f.noun.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        let Json::Array(items) = list else {
            return Err(format!("The instances of {noun} must be a JSON array."));
        };
        for item in items {
            out.push((family, item));
        }
    }
    Ok(out)
}

fn check_instance(family: &'static Family, item: &Json) -> Result<(Scope, StoredObject), String> {
    let noun = &family.noun;
    let Json::Object(m) = item else {
        return Err(format!("An instance of {noun} is not a JSON object."));
    };
    let Some(identity) = m.get("Identity").and_then(Json::as_str) else {
        return Err(format!("An instance of {noun} has no \"Identity\" text."));
    };
    let scope = Scope::from_display(family, identity)
        .filter(|s| family.has_scope(s.kind()) && !identity.contains(['*', '?']))
        .map_or_else(|| Scope::parse(family, identity), Ok)
        .map_err(|e| format!("{noun} \"{identity}\": {e}"))?;
    let mut data = defaults(family);
    match m.get("Properties") {
        None | Some(Json::Null) => {}
        Some(Json::Object(props)) => {
            for (name, value) in props {
                let Some(p) = family.prop(name).filter(|p| p.ty != "Identity") else {
                    return Err(format!(
                        "{noun} \"{identity}\": there is no property \"{name}\"."
                    ));
                };
                let stored = if value.is_null() {
                    Json::Null
                } else {
                    to_stored(p, &json_to_value(value)).map_err(|e| {
                        format!("{noun} \"{identity}\", property {}: {}", p.name, e.0)
                    })?
                };
                data.insert(p.name.clone(), stored);
            }
        }
        Some(_) => {
            return Err(format!(
                "{noun} \"{identity}\": \"Properties\" must be a JSON object."
            ));
        }
    }
    if family.is_domain_list() {
        data.insert("Domain".into(), Json::String(scope.display()));
    }
    let obj = StoredObject {
        identity: scope.display(),
        data,
    };
    Ok((scope, obj))
}

fn check_user_value(col: &str, v: &Json, who: &str) -> Result<SqlValue, String> {
    Ok(match v {
        Json::Null => SqlValue::Null,
        Json::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Json::Number(n) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => SqlValue::Text(s.clone()),
        Json::Object(_) if col == "data" => SqlValue::Text(v.to_string()),
        _ => {
            return Err(format!(
                "User {who}: the value of \"{col}\" must be text, a number, true/false or null."
            ));
        }
    })
}

/// Checks a whole export document against the schema and the store's
/// tables; nothing is written.
pub fn plan(engine: &Engine, doc: &Json) -> Result<Plan, String> {
    let Json::Object(doc) = doc else {
        return Err("The file is not a JSON object.".into());
    };
    if doc.get("Format").and_then(Json::as_str) != Some(FORMAT) {
        return Err(format!(
            "The file is not a lyncsh configuration export (its \"Format\" is not \"{FORMAT}\")."
        ));
    }
    match doc.get("Version").and_then(Json::as_i64) {
        Some(v) if (1..=VERSION).contains(&v) => {}
        Some(v) => {
            return Err(format!(
                "The file has format version {v}; this lyncsh reads version {VERSION}."
            ));
        }
        None => return Err("The file has no \"Version\" number.".into()),
    }
    let mut plan = Plan::default();

    // Instances, Global of each family first when the file lacks it.
    let given = instances(doc)?;
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for f in &schema().families {
        if f.has_scope("global") {
            let has_global = given.iter().any(|(fam, item)| {
                std::ptr::eq(*fam, f)
                    && item
                        .get("Identity")
                        .and_then(Json::as_str)
                        .is_some_and(|i| i.trim().eq_ignore_ascii_case("global"))
            });
            if !has_global {
                seen.insert((f.noun.clone(), "global".into()));
                plan.objects.push((
                    f,
                    "global".into(),
                    StoredObject {
                        identity: "Global".into(),
                        data: defaults(f),
                    },
                ));
            }
        }
    }
    for (family, item) in given {
        let (scope, obj) = check_instance(family, item)?;
        let key = scope.key();
        if !seen.insert((family.noun.clone(), key.clone())) {
            return Err(format!(
                "{} \"{}\" appears more than once.",
                family.noun, obj.identity
            ));
        }
        plan.objects.push((family, key, obj));
    }
    let has = |noun: &str, key: &str| seen.contains(&(noun.to_string(), key.to_string()));
    for (f, key, obj) in &plan.objects {
        if f.noun == "CsAllowedDomain" && has("CsBlockedDomain", key) {
            return Err(format!(
                "The domain \"{}\" is on both the allowed and the blocked domain list.",
                obj.identity
            ));
        }
    }

    // Users, generically over the columns of the users table.
    let columns = engine
        .with_store(|s| user_columns(s))
        .map_err(|e| e.to_string())?;
    plan.user_columns = columns.iter().map(|c| c.name.clone()).collect();
    let users = match doc.get("Users") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(a)) => a.clone(),
        Some(_) => return Err("\"Users\" must be a JSON array.".into()),
    };
    let mut unique_seen: Vec<HashSet<String>> = vec![HashSet::new(); columns.len()];
    for (n, u) in users.iter().enumerate() {
        let Json::Object(m) = u else {
            return Err(format!("User #{} is not a JSON object.", n + 1));
        };
        let who = m
            .get("sam")
            .and_then(Json::as_str)
            .map(|s| format!("\"{s}\""))
            .unwrap_or_else(|| format!("#{}", n + 1));
        if let Some(k) = m.keys().find(|k| !plan.user_columns.contains(k)) {
            return Err(format!("User {who}: there is no user attribute \"{k}\"."));
        }
        let mut row = Vec::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            let Some(v) = m.get(&c.name) else {
                if c.required {
                    return Err(format!("User {who}: \"{}\" is required.", c.name));
                }
                continue;
            };
            if v.is_null() && c.not_null {
                return Err(format!("User {who}: \"{}\" cannot be null.", c.name));
            }
            let sql = check_user_value(&c.name, v, &who)?;
            let text = match &sql {
                SqlValue::Null => None,
                SqlValue::Text(t) => Some(t.to_lowercase()),
                SqlValue::Integer(i) => Some(i.to_string()),
                SqlValue::Real(f) => Some(f.to_string()),
                SqlValue::Blob(_) => None,
            };
            if c.required && text.as_deref().is_none_or(|t| t.trim().is_empty()) {
                return Err(format!("User {who}: \"{}\" is required.", c.name));
            }
            if c.unique
                && let Some(t) = &text
                && let Some(set) = unique_seen.get_mut(i)
                && !set.insert(t.clone())
            {
                return Err(format!(
                    "User {who}: another user already has the {} \"{}\".",
                    c.name,
                    v.as_str().map_or_else(|| v.to_string(), str::to_string)
                ));
            }
            row.push((c.name.clone(), sql));
        }
        // Assignments must name per-user policies in the file.
        for f in &schema().families {
            let Some(up) = &f.user_property else { continue };
            let col = snake(up);
            let Some(policy) = m.get(&col).and_then(Json::as_str) else {
                continue;
            };
            let name = match policy.split_once(':') {
                Some((p, rest)) if p.eq_ignore_ascii_case("tag") => rest,
                _ => policy,
            };
            if !has(&f.noun, &Scope::Tag(name.to_string()).key()) {
                return Err(format!(
                    "User {who}: the assigned {} \"{policy}\" is not among the imported per-user policies.",
                    f.noun
                ));
            }
        }
        plan.users.push(row);
    }

    // Role memberships.
    let members = match doc.get("RoleMembers") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(a)) => a.clone(),
        Some(_) => return Err("\"RoleMembers\" must be a JSON array.".into()),
    };
    let mut pairs = HashSet::new();
    for (n, entry) in members.iter().enumerate() {
        let role = entry.get("Role").and_then(Json::as_str).unwrap_or_default();
        let member = entry
            .get("Member")
            .and_then(Json::as_str)
            .unwrap_or_default();
        let Some(r) = roles::builtin(role) else {
            return Err(format!(
                "Role membership #{}: there is no administrator role \"{role}\"; the roles are: {}.",
                n + 1,
                roles::names()
            ));
        };
        roles::check_member(member)
            .map_err(|e| format!("Role membership #{} ({}): {e}", n + 1, r.name))?;
        if !pairs.insert((r.name, member.to_lowercase())) {
            return Err(format!(
                "Role membership #{}: \"{member}\" is listed in {} twice.",
                n + 1,
                r.name
            ));
        }
        plan.members.push((r.name, member.to_string()));
    }
    Ok(plan)
}

/// Replaces the store's contents with a checked plan (in the statement's
/// transaction; a failure part-way is undone).
pub fn apply(
    engine: &Engine,
    plan: &Plan,
    command: &str,
    detail: &str,
) -> Result<(), crate::config::engine::EngineError> {
    let account = engine.account.clone();
    engine.with_store(|s| {
        s.write("SAVEPOINT import_configuration", [])?;
        let r = write_plan(s, plan);
        match r {
            Ok(()) => {
                s.write("RELEASE import_configuration", [])?;
                s.log(&account, command, "CsConfiguration", detail)
            }
            Err(e) => {
                let _ = s.conn().execute_batch(
                    "ROLLBACK TO import_configuration; RELEASE import_configuration",
                );
                Err(e)
            }
        }
    })
}

fn write_plan(s: &mut Store, plan: &Plan) -> Result<(), StoreError> {
    s.write("DELETE FROM objects", [])?;
    s.write("DELETE FROM users", [])?;
    s.write("DELETE FROM role_members", [])?;
    for (family, key, obj) in &plan.objects {
        s.put_object(&family.noun, key, obj)?;
    }
    for row in &plan.users {
        let cols: Vec<String> = row
            .iter()
            .map(|(c, _)| format!("\"{}\"", c.replace('"', "\"\"")))
            .collect();
        let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT INTO users ({}) VALUES ({})",
            cols.join(", "),
            marks.join(", ")
        );
        s.write(&sql, rusqlite::params_from_iter(row.iter().map(|(_, v)| v)))?;
    }
    for (role, member) in &plan.members {
        s.write(
            "INSERT INTO role_members (role, member) VALUES (?1, ?2)",
            [*role, member.as_str()],
        )?;
    }
    Ok(())
}

#[derive(Default)]
struct Import;

impl Processor for Import {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let r = self.run(cx, args);
        cx.stamped(r)
    }
}

impl Import {
    fn run(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let name = args.string("FileName").unwrap_or_default();
        let path = cx.it.resolve_path(&name);
        crate::commands::check_path(cx.it, &path).map_err(|e| cx.fail(e))?;
        let text = std::fs::read_to_string(&path)
            .map_err(|e| cx.fail(crate::commands::io_error(&path, &e)))?;
        let shown = name.clone();
        let doc: Json = serde_json::from_str(&text).map_err(|e| {
            cx.fail(bad(format!(
                "Cannot import '{shown}': it is not valid JSON ({e}). The configuration was not changed."
            )))
        })?;
        let engine = cx.it.engine().map_err(|e| cx.fail(e))?;
        let plan = plan(&engine, &doc).map_err(|e| {
            cx.fail(bad(format!(
                "Cannot import '{shown}': {e} The configuration was not changed."
            )))
        })?;
        if !cx.should_process(&shown, "Replace the whole configuration")? {
            return Ok(());
        }
        let line = cx.command_text();
        let detail = format!("replaced the configuration from {name}: {}", plan.summary());
        apply(&engine, &plan, &line, &detail).map_err(|e| cx.fail(engine_error(e)))
    }
}
