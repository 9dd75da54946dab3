//! Users: the directory (New/Get/Remove-CsAdUser, ours: the stand-in for
//! Active Directory) and the Lync side of a user (Enable/Disable/Set/
//! Get-CsUser). Get-CsUser and Get-CsAdUser read the store in pages and
//! emit each user as it is read, so a pipeline over 100,000 users never
//! holds them all.

use std::any::Any;
use std::rc::Rc;

use rusqlite::types::Value as Sql;
use serde_json::Value as Json;

use crate::commands::{Args, CommandInfo, Cx, Processor, Signature};
use crate::config::Engine;
use crate::config::users::{self, LYNC_DATA, User, Where};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::{Fill, Prop, PropKind, PsObject, Value};
use crate::syntax::ast::ScriptBlockAst;

use super::family::engine_error;
use super::user_filter::{self, Const};

pub const CS_USER_TYPE: &str = "Microsoft.Rtc.Management.ADConnect.Schema.OCSUserOrAppContact";
pub const AD_USER_TYPE: &str = "Microsoft.Rtc.Management.ADConnect.Schema.ADUser";

const PAGE: i64 = 1000;

pub fn infos() -> Vec<CommandInfo> {
    vec![
        info(
            "New-CsAdUser",
            "Adds a user to the directory that stands in for Active Directory (lyncsh only).",
            new_ad_user_sig(),
            || Box::new(NewAdUser),
        ),
        info(
            "Get-CsAdUser",
            "Shows directory users, whether or not they are enabled for Lync Server.",
            get_sig(true),
            || Box::new(GetUsers { ad: true }),
        ),
        info(
            "Remove-CsAdUser",
            "Deletes users from the directory (lyncsh only).",
            identity_sig("The directory user(s) to delete.").should_process(),
            || Box::new(RemoveAdUser),
        ),
        info(
            "Get-CsUser",
            "Shows the users enabled for Lync Server and their Lync attributes.",
            get_sig(false),
            || Box::new(GetUsers { ad: false }),
        ),
        info(
            "Enable-CsUser",
            "Enables directory users for Lync Server: a home Registrar pool and a SIP address.",
            enable_sig(),
            || Box::new(EnableUser { count: 0 }),
        ),
        info(
            "Disable-CsUser",
            "Removes every Lync Server attribute of users, policy assignments included.",
            identity_sig("The user(s) to disable for Lync Server.")
                .named(
                    "DomainController",
                    PsType::String,
                    "Accepted; lyncsh has one directory.",
                )
                .switch(
                    "PassThru",
                    "Writes the directory user object after the change.",
                )
                .should_process(),
            || Box::new(DisableUser),
        ),
        info(
            "Set-CsUser",
            "Changes the Lync Server attributes of enabled users (policies go through Grant-*).",
            set_sig(),
            || Box::new(SetUser { count: 0 }),
        ),
    ]
}

fn info(
    name: &'static str,
    synopsis: &'static str,
    signature: Signature,
    factory: fn() -> Box<dyn Processor>,
) -> CommandInfo {
    CommandInfo {
        name,
        aliases: &[],
        synopsis,
        signature,
        examples: &[],
        factory: Box::new(factory),
        module: "Lync",
    }
}

/// `-Identity`: mandatory, position 0, from the pipeline by value and by
/// property name.
pub fn identity_sig(help: &str) -> Signature {
    Signature::new()
        .named("Identity", PsType::Object, help)
        .positional(0)
        .mandatory()
        .from_pipeline()
        .by_property_name()
}

const IDENTITY_HELP: &str = "A user: SIP address (sip: optional), user principal name, domain\\logon, distinguished name, or display name (* matches any text).";

fn get_sig(ad: bool) -> Signature {
    let mut sig = Signature::new()
        .named("Identity", PsType::Object, IDENTITY_HELP)
        .positional(0)
        .from_pipeline()
        .by_property_name()
        .sets(&["Identity"])
        .named(
            "Filter",
            PsType::Object,
            "A PowerShell filter over user properties, such as {ConferencingPolicy -eq $null}.",
        )
        .sets(&["Filter"])
        .named(
            "LdapFilter",
            PsType::String,
            "An LDAP filter over directory attributes, such as Department=Finance or &(Department=Finance)(Title=Manager).",
        )
        .sets(&["LdapFilter"])
        .named(
            "OU",
            PsType::String,
            "Only users in this organizational unit (a distinguished name) or below it.",
        )
        .named(
            "ResultSize",
            PsType::Object,
            "At most this many users (0 returns none); Unlimited when left out.",
        )
        .named(
            "DomainController",
            PsType::String,
            "Accepted; lyncsh has one directory.",
        )
        .named("Credential", PsType::Object, "Accepted and ignored.");
    if !ad {
        sig = sig
            .switch(
                "UnassignedUser",
                "Only users enabled for Lync Server that have no Registrar pool.",
            )
            .switch(
                "OnLyncServer",
                "Only users homed on Lync Server (all of them here).",
            )
            .switch(
                "OnOfficeCommunicationServer",
                "Only users homed on an older Office Communications Server (none here).",
            );
    }
    sig.default_set("Identity")
}

