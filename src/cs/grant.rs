//! Grant-Cs*Policy for every family with a per-user policy property, and
//! Get-CsEffectivePolicy (ours): which policy applies to a user.
//!
//! Effective policy, per family: the user's per-user policy (scope
//! `User`, shown `Tag:<name>`) when one is granted and exists; else the
//! policy of the user's site (scope `Site`, `Site:<name>`) when the user
//! has a site and that site has a policy of the family; else `Global`.

use std::rc::Rc;

use crate::commands::{Args, CommandInfo, Cx, Processor, Signature};
use crate::config::Engine;
use crate::config::identity::Scope;
use crate::config::schema::{Family, schema};
use crate::config::users::{self, User};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::{PsObject, Value};

use super::family::engine_error;
use super::users::{cs_user_object, identity_sig, resolve, with_stored_row, with_stored_rows};

pub const EFFECTIVE_TYPE: &str = "Lyncsh.EffectivePolicy";

pub fn infos() -> Vec<CommandInfo> {
    let mut out = Vec::new();
    for f in &schema().families {
        let Some(property) = f.user_property.as_deref() else {
            continue;
        };
        let Some(name) = f.command("Grant") else {
            continue;
        };
        let synopsis = f
            .commands
            .iter()
            .find(|(v, _, _)| v == "Grant")
            .map(|(_, _, s)| s.as_str())
            .unwrap_or("Assigns a per-user policy to users.");
        let family: &'static Family = f;
        let property: &'static str = property;
        out.push(CommandInfo {
            name,
            aliases: &[],
            synopsis,
            signature: grant_sig(family),
            examples: &[],
            factory: Box::new(move || {
                Box::new(Grant {
                    family,
                    property,
                    policy: None,
                    line: String::new(),
                    pending: Vec::new(),
                })
            }),
            module: "Lync",
        });
    }
    out.push(CommandInfo {
        name: "Get-CsEffectivePolicy",
        aliases: &[],
        synopsis: "Shows which conferencing, external access and client policy applies to users; -Detailed or -PolicyType also says from which scope.",
        signature: identity_sig(
            "The user(s): SIP address, UPN, domain\\logon, distinguished name or display name.",
        )
        .named(
            "PolicyType",
            PsType::String,
            "Only this policy type: ConferencingPolicy, ExternalAccessPolicy or ClientPolicy.",
        )
        .values(&["ConferencingPolicy", "ExternalAccessPolicy", "ClientPolicy"])
        .switch(
            "Detailed",
            "One row per policy type, with the scope the policy comes from (User, Site or Global).",
        ),
        examples: &[],
        factory: Box::new(|| Box::new(Effective)),
        module: "Lync",
    });
    out
}

fn grant_sig(f: &Family) -> Signature {
    identity_sig(
        "The user(s) to grant the policy to: SIP address, UPN, domain\\logon, distinguished name, display name, or user objects from Get-CsUser.",
    )
    .named(
        "PolicyName",
        PsType::Object,
        &format!(
            "The per-user {} to assign, by name (without tag:); $null removes the user's per-user policy.",
            f.noun
        ),
    )
    .positional(1)
    .switch("PassThru", "Writes the user object after the change.")
    .named(
        "DomainController",
        PsType::String,
        "Accepted; lyncsh has one directory.",
    )
    .should_process()
}

struct Grant {
    family: &'static Family,
    property: &'static str,
    /// The policy to assign, as stored (its Identity without `Tag:`);
    /// `None` unassigns.
    policy: Option<String>,
    line: String,
    /// Users from Get-CsUser waiting to be granted together.
    pending: Vec<Value>,
}

/// Users granted in one go: one prepared statement and one look at the
/// store for each batch, not for each user.
const BATCH: usize = 512;

