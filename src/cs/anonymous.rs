//! Test-CsAnonymousMeetingAccess (ours): can anonymous participants join
//! meetings? Lync keeps the answer in two places — the Access Edge
//! configuration must admit anonymous users, and the organizer's effective
//! conferencing policy must allow anonymous participants — so this reads
//! both and says which one stands in the way and what to run to change it.
//! The Control Panel's Home page shows the same answer ([`organization`]).

use std::rc::Rc;

use rusqlite::types::Value as Sql;

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::config::Engine;
use crate::config::engine::EngineError;
use crate::config::identity::Scope;
use crate::config::schema::{Family, schema};
use crate::config::users::User;
use crate::runtime::error::{ErrorRecord, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::{PsObject, Value};

use super::family::engine_error;
use super::grant::effective;
use super::users::resolve;

const ANSWER_TYPE: &str = "Lyncsh.AnonymousMeetingAccess";
const EDGE: &str = "CsAccessEdgeConfiguration";
const CONFERENCING: &str = "CsConferencingPolicy";
const EDGE_PROPERTY: &str = "AllowAnonymousUsers";
const POLICY_PROPERTY: &str = "AllowAnonymousParticipantsInMeetings";

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<TestAnonymous>(
            "Test-CsAnonymousMeetingAccess",
            "Says whether anonymous participants can join meetings of the organization or of one organizer, and why: the Access Edge setting and the organizer's effective conferencing policy.",
            Signature::new()
                .named(
                    "Identity",
                    PsType::Object,
                    "The organizer: SIP address, UPN, domain\\logon, distinguished name or display name. Without it, the answer is for the organization.",
                )
                .positional(0)
                .from_pipeline()
                .by_property_name(),
        )
        .examples(&[
            Example {
                code: "Test-CsAnonymousMeetingAccess",
                about: "Can anonymous users join the organization's meetings, and for how many organizers?",
            },
            Example {
                code: "Test-CsAnonymousMeetingAccess -Identity sip:kenmyer@contoso.com",
                about: "Can anonymous users join Ken Myer's meetings? If not, which setting stands in the way.",
            },
        ])
        .module("Lync"),
    ]
}

/// The answer with its reasons.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// `Global` for the organization, else the organizer's SIP address.
    pub identity: String,
    pub allowed: bool,
    /// The Access Edge configuration's AllowAnonymousUsers.
    pub edge: bool,
    /// The conferencing policy that decides (the organizer's effective one,
    /// or Global for the organization) and where it comes from.
    pub policy: String,
    pub scope: &'static str,
    pub policy_allows: bool,
    /// For the organization: Lync-enabled users whose effective policy
    /// allows anonymous participants, out of all Lync-enabled users.
    pub organizers: Option<(u64, u64)>,
    pub reason: String,
    /// The commands that would open access; empty when it is open.
    pub to_change: Vec<String>,
}

impl Answer {
    pub fn to_value(&self) -> Value {
        let mut o = PsObject::with_type(Rc::from(vec![
            Rc::from(ANSWER_TYPE),
            Rc::from("System.Object"),
        ]));
        o.set("Identity", Value::from(self.identity.as_str()));
        o.set("Allowed", Value::Bool(self.allowed));
        o.set(EDGE_PROPERTY, Value::Bool(self.edge));
        o.set("ConferencingPolicy", Value::from(self.policy.as_str()));
        o.set("PolicyScope", Value::from(self.scope));
        o.set(POLICY_PROPERTY, Value::Bool(self.policy_allows));
        if let Some((yes, all)) = self.organizers {
            o.set("OrganizersAllowed", Value::from(yes as i64));
            o.set("Organizers", Value::from(all as i64));
        }
        o.set("Reason", Value::from(self.reason.as_str()));
        o.set("ToChange", Value::from(self.to_change.join("; ")));
        Value::object(o)
    }
}

fn family(noun: &str) -> Result<&'static Family, EngineError> {
    schema()
        .family(noun)
        .ok_or_else(|| EngineError::Rule(format!("The schema has no {noun} family.")))
}

fn flag(obj: Option<&crate::config::store::StoredObject>, property: &str) -> bool {
    obj.and_then(|o| o.data.get(property))
        .is_some_and(|v| v == &serde_json::Value::Bool(true))
}

/// Does the Access Edge configuration admit anonymous users?
fn edge_allows(engine: &Engine) -> Result<bool, EngineError> {
    let edge = engine.get(family(EDGE)?, &Scope::Global)?;
    Ok(flag(edge.as_ref(), EDGE_PROPERTY))
}

fn policy_allows(engine: &Engine, identity: &str) -> Result<bool, EngineError> {
    let f = family(CONFERENCING)?;
    let Some(scope) = Scope::from_display(f, identity) else {
        return Ok(false);
    };
    Ok(flag(engine.get(f, &scope)?.as_ref(), POLICY_PROPERTY))
}

/// How a scope reads in a sentence.
fn scope_words(scope: &str) -> &'static str {
    match scope {
        "User" => "per-user",
        _ => "site",
    }
}

const OPEN_EDGE: &str = "Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $True";

fn open_policy(identity: &str) -> String {
    format!("Set-CsConferencingPolicy -Identity {identity} -{POLICY_PROPERTY} $True")
}