fn new_ad_user_sig() -> Signature {
    let mut sig = Signature::new()
        .named(
            "DisplayName",
            PsType::String,
            "The user's full name, such as Ken Myer.",
        )
        .mandatory()
        .by_property_name()
        .named(
            "SamAccountName",
            PsType::String,
            "The logon name, unique in the directory.",
        )
        .mandatory()
        .by_property_name();
    for (name, help) in [
        (
            "UserPrincipalName",
            "The user principal name, such as kenmyer@contoso.com.",
        ),
        (
            "Domain",
            "The NetBIOS domain for domain\\logon identities; by default the first label of the UPN's domain, else contoso.",
        ),
        ("Department", "The department."),
        ("Office", "The office."),
        ("Title", "The job title."),
        ("City", "The city."),
        ("Company", "The company."),
        (
            "Site",
            "The Lync site whose site-scoped policies apply to the user (the site of the user's pool).",
        ),
        ("WindowsEmailAddress", "The e-mail address."),
        (
            "OU",
            "The organizational unit, such as OU=Finance (the domain is added) or a full DN; OU=Users by default.",
        ),
    ] {
        sig = sig.named(name, PsType::String, help).by_property_name();
    }
    sig.should_process()
}

fn enable_sig() -> Signature {
    identity_sig(IDENTITY_HELP)
        .named(
            "RegistrarPool",
            PsType::String,
            "The FQDN of the Registrar pool the users are homed on; without it they are enabled as unassigned users (Get-CsUser -UnassignedUser).",
        )
        .named(
            "SipAddress",
            PsType::String,
            "The SIP address (sip: is added when missing); for one user only.",
        )
        .named(
            "SipAddressType",
            PsType::String,
            "Builds the SIP address: FirstLastName, EmailAddress, UserPrincipalName, SAMAccountName or None.",
        )
        .values(&[
            "FirstLastName",
            "EmailAddress",
            "UserPrincipalName",
            "SAMAccountName",
            "None",
        ])
        .named(
            "SipDomain",
            PsType::String,
            "The SIP domain for FirstLastName and SAMAccountName addresses.",
        )
        .named("HostingProviderProxyFqdn", PsType::String, "Lync Online only; accepted and ignored.")
        .named("ProxyPool", PsType::String, "Lync Online only; accepted and ignored.")
        .named("DomainController", PsType::String, "Accepted; lyncsh has one directory.")
        .switch("PassThru", "Writes the user object after the change.")
        .should_process()
}

const SET_BOOLS: &[(&str, &str)] = &[
    (
        "Enabled",
        "False blocks sign-in but keeps every Lync setting; True allows it again.",
    ),
    (
        "EnterpriseVoiceEnabled",
        "Enterprise Voice (the PBX replacement) on or off.",
    ),
    (
        "HostedVoiceMail",
        "Routes voice mail to hosted Exchange Unified Messaging.",
    ),
    (
        "AudioVideoDisabled",
        "Turns audio and video off (not while Enterprise Voice or remote call control is on).",
    ),
    (
        "RemoteCallControlTelephonyEnabled",
        "Remote call control of a desk phone; needs LineURI and LineServerURI.",
    ),
];

const SET_TEXTS: &[(&str, &str)] = &[
    (
        "SipAddress",
        "A new SIP address (sip: is added when missing).",
    ),
    (
        "LineURI",
        "The phone number, as tel:+<E.164 number> with an optional ;ext=<n>.",
    ),
    (
        "LineServerURI",
        "The sip: URI of the remote call control gateway.",
    ),
    (
        "PrivateLine",
        "An unpublished phone number (tel:+<number>).",
    ),
];

fn set_sig() -> Signature {
    let mut sig = identity_sig(IDENTITY_HELP);
    for (name, help) in SET_TEXTS {
        sig = sig.named(name, PsType::String, help);
    }
    for (name, help) in SET_BOOLS {
        sig = sig.named(name, PsType::Bool, help);
    }
    sig.named(
        "ExchangeArchivingPolicy",
        PsType::String,
        "Where instant messages are archived: Uninitialized, UseLyncArchivingPolicy, NoArchiving or ArchivingToExchange.",
    )
    .values(&[
        "Uninitialized",
        "UseLyncArchivingPolicy",
        "NoArchiving",
        "ArchivingToExchange",
    ])
    .named("AcpInfo", PsType::Object, "Audio conferencing provider information; kept as given.")
    .named("DomainController", PsType::String, "Accepted; lyncsh has one directory.")
    .switch("PassThru", "Writes the user object after the change.")
    .should_process()
}

// ------------------------------------------------------------ objects

thread_local! {
    static CS_NAMES: Rc<[Rc<str>]> = Rc::from(vec![Rc::from(CS_USER_TYPE), Rc::from("System.Object")]);
    static AD_NAMES: Rc<[Rc<str>]> = Rc::from(vec![Rc::from(AD_USER_TYPE), Rc::from("System.Object")]);
    static PROP_NAMES: Vec<Rc<str>> = user_filter::USER_PROPS.iter().map(|p| Rc::from(*p)).collect();
}

fn prop_name(name: &str) -> Rc<str> {
    PROP_NAMES.with(|names| {
        names
            .iter()
            .find(|n| &***n == name)
            .cloned()
            .unwrap_or_else(|| Rc::from(name))
    })
}

/// Properties being made, in order.
struct Props(Vec<Prop>);