impl Grant {
    fn start(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        self.line = cx.command_text();
        let name = args
            .get("PolicyName")
            .filter(|v| !v.is_null())
            .map(|v| v.to_string().trim().to_string())
            .filter(|s| !s.is_empty());
        let Some(name) = name else {
            self.policy = None;
            return Ok(());
        };
        let bare = match name.split_once(':') {
            Some((p, rest)) if p.eq_ignore_ascii_case("tag") => rest.to_string(),
            Some(_) => {
                return Err(cx.fail(
                    ErrorRecord::new(
                        format!(
                            "\"{name}\" cannot be granted: only per-user policies are assigned to users (site and global policies apply through their scope)."
                        ),
                        "InvalidPolicyName",
                        ErrorCategory::InvalidArgument,
                    )
                    .with_exception("System.ArgumentException"),
                ));
            }
            None => name.clone(),
        };
        let engine = cx.it.engine().map_err(|e| cx.fail(e))?;
        let found = engine
            .get(self.family, &Scope::Tag(bare.clone()))
            .map_err(|e| cx.fail(engine_error(e)))?;
        match found {
            Some(obj) => {
                let stored = obj
                    .identity
                    .split_once(':')
                    .map(|(_, n)| n.to_string())
                    .unwrap_or(bare);
                self.policy = Some(stored);
                Ok(())
            }
            None => Err(cx.fail(
                ErrorRecord::new(
                    format!(
                        "Cannot grant the policy \"{bare}\": there is no per-user {} with the identity \"Tag:{bare}\".",
                        self.family.noun
                    ),
                    "PolicyNotFound",
                    ErrorCategory::ObjectNotFound,
                )
                .with_exception("Microsoft.Rtc.Management.ManagementException")
                .with_target(Value::from(bare.as_str())),
            )),
        }
    }

    fn run(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let id = args.get("Identity").cloned().unwrap_or_default();
        let pass_thru = args.switch("PassThru");
        // A user straight from Get-CsUser is granted by its row, unread
        // again, with others in a batch.
        if !pass_thru && !cx.may_decline() && with_stored_row(&id, |_, _| ()).is_some() {
            self.pending.push(id);
            if self.pending.len() >= BATCH {
                self.flush(cx)?;
            }
            return Ok(());
        }
        // Users queued before this one are granted first.
        self.flush(cx)?;
        self.resolve_and_grant(cx, &id, pass_thru)
    }

    /// Grants the queued users; any whose row changed since it was read
    /// is resolved again, in its turn.
    fn flush(&mut self, cx: &mut Cx) -> Res<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let engine = cx.it.engine().map_err(|e| cx.fail(e))?;
        let done = with_stored_rows(&pending, |rows| {
            users::set_policy_on_rows(
                &engine,
                rows,
                self.property,
                self.policy.as_deref(),
                &self.line,
            )
        })
        .map_err(|e| cx.fail(engine_error(e)))?;
        for (id, done) in pending.iter().zip(done) {
            if !done {
                self.resolve_and_grant(cx, id, false)?;
            }
        }
        Ok(())
    }

    fn resolve_and_grant(&mut self, cx: &mut Cx, id: &Value, pass_thru: bool) -> Res<()> {
        let engine = cx.it.engine().map_err(|e| cx.fail(e))?;
        let action = cx.rt.name.to_string();
        for mut u in resolve(cx, &engine, id, false)? {
            if !u.lync_enabled {
                cx.error(
                    ErrorRecord::new(
                        format!(
                            "{} is not enabled for Lync Server; enable the user with Enable-CsUser before granting policies.",
                            u.display_name
                        ),
                        "UserNotEnabled",
                        ErrorCategory::InvalidOperation,
                    )
                    .with_exception("Microsoft.Rtc.Management.ManagementException")
                    .with_target(Value::from(u.dn())),
                )?;
                continue;
            }
            if !cx.should_process(&u.dn(), &action)? {
                continue;
            }
            users::set_policy(
                &engine,
                &u,
                self.property,
                self.policy.as_deref(),
                &self.line,
            )
            .map_err(|e| cx.fail(engine_error(e)))?;
            if pass_thru {
                if let Some(i) = users::POLICY_COLUMNS
                    .iter()
                    .position(|(p, _)| *p == self.property)
                    && let Some(slot) = u.policies.get_mut(i)
                {
                    *slot = self.policy.clone();
                }
                cx.emit(cs_user_object(&u))?;
            }
        }
        Ok(())
    }
}