/// The answer for one Lync-enabled organizer.
pub fn organizer(engine: &Engine, u: &User) -> Result<Answer, ErrorRecord> {
    let edge = edge_allows(engine).map_err(engine_error)?;
    let (policy, scope) = effective(engine, family(CONFERENCING).map_err(engine_error)?, u)?;
    let allows = policy_allows(engine, &policy).map_err(engine_error)?;
    let who = u.sip.clone().unwrap_or_else(|| u.display_name.clone());
    let named = match scope {
        "Global" => "the Global conferencing policy".to_string(),
        _ => format!("the {} conferencing policy {policy}", scope_words(scope)),
    };
    let (reason, to_change) = match (edge, allows) {
        (true, true) => (
            format!(
                "Anonymous users can join meetings organized by {who}: the Access Edge configuration admits anonymous users and {named} allows anonymous participants."
            ),
            Vec::new(),
        ),
        (false, true) => (
            format!(
                "Anonymous users cannot join meetings organized by {who}: {named} allows anonymous participants, but the Access Edge configuration does not admit anonymous users."
            ),
            vec![OPEN_EDGE.to_string()],
        ),
        (true, false) => (
            format!(
                "Anonymous users cannot join meetings organized by {who}: the Access Edge configuration admits anonymous users, but {named} does not allow anonymous participants."
            ),
            vec![open_policy(&policy)],
        ),
        (false, false) => (
            format!(
                "Anonymous users cannot join meetings organized by {who}: the Access Edge configuration does not admit anonymous users, and {named} does not allow anonymous participants."
            ),
            vec![OPEN_EDGE.to_string(), open_policy(&policy)],
        ),
    };
    Ok(Answer {
        identity: who,
        allowed: edge && allows,
        edge,
        policy,
        scope,
        policy_allows: allows,
        organizers: None,
        reason,
        to_change,
    })
}

/// Lync-enabled users, and of them those whose effective conferencing
/// policy allows anonymous participants. One grouped read: users are
/// counted by their per-user policy and site, not one by one.
fn count_organizers(engine: &Engine) -> Result<(u64, u64), EngineError> {
    let f = family(CONFERENCING)?;
    let groups: Vec<(Option<String>, Option<String>, i64)> = engine.with_store(|s| {
        let mut st = s.conn().prepare_cached(
            "SELECT conferencing_policy, json_extract(data, '$.Site'), COUNT(*) FROM users \
             WHERE lync_enabled = 1 GROUP BY 1, 2",
        )?;
        let rows = st.query_map([], |r| {
            let site: Sql = r.get(1)?;
            let site = match site {
                Sql::Text(t) => Some(t),
                _ => None,
            };
            Ok((r.get(0)?, site, r.get(2)?))
        })?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r?);
        }
        Ok(out)
    })?;
    let (mut yes, mut all) = (0u64, 0u64);
    for (tag, site, n) in groups {
        let n = u64::try_from(n).unwrap_or(0);
        all += n;
        let mut u = User::default();
        u.policies[0] = tag;
        if let Some(site) = site {
            u.data
                .insert("Site".into(), serde_json::Value::String(site));
        }
        let (policy, _) =
            effective(engine, f, &u).map_err(|e| EngineError::Rule(e.message.into()))?;
        if policy_allows(engine, &policy)? {
            yes += n;
        }
    }
    Ok((yes, all))
}

/// The answer for the organization: the Access Edge setting, the Global
/// conferencing policy, and how many organizers' policies allow anonymous
/// participants (per-user and site policies may where Global does not).
pub fn organization(engine: &Engine) -> Result<Answer, ErrorRecord> {
    let edge = edge_allows(engine).map_err(engine_error)?;
    let global = policy_allows(engine, "Global").map_err(engine_error)?;
    let (yes, all) = count_organizers(engine).map_err(engine_error)?;
    // With no organizers yet, the Global policy is what new ones get.
    let some = yes > 0 || (all == 0 && global);
    let of = format!("{yes} of {all} Lync-enabled users");
    let (reason, to_change) = match (edge, some) {
        (true, true) => (
            format!(
                "Anonymous users can join meetings: the Access Edge configuration admits anonymous users, and the conferencing policies of {of} allow anonymous participants (the Global policy {}).",
                if global { "allows them" } else { "does not" }
            ),
            Vec::new(),
        ),
        (false, true) => (
            format!(
                "Anonymous users cannot join any meeting: the Access Edge configuration does not admit anonymous users (the conferencing policies of {of} would allow anonymous participants)."
            ),
            vec![OPEN_EDGE.to_string()],
        ),
        (true, false) => (
            format!(
                "Anonymous users cannot join any meeting: the Access Edge configuration admits anonymous users, but no conferencing policy in effect allows anonymous participants ({of})."
            ),
            vec![open_policy("Global")],
        ),
        (false, false) => (
            format!(
                "Anonymous users cannot join any meeting: the Access Edge configuration does not admit anonymous users, and no conferencing policy in effect allows anonymous participants ({of})."
            ),
            vec![OPEN_EDGE.to_string(), open_policy("Global")],
        ),
    };
    Ok(Answer {
        identity: "Global".into(),
        allowed: edge && some,
        edge,
        policy: "Global".into(),
        scope: "Global",
        policy_allows: global,
        organizers: Some((yes, all)),
        reason,
        to_change,
    })
}

#[derive(Default)]
struct TestAnonymous;

impl TestAnonymous {
    fn run(&self, cx: &mut Cx, args: &Args) -> Res<()> {
        let engine = cx.it.engine().map_err(|e| cx.fail(e))?;
        let Some(id) = args.get("Identity").filter(|v| !v.is_null()) else {
            let answer = organization(&engine).map_err(|e| cx.fail(e))?;
            return cx.emit(answer.to_value());
        };
        let id = id.clone();
        for u in resolve(cx, &engine, &id, true)? {
            match organizer(&engine, &u) {
                Ok(answer) => cx.emit(answer.to_value())?,
                Err(e) => cx.error(e)?,
            }
        }
        Ok(())
    }
}

impl Processor for TestAnonymous {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let r = self.run(cx, args);
        cx.stamped(r)
    }
}