fn push(o: &mut Props, name: &str, value: Value) {
    o.0.push(Prop {
        name: prop_name(name),
        value,
        kind: PropKind::Property,
        ty: None,
        read_only: false,
    });
}

fn opt(s: Option<String>) -> Value {
    s.map(Value::from).unwrap_or_default()
}

/// The object Get-CsUser, Set/Enable-CsUser -PassThru and Grant -PassThru write,
/// its properties in the order Lync lists them. Policies of kinds lyncsh has
/// no family for ([`users::OTHER_POLICIES`]) are always `$null`: no per-user
/// policy, as on a server where none was granted.
pub fn cs_user_object(u: &User) -> Value {
    let dn: Rc<str> = Rc::from(u.dn());
    let mut o = PsObject::with_type(CS_NAMES.with(|n| n.clone()));
    *o.props_mut() = cs_props(u, &dn);
    o.display = Some(dn);
    Value::object(o)
}

fn cs_props(u: &User, dn: &Rc<str>) -> Vec<Prop> {
    let mut o = Props(Vec::with_capacity(40));
    let policy = |name: &str| match u.policy(name) {
        Some(p) => Value::from(p),
        None => opt(u.text(name)),
    };
    push(&mut o, "Identity", Value::String(dn.clone()));
    for p in [
        "VoicePolicy",
        "VoiceRoutingPolicy",
        "ConferencingPolicy",
        "PresencePolicy",
        "DialPlan",
        "LocationPolicy",
        "ClientPolicy",
        "ClientVersionPolicy",
        "ArchivingPolicy",
    ] {
        push(&mut o, p, policy(p));
    }
    push(
        &mut o,
        "ExchangeArchivingPolicy",
        Value::from(
            u.text("ExchangeArchivingPolicy")
                .unwrap_or_else(|| "Uninitialized".into()),
        ),
    );
    for p in [
        "PinPolicy",
        "ExternalAccessPolicy",
        "MobilityPolicy",
        "PersistentChatPolicy",
        "UserServicesPolicy",
    ] {
        push(&mut o, p, policy(p));
    }
    push(
        &mut o,
        "HostedVoiceMail",
        Value::Bool(u.flag("HostedVoiceMail")),
    );
    push(
        &mut o,
        "HostedVoicemailPolicy",
        policy("HostedVoicemailPolicy"),
    );
    push(&mut o, "RegistrarPool", opt(u.text("RegistrarPool")));
    push(&mut o, "Enabled", Value::Bool(u.flag("Enabled")));
    push(&mut o, "SipAddress", opt(u.sip.clone()));
    push(&mut o, "LineURI", opt(u.text("LineURI")));
    push(
        &mut o,
        "EnterpriseVoiceEnabled",
        Value::Bool(u.flag("EnterpriseVoiceEnabled")),
    );
    for t in ["LineServerURI", "PrivateLine"] {
        push(&mut o, t, opt(u.text(t)));
    }
    for b in ["AudioVideoDisabled", "RemoteCallControlTelephonyEnabled"] {
        push(&mut o, b, Value::Bool(u.flag(b)));
    }
    push(&mut o, "DisplayName", Value::from(u.display_name.as_str()));
    push(&mut o, "SamAccountName", Value::from(u.sam.as_str()));
    push(&mut o, "UserPrincipalName", opt(u.upn.clone()));
    for t in ["Department", "Office", "Title", "City", "Company", "Site"] {
        push(&mut o, t, opt(u.text(t)));
    }
    o.0
}

/// The object Get-CsAdUser and New-CsAdUser write.
pub fn ad_user_object(u: &User) -> Value {
    let dn: Rc<str> = Rc::from(u.dn());
    let mut o = PsObject::with_type(AD_NAMES.with(|n| n.clone()));
    *o.props_mut() = ad_props(u, &dn);
    o.display = Some(dn);
    Value::object(o)
}

fn ad_props(u: &User, dn: &Rc<str>) -> Vec<Prop> {
    let mut o = Props(Vec::with_capacity(14));
    push(&mut o, "Identity", Value::String(dn.clone()));
    push(&mut o, "DisplayName", Value::from(u.display_name.as_str()));
    push(&mut o, "SamAccountName", Value::from(u.sam.as_str()));
    push(&mut o, "UserPrincipalName", opt(u.upn.clone()));
    push(&mut o, "Domain", Value::from(u.domain()));
    push(&mut o, "SipAddress", opt(u.sip.clone()));
    push(
        &mut o,
        "Enabled",
        Value::Bool(u.lync_enabled && u.flag("Enabled")),
    );
    for t in [
        "Department",
        "Office",
        "Title",
        "City",
        "Company",
        "Site",
        "WindowsEmailAddress",
    ] {
        push(&mut o, t, opt(u.text(t)));
    }
    o.0
}

/// A user as read from the store, its properties made on first look (a
/// pipeline that passes users on or counts them never makes them).
#[derive(Debug)]
struct StoredUser {
    row: users::Row,
    ad: bool,
    dn: Rc<str>,
}

impl Fill for StoredUser {
    fn props(&self) -> Vec<Prop> {
        let u = self.row.user();
        if self.ad {
            ad_props(&u, &self.dn)
        } else {
            cs_props(&u, &self.dn)
        }
    }