impl Processor for Grant {
    fn begin(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let r = self.start(cx, args);
        cx.stamped(r)
    }

    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let r = self.run(cx, args);
        cx.stamped(r)
    }

    fn end(&mut self, cx: &mut Cx, _args: &Args) -> Res<()> {
        let r = self.flush(cx);
        cx.stamped(r)
    }
}

// ------------------------------------------------------------ effective policy

/// The policy of one family that applies to a user: (Identity, scope).
pub fn effective(
    engine: &Engine,
    f: &Family,
    u: &User,
) -> Result<(String, &'static str), ErrorRecord> {
    let property = f.user_property.as_deref().unwrap_or_default();
    if let Some(name) = u.policy(property)
        && let Some(o) = engine
            .get(f, &Scope::Tag(name.to_string()))
            .map_err(engine_error)?
    {
        return Ok((o.identity, "User"));
    }
    if let Some(site) = u.text("Site").filter(|s| !s.is_empty())
        && let Some(o) = engine.get(f, &Scope::Site(site)).map_err(engine_error)?
    {
        return Ok((o.identity, "Site"));
    }
    Ok(("Global".into(), "Global"))
}

struct Effective;

/// The type Get-CsEffectivePolicy's per-user object carries, as in Lync.
pub const EFFECTIVE_POLICIES_TYPE: &str = "Microsoft.Rtc.Management.AD.Cmdlets.EffectivePolicies";

impl Effective {
    /// One object per user with a property per policy type (what Lync
    /// returns); `-PolicyType` (or `-Detailed`, every type) instead writes
    /// one row per policy type that also says which scope it comes from.
    fn run(&self, cx: &mut Cx, args: &Args) -> Res<()> {
        let engine = cx.it.engine().map_err(|e| cx.fail(e))?;
        let id = args.get("Identity").cloned().unwrap_or_default();
        let only = args.string("PolicyType");
        let detailed = only.is_some() || args.switch("Detailed");
        for u in resolve(cx, &engine, &id, true)? {
            let user: Rc<str> = Rc::from(
                u.sip
                    .clone()
                    .unwrap_or_else(|| u.display_name.clone())
                    .as_str(),
            );
            let mut summary = PsObject::with_type(Rc::from(vec![
                Rc::from(EFFECTIVE_POLICIES_TYPE),
                Rc::from("System.Object"),
            ]));
            summary.set("Identity", Value::String(user.clone()));
            for f in &schema().families {
                let Some(property) = f.user_property.as_deref() else {
                    continue;
                };
                if only
                    .as_deref()
                    .is_some_and(|o| !o.eq_ignore_ascii_case(property))
                {
                    continue;
                }
                let (policy, scope) = effective(&engine, f, &u).map_err(|e| cx.fail(e))?;
                if !detailed {
                    summary.set(property, Value::from(policy.as_str()));
                    continue;
                }
                let mut o = PsObject::with_type(Rc::from(vec![
                    Rc::from(EFFECTIVE_TYPE),
                    Rc::from("System.Object"),
                ]));
                o.set("User", Value::String(user.clone()));
                o.set("PolicyType", Value::from(property));
                o.set("Policy", Value::from(policy.as_str()));
                o.set("Scope", Value::from(scope));
                cx.emit(Value::object(o))?;
            }
            if !detailed {
                cx.emit(Value::object(summary))?;
            }
        }
        Ok(())
    }
}

impl Processor for Effective {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let r = self.run(cx, args);
        cx.stamped(r)
    }
}