    fn peek(&self, name: &str) -> Option<Value> {
        if name.eq_ignore_ascii_case("SamAccountName") {
            Some(Value::from(self.row.sam.as_str()))
        } else if name.eq_ignore_ascii_case("Identity") {
            Some(Value::String(self.dn.clone()))
        } else {
            None
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The object Get-CsUser (or, `ad`, Get-CsAdUser) writes for a row.
fn stored_user_object(row: users::Row, ad: bool) -> Value {
    let dn: Rc<str> = Rc::from(row.dn());
    let names = if ad { &AD_NAMES } else { &CS_NAMES };
    let source = Rc::new(StoredUser {
        row,
        ad,
        dn: dn.clone(),
    });
    Value::object(PsObject::lazy(names.with(|n| n.clone()), source, dn))
}

/// The row behind a user object nobody has looked into or changed since
/// Get-CsUser or Get-CsAdUser read it, with its distinguished name.
pub fn with_stored_row<T>(v: &Value, f: impl FnOnce(&users::Row, &str) -> T) -> Option<T> {
    let source = stored_source(v)?;
    let stored = source.as_any().downcast_ref::<StoredUser>()?;
    Some(f(&stored.row, &stored.dn))
}

/// [`with_stored_row`] for many objects at once; `None` for each that has
/// no such row (any more).
pub fn with_stored_rows<T>(vs: &[Value], f: impl FnOnce(&[Option<(&users::Row, &str)>]) -> T) -> T {
    let sources: Vec<_> = vs.iter().map(stored_source).collect();
    let rows: Vec<_> = sources
        .iter()
        .map(|s| {
            let stored = s.as_ref()?.as_any().downcast_ref::<StoredUser>()?;
            Some((&stored.row, &*stored.dn))
        })
        .collect();
    f(&rows)
}

fn stored_source(v: &Value) -> Option<Rc<dyn Fill>> {
    let Value::Object(o) = v else {
        return None;
    };
    o.borrow().untouched_source().cloned()
}

// ------------------------------------------------------------ identities

fn invalid(msg: String) -> ErrorRecord {
    ErrorRecord::new(msg, "InvalidArgument", ErrorCategory::InvalidArgument)
        .with_exception("System.ArgumentException")
}

pub fn not_found(identity: &str, lync: bool) -> ErrorRecord {
    let msg = if lync {
        format!("No user enabled for Lync Server matches the identity \"{identity}\".")
    } else {
        format!("No user in the directory matches the identity \"{identity}\".")
    };
    ErrorRecord::new(msg, "UserNotFound", ErrorCategory::ObjectNotFound)
        .with_exception("Microsoft.Rtc.Management.AD.ManagementException")
        .with_target(Value::from(identity))
}

/// What an `-Identity` value names: (text for messages, the rows).
/// Strings are user identities; user objects from Get-CsUser/Get-CsAdUser
/// are found by SamAccountName; other objects by their Identity property.
pub fn identities(v: &Value) -> Result<Vec<(String, Where)>, ErrorRecord> {
    if v.is_null() {
        return Err(invalid(
            "Cannot bind argument to parameter 'Identity' because it is null.".into(),
        ));
    }
    let mut out = Vec::new();
    for item in v.enumerate() {
        let by_sam = |sam: String| (sam.clone(), Where::new("sam = ?", vec![Sql::Text(sam)]));
        match &item {
            Value::Object(o) => {
                let o = o.borrow();
                let ours = o
                    .type_names
                    .first()
                    .is_some_and(|t| t.starts_with("Microsoft.Rtc.Management.ADConnect.Schema."));
                let sam = o.get("SamAccountName").filter(|s| !s.is_null());
                match (ours, sam, o.get("Identity").filter(|s| !s.is_null())) {
                    (true, Some(sam), _) => out.push(by_sam(sam.to_string())),
                    (_, _, Some(id)) => {
                        let id = id.to_string();
                        out.push((id.clone(), users::identity_where(&id)));
                    }
                    (_, Some(sam), None) => out.push(by_sam(sam.to_string())),
                    _ => {
                        return Err(invalid(
                            "Cannot bind parameter 'Identity': the object has no Identity or SamAccountName property.".into(),
                        ));
                    }
                }
            }
            Value::Null => {
                return Err(invalid(
                    "Cannot bind argument to parameter 'Identity' because it is null.".into(),
                ));
            }
            other => {
                let s = other.to_string();
                if s.trim().is_empty() {
                    return Err(invalid(
                        "Cannot bind argument to parameter 'Identity' because it is an empty string."
                            .into(),
                    ));
                }
                out.push((s.clone(), users::identity_where(&s)));
            }
        }
    }
    Ok(out)
}

fn eng(cx: &mut Cx) -> Res<Rc<Engine>> {
    cx.it.engine().map_err(|e| cx.fail(e))
}

/// Resolves an identity; a name that matches no user is a non-terminating
/// error (returns an empty list). `lync`: only users enabled for Lync.
pub fn resolve(cx: &mut Cx, engine: &Engine, v: &Value, lync: bool) -> Res<Vec<User>> {
    let ids = identities(v).map_err(|e| cx.fail(e))?;
    let mut out = Vec::new();
    for (label, w) in ids {
        let w = if lync {
            Where::new("lync_enabled = 1", Vec::new()).and(w)
        } else {
            w
        };
        let found = users::find(engine, &w).map_err(|e| cx.fail(engine_error(e)))?;
        if found.is_empty() {
            cx.error(not_found(&label, lync))?;
        }
        out.extend(found);
    }
    Ok(out)
}

/// Stores one changed user for Enable-CsUser and Set-CsUser. A failed save
/// is reported for that user and the pipeline goes on; -PassThru emits
/// the user as saved.
fn save_user(
    cx: &mut Cx,
    engine: &Engine,
    u: &User,
    command: &str,
    detail: &str,
    passthru: bool,
) -> Res<()> {
    match users::save(engine, u, command, detail) {
        Err(e) => cx.error(engine_error(e)),
        Ok(()) if passthru => cx.emit(cs_user_object(u)),
        Ok(()) => Ok(()),
    }
}

// ------------------------------------------------------------ Get

struct GetUsers {
    ad: bool,
}

enum Check {
    Ldap(user_filter::Ldap),
    Ou(String),
    Unassigned,
}

impl GetUsers {
    fn limit(&self, cx: &Cx, args: &Args) -> Res<Option<u64>> {
        let Some(v) = args.get("ResultSize").filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let text = v.to_string();
        if text.eq_ignore_ascii_case("unlimited") {
            return Ok(None);
        }
        match text.trim().parse::<i64>() {
            Ok(n) if (0..=i64::from(i32::MAX)).contains(&n) => Ok(Some(n as u64)),
            _ => Err(cx.fail(invalid(format!(
                "Cannot bind parameter 'ResultSize'. \"{text}\" is neither Unlimited nor a number from 0 to 2147483647."
            )))),
        }
    }

    fn run(&self, cx: &mut Cx, args: &Args) -> Res<()> {
        let limit = self.limit(cx, args)?;
        if limit == Some(0) {
            return Ok(());
        }
        let engine = eng(cx)?;
        let base = if self.ad {
            Where::all()
        } else {
            Where::new("lync_enabled = 1", Vec::new())
        };
        let mut checks = Vec::new();
        if let Some(ou) = args.string("OU") {
            checks.push(Check::Ou(ou.trim().to_ascii_lowercase()));
        }
        if args.switch("UnassignedUser") {
            checks.push(Check::Unassigned);
        }
        if args.switch("OnOfficeCommunicationServer") {
            return Ok(());
        }
        if let Some(ldap) = args.string("LdapFilter") {
            let f = user_filter::parse_ldap(&ldap).map_err(|e| {
                cx.fail(invalid(format!(
                    "Cannot bind parameter 'LdapFilter'. \"{ldap}\" is not a valid LDAP filter: {e}."
                )))
            })?;
            checks.push(Check::Ldap(f));
        }
        let mut emitted = 0u64;
        if let Some(filter) = args.get("Filter").filter(|v| !v.is_null()) {
            let text = filter.to_string();
            let var = |name: &str| cx_var(cx, name);
            let sql = user_filter::to_sql(&text, self.ad, &var);
            return match sql {
                Some(w) => self.stream(
                    cx,
                    &engine,
                    &base.and(w),
                    &checks,
                    None,
                    limit,
                    &mut emitted,
                ),
                None => {
                    let rewritten = user_filter::rewrite(&text).map_err(|word| {
                        cx.fail(invalid(format!(
                            "Cannot bind parameter 'Filter'. \"{word}\" in the filter \"{text}\" is not a property of a user."
                        )))
                    })?;
                    let src = Rc::new(crate::syntax::Source::new(None, rewritten));
                    let sb = crate::syntax::parse_script(src).map_err(|e| {
                        cx.fail(invalid(format!(
                            "Cannot bind parameter 'Filter'. The filter \"{text}\" is not valid: {}",
                            e.message
                        )))
                    })?;
                    self.stream(cx, &engine, &base, &checks, Some(&sb), limit, &mut emitted)
                }
            };
        }
        match args.get("Identity").filter(|v| !v.is_null()) {
            Some(id) => {
                let ids = identities(id).map_err(|e| cx.fail(e))?;
                for (label, w) in ids {
                    let before = emitted;
                    self.stream(
                        cx,
                        &engine,
                        &base.clone().and(w),
                        &checks,
                        None,
                        limit,
                        &mut emitted,
                    )?;
                    if emitted == before {
                        cx.error(not_found(&label, !self.ad))?;
                    }
                    if limit.is_some_and(|l| emitted >= l) {
                        break;
                    }
                }
                Ok(())
            }
            None => self.stream(cx, &engine, &base, &checks, None, limit, &mut emitted),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn stream(
        &self,
        cx: &mut Cx,
        engine: &Engine,
        w: &Where,
        checks: &[Check],
        predicate: Option<&Rc<ScriptBlockAst>>,
        limit: Option<u64>,
        emitted: &mut u64,
    ) -> Res<()> {
        // Only counted downstream (`| Measure-Object`): the store counts.
        if checks.is_empty()
            && predicate.is_none()
            && limit.is_none()
            && cx.rt.common.out_variable.is_none()
            && cx.out.counts_only()
        {
            let n = users::count(engine, w).map_err(|e| cx.fail(engine_error(e)))?;
            let n = u64::try_from(n).unwrap_or(0);
            *emitted += n;
            return cx.out.add_count(cx.it, n);
        }
        let mut after = 0;
        loop {
            let batch =
                users::rows(engine, w, after, PAGE).map_err(|e| cx.fail(engine_error(e)))?;
            let Some(last) = batch.last() else {
                return Ok(());
            };
            after = last.id;
            for row in batch {
                if !checks.is_empty() {
                    let u = row.user();
                    if !checks.iter().all(|c| check(c, &u)) {
                        continue;
                    }
                }
                let obj = stored_user_object(row, self.ad);
                if let Some(sb) = predicate
                    && !cx.it.invoke_predicate(sb, obj.clone())?
                {
                    continue;
                }
                cx.emit(obj)?;
                *emitted += 1;
                if limit.is_some_and(|l| *emitted >= l) {
                    return Ok(());
                }
            }
        }
    }
}

fn cx_var(cx: &Cx, name: &str) -> Option<Const> {
    user_filter::constant(cx.it.get_var(&name.to_ascii_lowercase())?)
}

fn check(c: &Check, u: &User) -> bool {
    match c {
        Check::Ldap(f) => user_filter::ldap_matches(f, u),
        Check::Ou(ou) => {
            let dn = u.dn().to_ascii_lowercase();
            dn == *ou || dn.ends_with(&format!(",{ou}"))
        }
        Check::Unassigned => u.text("RegistrarPool").is_none_or(|p| p.is_empty()),
    }
}

impl Processor for GetUsers {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let r = self.run(cx, args);
        cx.stamped(r)
    }
}

// ------------------------------------------------------------ New/Remove-CsAdUser

struct NewAdUser;

fn given(args: &Args, name: &str) -> Option<String> {
    args.get(name)
        .filter(|v| !v.is_null())
        .map(|v| v.to_string().trim().to_string())
        .filter(|s| !s.is_empty())
}

impl NewAdUser {
    fn run(&self, cx: &mut Cx, args: &Args) -> Res<()> {
        let (Some(display), Some(sam)) =
            (given(args, "DisplayName"), given(args, "SamAccountName"))
        else {
            return cx.error(invalid(
                "A directory user needs a DisplayName and a SamAccountName.".into(),
            ));
        };
        if sam.contains(['\\', '@', '/', ' ', '*']) {
            return cx.error(invalid(format!(
                "\"{sam}\" is not a valid SamAccountName: it may not contain spaces or \\ @ / *."
            )));
        }
        let upn = given(args, "UserPrincipalName");
        let dns = upn
            .as_deref()
            .and_then(|u| u.split_once('@'))
            .map(|(_, d)| d.to_string())
            .filter(|d| !d.is_empty());
        let domain = given(args, "Domain").unwrap_or_else(|| {
            dns.as_deref()
                .and_then(|d| d.split('.').next())
                .unwrap_or("contoso")
                .to_string()
        });
        let dcs = dns
            .clone()
            .unwrap_or_else(|| format!("{domain}.com"))
            .split('.')
            .map(|p| format!("DC={p}"))
            .collect::<Vec<_>>()
            .join(",");
        let ou = given(args, "OU").unwrap_or_else(|| "OU=Users".into());
        let ou = if ou.to_ascii_lowercase().contains("dc=") {
            ou
        } else {
            format!("{ou},{dcs}")
        };
        let mut data = serde_json::Map::new();
        data.insert(
            "Identity".into(),
            Json::String(format!("CN={display},{ou}")),
        );
        data.insert("Domain".into(), Json::String(domain));
        for key in [
            "Department",
            "Office",
            "Title",
            "City",
            "Company",
            "Site",
            "WindowsEmailAddress",
        ] {
            if let Some(v) = given(args, key) {
                data.insert(key.into(), Json::String(v));
            }
        }
        let mut u = User {
            sam,
            upn,
            display_name: display,
            data,
            ..User::default()
        };
        if !cx.should_process(&u.dn(), "New-CsAdUser")? {
            return Ok(());
        }
        let engine = eng(cx)?;
        match users::insert(&engine, &u, &cx.command_text()) {
            Ok(id) => {
                u.id = id;
                cx.emit(ad_user_object(&u))
            }
            Err(e) => cx.error(engine_error(e)),
        }
    }
}

impl Processor for NewAdUser {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let r = self.run(cx, args);
        cx.stamped(r)
    }
}

struct RemoveAdUser;

impl Processor for RemoveAdUser {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let r = (|| {
            let engine = eng(cx)?;
            let id = args.get("Identity").cloned().unwrap_or_default();
            let line = cx.command_text();
            for u in resolve(cx, &engine, &id, false)? {
                if cx.should_process(&u.dn(), "Remove-CsAdUser")? {
                    users::delete(&engine, &u, &line).map_err(|e| cx.fail(engine_error(e)))?;
                }
            }
            Ok(())
        })();
        cx.stamped(r)
    }
}

// ------------------------------------------------------------ Enable/Disable

struct EnableUser {
    /// Users handled so far: -SipAddress names one user only.
    count: usize,
}

/// `sip:` added when missing; the rest must be user@domain.
fn sip_address(text: &str) -> Result<String, String> {
    let t = text.trim();
    let body = match t.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("sip:") => t.get(4..).unwrap_or_default(),
        _ => t,
    };
    match body.split_once('@') {
        Some((user, domain))
            if !user.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !body.contains([' ', ';', '<', '>', '"']) =>
        {
            Ok(format!("sip:{body}"))
        }
        _ => Err(format!(
            "\"{t}\" is not a valid SIP address: use sip:<user>@<SIP domain>, such as sip:kenmyer@contoso.com."
        )),
    }
}

impl EnableUser {
    fn sip_for(&self, u: &User, args: &Args) -> Result<Option<String>, String> {
        if let Some(s) = given(args, "SipAddress") {
            return sip_address(&s).map(Some);
        }
        let kind = given(args, "SipAddressType").unwrap_or_default();
        let domain = given(args, "SipDomain").unwrap_or_default();
        let clean = |s: &str| -> String {
            s.chars()
                .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
                .collect()
        };
        let addr = match kind.to_ascii_lowercase().as_str() {
            "none" => return Ok(None),
            "firstlastname" => {
                let words: Vec<&str> = u.display_name.split_whitespace().collect();
                let name = match (words.first(), words.last()) {
                    (Some(f), Some(l)) if words.len() > 1 => format!("{}.{}", clean(f), clean(l)),
                    (Some(f), _) => clean(f),
                    _ => clean(&u.sam),
                };
                format!("{name}@{domain}")
            }
            "samaccountname" => format!("{}@{domain}", u.sam),
            "userprincipalname" => u.upn.clone().ok_or_else(|| {
                format!(
                    "{} has no user principal name to build a SIP address from.",
                    u.display_name
                )
            })?,
            "emailaddress" => u.text("WindowsEmailAddress").ok_or_else(|| {
                format!(
                    "{} has no e-mail address to build a SIP address from.",
                    u.display_name
                )
            })?,
            _ => return Err(format!("\"{kind}\" is not a SIP address type.")),
        };
        sip_address(&addr).map(Some)
    }

    fn run(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let has_sip = given(args, "SipAddress").is_some();
        let kind = given(args, "SipAddressType");
        if has_sip && kind.is_some() {
            return Err(cx.fail(invalid(
                "Use either -SipAddress or -SipAddressType, not both.".into(),
            )));
        }
        if !has_sip && kind.is_none() {
            return Err(cx.fail(invalid(
                "Enable-CsUser needs a SIP address: give -SipAddress, or -SipAddressType (with -SipDomain for FirstLastName and SAMAccountName).".into(),
            )));
        }
        if let Some(k) = &kind
            && (k.eq_ignore_ascii_case("FirstLastName") || k.eq_ignore_ascii_case("SAMAccountName"))
            && given(args, "SipDomain").is_none()
        {
            return Err(cx.fail(invalid(format!(
                "-SipAddressType {k} builds the address from the user's name: add -SipDomain <domain>."
            ))));
        }
        let pool = given(args, "RegistrarPool");
        let engine = eng(cx)?;
        let id = args.get("Identity").cloned().unwrap_or_default();
        let line = cx.command_text();
        for mut u in resolve(cx, &engine, &id, false)? {
            self.count += 1;
            if has_sip && self.count > 1 {
                cx.error(invalid(format!(
                    "-SipAddress can enable one user only; {} was not enabled. Use -SipAddressType for several users.",
                    u.display_name
                )))?;
                continue;
            }
            if u.lync_enabled {
                cx.warn(&format!(
                    "{} is already enabled for Lync Server; nothing was changed.",
                    u.display_name
                ))?;
                continue;
            }
            let sip = match self.sip_for(&u, args) {
                Ok(s) => s,
                Err(msg) => {
                    cx.error(invalid(msg))?;
                    continue;
                }
            };
            if !cx.should_process(&u.dn(), "Enable-CsUser")? {
                continue;
            }
            u.lync_enabled = true;
            u.sip = sip;
            match &pool {
                Some(p) => u
                    .data
                    .insert("RegistrarPool".into(), Json::String(p.clone())),
                None => u.data.remove("RegistrarPool"),
            };
            u.data.insert("Enabled".into(), Json::Bool(true));
            for key in [
                "EnterpriseVoiceEnabled",
                "HostedVoiceMail",
                "AudioVideoDisabled",
                "RemoteCallControlTelephonyEnabled",
            ] {
                u.data.insert(key.into(), Json::Bool(false));
            }
            let detail = format!(
                "enabled; RegistrarPool={}; SipAddress={}",
                pool.as_deref().unwrap_or("$null"),
                u.sip.as_deref().unwrap_or("$null")
            );
            save_user(cx, &engine, &u, &line, &detail, args.switch("PassThru"))?;
        }
        Ok(())
    }
}

impl Processor for EnableUser {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let r = self.run(cx, args);
        cx.stamped(r)
    }
}

struct DisableUser;

impl Processor for DisableUser {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let r = (|| {
            let engine = eng(cx)?;
            let id = args.get("Identity").cloned().unwrap_or_default();
            let line = cx.command_text();
            for mut u in resolve(cx, &engine, &id, false)? {
                if !u.lync_enabled {
                    // Already disabled: nothing to remove.
                    continue;
                }
                if !cx.should_process(&u.dn(), "Disable-CsUser")? {
                    continue;
                }
                u.lync_enabled = false;
                u.sip = None;
                u.policies = [None, None, None];
                for key in LYNC_DATA {
                    u.data.remove(*key);
                }
                users::save(
                    &engine,
                    &u,
                    &line,
                    "disabled; Lync attributes and policy assignments removed",
                )
                .map_err(|e| cx.fail(engine_error(e)))?;
                if args.switch("PassThru") {
                    cx.emit(ad_user_object(&u))?;
                }
            }
            Ok(())
        })();
        cx.stamped(r)
    }
}

// ------------------------------------------------------------ Set-CsUser

struct SetUser {
    count: usize,
}

fn tel_uri(text: &str, name: &str) -> Result<Option<String>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let body = match t.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("tel:") => t.get(4..).unwrap_or_default(),
        _ => "",
    };
    let (number, ext) = match body.split_once(';') {
        Some((n, e)) => (n, Some(e)),
        None => (body, None),
    };
    let digits = number.strip_prefix('+').unwrap_or(number);
    let ext_ok = ext.is_none_or(|e| {
        e.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("ext="))
            && e.get(4..)
                .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
    });
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) || !ext_ok {
        return Err(format!(
            "Cannot bind parameter '{name}'. \"{t}\" is not a valid phone URI: use tel:+<number>, optionally followed by ;ext=<extension>."
        ));
    }
    Ok(Some(t.to_string()))
}

impl SetUser {
    fn run(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        // Validate the values once, before any user is touched.
        let mut texts: Vec<(&str, Option<String>)> = Vec::new();
        for (name, _) in SET_TEXTS {
            let Some(v) = args.get(name) else { continue };
            let s = if v.is_null() {
                String::new()
            } else {
                v.to_string()
            };
            let value = match *name {
                "SipAddress" => {
                    if s.trim().is_empty() {
                        return Err(cx.fail(invalid(
                            "Cannot bind argument to parameter 'SipAddress' because it is empty: a Lync user needs a SIP address.".into(),
                        )));
                    }
                    Some(sip_address(&s).map_err(|e| cx.fail(invalid(e)))?)
                }
                "LineURI" | "PrivateLine" => tel_uri(&s, name).map_err(|e| cx.fail(invalid(e)))?,
                _ => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            };
            texts.push((name, value));
        }
        let engine = eng(cx)?;
        let id = args.get("Identity").cloned().unwrap_or_default();
        let line = cx.command_text();
        for mut u in resolve(cx, &engine, &id, true)? {
            self.count += 1;
            let mut detail = Vec::new();
            for (name, value) in &texts {
                if *name == "SipAddress" {
                    if value != &u.sip {
                        detail.push(format!(
                            "SipAddress={}",
                            value.as_deref().unwrap_or("$null")
                        ));
                    }
                    u.sip = value.clone();
                    continue;
                }
                let new = value.clone().map(Json::String).unwrap_or(Json::Null);
                if u.data.get(*name).unwrap_or(&Json::Null) != &new {
                    detail.push(format!("{name}={}", value.as_deref().unwrap_or("$null")));
                }
                match value {
                    Some(_) => u.data.insert(name.to_string(), new),
                    None => u.data.remove(*name),
                };
            }
            for (name, _) in SET_BOOLS {
                if let Some(v) = args.get(name) {
                    let b = v.is_true();
                    if u.flag(name) != b {
                        detail.push(format!("{name}={b}"));
                    }
                    u.data.insert(name.to_string(), Json::Bool(b));
                }
            }
            if let Some(p) = given(args, "ExchangeArchivingPolicy") {
                detail.push(format!("ExchangeArchivingPolicy={p}"));
                u.data
                    .insert("ExchangeArchivingPolicy".into(), Json::String(p));
            }
            if let Some(a) = args.get("AcpInfo") {
                u.data.insert("AcpInfo".into(), Json::String(a.to_string()));
            }
            if u.flag("AudioVideoDisabled")
                && (u.flag("EnterpriseVoiceEnabled") || u.flag("RemoteCallControlTelephonyEnabled"))
            {
                cx.error(invalid(format!(
                    "{}: audio and video cannot be disabled while Enterprise Voice or remote call control is enabled.",
                    u.display_name
                )))?;
                continue;
            }
            if u.flag("RemoteCallControlTelephonyEnabled")
                && (u.text("LineURI").is_none() || u.text("LineServerURI").is_none())
            {
                cx.error(invalid(format!(
                    "{}: remote call control needs both a LineURI and a LineServerURI.",
                    u.display_name
                )))?;
                continue;
            }
            if !cx.should_process(&u.dn(), "Set-CsUser")? {
                continue;
            }
            let detail = if detail.is_empty() {
                "no change".to_string()
            } else {
                detail.join("; ")
            };
            save_user(cx, &engine, &u, &line, &detail, args.switch("PassThru"))?;
        }
        Ok(())
    }
}

impl Processor for SetUser {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let r = self.run(cx, args);
        cx.stamped(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_addresses_get_their_prefix() {
        assert_eq!(
            sip_address("ken@contoso.com"),
            Ok("sip:ken@contoso.com".into())
        );
        assert_eq!(
            sip_address("SIP:ken@contoso.com"),
            Ok("sip:ken@contoso.com".into())
        );
        assert!(sip_address("ken").is_err());
        assert!(sip_address("sip:@contoso.com").is_err());
    }

    #[test]
    fn line_uris_are_checked() {
        assert!(tel_uri("tel:+14255550100", "LineURI").is_ok());
        assert!(tel_uri("tel:+14255550100;ext=100", "LineURI").is_ok());
        assert!(tel_uri("+14255550100", "LineURI").is_err());
        assert_eq!(tel_uri("", "LineURI"), Ok(None));
    }
}
