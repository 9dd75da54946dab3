//! Get, Set, New and Remove for every configuration family, built from its
//! schema: one signature and one processor serve all families.

use std::rc::Rc;

use serde_json::Value as Json;

use crate::commands::{Args, CommandInfo, Cx, ParamSpec, ParamType, Processor, Signature};
use crate::config::identity::Scope;
use crate::config::schema::{Family, PropDef, schema};
use crate::config::values::{from_object, integer_type, to_object, to_stored};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::Value;
use crate::runtime::wildcard::Wildcard;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    Get,
    Set,
    New,
    Remove,
}

pub fn infos() -> Vec<CommandInfo> {
    let mut out = Vec::new();
    for f in &schema().families {
        for (verb, name, synopsis) in &f.commands {
            let verb = match verb.as_str() {
                "Get" => Verb::Get,
                "Set" => Verb::Set,
                "New" => Verb::New,
                "Remove" => Verb::Remove,
                _ => continue,
            };
            let family: &'static Family = f;
            out.push(CommandInfo {
                name: name.as_str(),
                aliases: &[],
                synopsis: synopsis.as_str(),
                signature: signature(family, verb),
                examples: &[],
                factory: Box::new(move || Box::new(FamilyCmdlet { family, verb })),
                module: "Lync",
            });
        }
    }
    out
}

/// The parameter a property becomes on Set and New.
fn property_param(p: &PropDef) -> ParamSpec {
    let enum_values = schema().enum_values(&p.ty);
    let nullable = p.default.as_ref().is_none_or(serde_json::Value::is_null);
    let ty = match p.ty.as_str() {
        // A nullable setting takes $null ("not set"), which a [bool]
        // parameter would turn into $False; to_stored checks the rest.
        "Boolean" if nullable => PsType::Object,
        "Boolean" => PsType::Bool,
        "PSListModifier" => PsType::Array(None),
        t => integer_type(t).unwrap_or(PsType::Object),
    };
    let mut spec = ParamSpec::new(&p.name, ParamType::Typed(ty));
    spec.help = Rc::from(p.help.as_str());
    if let Some(values) = enum_values {
        spec.values = values.iter().map(|v| Rc::from(v.as_str())).collect();
        spec.enum_type = Some(Rc::from(p.ty.as_str()));
    }
    spec
}

fn signature(f: &Family, verb: Verb) -> Signature {
    let identity_help = match verb {
        Verb::Get => {
            "The instance to show: Global, site:<name>, a per-user policy name, ... (no wildcards)."
        }
        Verb::Set => "The instance to change; Global when left out.",
        Verb::New => {
            "The identity of the new instance: site:<name>, service:..., or a per-user policy name."
        }
        Verb::Remove => "The instance to remove; Global is reset to its defaults instead.",
    };
    let mut sig = Signature::new()
        .named("Identity", PsType::String, identity_help)
        .positional(0)
        .sets(&["Identity"]);
    match verb {
        Verb::Get => {
            sig = sig
                .named(
                    "Filter",
                    PsType::String,
                    "Shows the instances whose Identity matches this wildcard pattern.",
                )
                .sets(&["Filter"])
                .switch(
                    "LocalStore",
                    "Accepted for compatibility: lyncsh has one store.",
                )
                .default_set("Identity");
            if f.user_property.is_some() {
                sig = sig
                    .named(
                        "ApplicableTo",
                        PsType::Object,
                        "Shows the per-user policies that could be granted to this user.",
                    )
                    .sets(&["Identity", "Filter"]);
            }
        }
        Verb::Set | Verb::New => {
            if verb == Verb::New {
                sig = sig.mandatory();
                if f.is_domain_list() {
                    sig = sig
                        .named(
                            "Domain",
                            PsType::String,
                            "The domain name (instead of -Identity).",
                        )
                        .sets(&["Domain"])
                        .mandatory();
                }
                sig = sig.switch(
                    "InMemory",
                    "Returns the new object without storing it; store it later with Set -Instance.",
                );
            } else {
                sig = sig
                    .named(
                        "Instance",
                        PsType::Object,
                        "An object from Get or New -InMemory whose values to store.",
                    )
                    .from_pipeline()
                    .sets(&["Instance"]);
            }
            for p in f.settable() {
                if f.noun == "CsAccessEdgeConfiguration" && is_routing_property(&p.name) {
                    continue;
                }
                sig = sig.param(property_param(p));
            }
            if f.noun == "CsAccessEdgeConfiguration" {
                sig = access_edge_routing(sig);
            }
            sig = sig
                .switch("Force", "Suppresses confirmation prompts.")
                .should_process();
            sig = sig.default_set("Identity");
        }
        Verb::Remove => {
            sig = sig
                .mandatory()
                .by_property_name()
                .switch(
                    "Force",
                    "Removes a per-user policy even while users still hold it.",
                )
                .should_process();
        }
    }
    sig
}

fn is_routing_property(name: &str) -> bool {
    matches!(
        name,
        "DefaultRouteFqdn"
            | "IsPublicProvider"
            | "VerificationLevel"
            | "EnablePartnerDiscovery"
            | "BeClearingHouse"
            | "DiscoveredPartnerVerificationLevel"
    )
}

/// Set-CsAccessEdgeConfiguration switches the routing method with its own
/// parameter sets: -UseDnsSrvRouting or -UseDefaultRouting -DefaultRouteFqdn.
fn access_edge_routing(mut sig: Signature) -> Signature {
    let Some(f) = schema().family("CsAccessEdgeConfiguration") else {
        return sig;
    };
    sig = sig
        .switch(
            "UseDnsSrvRouting",
            "Finds federated partners through DNS SRV records (the default method).",
        )
        .sets(&["DnsSrvRouting"]);
    for name in [
        "EnablePartnerDiscovery",
        "BeClearingHouse",
        "DiscoveredPartnerVerificationLevel",
    ] {
        if let Some(p) = f.prop(name) {
            let mut spec = property_param(p);
            spec.sets = vec!["DnsSrvRouting", "Identity"];
            sig = sig.param(spec);
        }
    }
    sig = sig
        .switch(
            "UseDefaultRouting",
            "Sends federation traffic to one federation server; needs -DefaultRouteFqdn.",
        )
        .sets(&["DefaultRoute"]);
    for name in ["DefaultRouteFqdn", "IsPublicProvider", "VerificationLevel"] {
        if let Some(p) = f.prop(name) {
            let mut spec = property_param(p);
            spec.sets = vec!["DefaultRoute"];
            sig = sig.param(spec);
        }
    }
    sig
}

struct FamilyCmdlet {
    family: &'static Family,
    verb: Verb,
}

fn invalid(msg: String) -> ErrorRecord {
    ErrorRecord::new(msg, "InvalidArgument", ErrorCategory::InvalidArgument)
        .with_exception("System.Management.Automation.ParameterBindingException")
}

impl FamilyCmdlet {
    fn scope(&self, cx: &Cx, args: &Args) -> Res<Scope> {
        let text = args.string("Identity").or_else(|| args.string("Domain"));
        match text {
            None => Ok(Scope::Global),
            Some(t) => Scope::parse(self.family, &t)
                .map_err(|e| cx.fail(invalid(format!("Cannot bind parameter 'Identity'. {e}")))),
        }
    }

    /// The property values given as parameters, validated.
    fn property_values(&self, cx: &Cx, args: &Args) -> Res<serde_json::Map<String, Json>> {
        let mut out = serde_json::Map::new();
        for (name, value) in args.iter() {
            let Some(p) = self.family.prop(name) else {
                continue;
            };
            if p.ty == "Identity" || p.name == "Domain" {
                continue;
            }
            let stored = to_stored(p, value).map_err(|e| cx.fail(invalid(e.0)))?;
            out.insert(p.name.clone(), stored);
        }
        Ok(out)
    }

    fn get(&self, cx: &mut Cx, args: &Args) -> Res<()> {
        let engine = cx.it.engine().map_err(|e| cx.fail(e))?;
        if args.has("Identity") {
            let scope = self.scope(cx, args)?;
            match engine
                .get(self.family, &scope)
                .map_err(|e| cx.fail(engine_error(e)))?
            {
                Some(o) => cx.emit(to_object(self.family, &o)),
                None => cx.error(
                    ErrorRecord::new(
                        format!(
                            "Cannot get a {} with the identity \"{}\": no such instance exists.",
                            self.family.noun,
                            scope.display()
                        ),
                        "IdentityNotFound",
                        ErrorCategory::ObjectNotFound,
                    )
                    .with_target(Value::from(scope.display())),
                ),
            }
        } else {
            let filter = args.string("Filter").map(|f| Wildcard::new(&f, false));
            // -ApplicableTo: only per-user policies can be granted, so the
            // user (who must exist) narrows the list to those.
            let grantable = match args.get("ApplicableTo") {
                Some(user) => {
                    if super::users::resolve(cx, &engine, user, false)?.is_empty() {
                        return Ok(());
                    }
                    true
                }
                None => false,
            };
            for o in engine
                .list(self.family)
                .map_err(|e| cx.fail(engine_error(e)))?
            {
                if grantable
                    && !matches!(
                        Scope::from_display(self.family, &o.identity),
                        Some(Scope::Tag(_))
                    )
                {
                    continue;
                }
                if filter.as_ref().is_none_or(|w| w.is_match(&o.identity)) {
                    cx.emit(to_object(self.family, &o))?;
                }
            }
            Ok(())
        }
    }

    fn set(&self, cx: &mut Cx, args: &Args) -> Res<()> {
        let engine = cx.it.engine().map_err(|e| cx.fail(e))?;
        let (scope, mut values) = match args.get("Instance") {
            Some(inst) => from_object(self.family, inst).map_err(|e| cx.fail(invalid(e.0)))?,
            None => (self.scope(cx, args)?, serde_json::Map::new()),
        };
        for (k, v) in self.property_values(cx, args)? {
            values.insert(k, v);
        }
        if self.family.noun == "CsAccessEdgeConfiguration" {
            self.routing(cx, args, &engine, &scope, &mut values)?;
        }
        let exists = engine
            .get(self.family, &scope)
            .map_err(|e| cx.fail(engine_error(e)))?
            .is_some();
        // An -Instance that is not stored yet is New -InMemory's object:
        // Set is how Lync turns that virtual object into a real one.
        let creates = !exists && args.has("Instance");
        if !exists && !creates {
            return cx.error(engine_error(crate::config::engine::not_found(
                self.family,
                &scope,
            )));
        }
        if !cx.should_process(&scope.display(), &format!("Set-{}", self.family.noun))? {
            return Ok(());
        }
        let line = cx.command_text();
        if creates {
            return engine
                .create(self.family, &scope, values, &line)
                .map(drop)
                .map_err(|e| cx.fail(engine_error(e)));
        }
        engine
            .update(self.family, &scope, &values, &line)
            .map_err(|e| cx.fail(engine_error(e)))
    }

    /// -UseDnsSrvRouting / -UseDefaultRouting -DefaultRouteFqdn.
    fn routing(
        &self,
        cx: &Cx,
        args: &Args,
        engine: &crate::config::engine::Engine,
        scope: &Scope,
        values: &mut serde_json::Map<String, Json>,
    ) -> Res<()> {
        if args.switch("UseDefaultRouting") {
            let current = engine
                .get(self.family, scope)
                .map_err(|e| cx.fail(engine_error(e)))?
                .and_then(|o| o.data.get("DefaultRouteFqdn").cloned())
                .filter(|v| !v.is_null());
            if values.get("DefaultRouteFqdn").is_none_or(|v| v.is_null()) && current.is_none() {
                return Err(cx.fail(invalid(
                    "The default routing method needs a federation server: add -DefaultRouteFqdn <FQDN>.".into(),
                )));
            }
            values.insert(
                "RoutingMethod".into(),
                Json::String("UseDefaultRouting".into()),
            );
        }
        if args.switch("UseDnsSrvRouting") {
            values.insert(
                "RoutingMethod".into(),
                Json::String("UseDnsSrvRouting".into()),
            );
        }
        Ok(())
    }

    fn create(&self, cx: &mut Cx, args: &Args) -> Res<()> {
        if args.has("Identity") && args.has("Domain") {
            return Err(cx.fail(invalid("Use either -Identity or -Domain, not both.".into())));
        }
        let scope = self.scope(cx, args)?;
        let values = self.property_values(cx, args)?;
        let engine = cx.it.engine().map_err(|e| cx.fail(e))?;
        if args.switch("InMemory") {
            let mut data = crate::config::values::defaults(self.family);
            for (k, v) in values {
                data.insert(k, v);
            }
            if self.family.is_domain_list() {
                data.insert("Domain".into(), Json::String(scope.display()));
            }
            let obj = crate::config::store::StoredObject {
                identity: scope.display(),
                data,
            };
            return cx.emit(to_object(self.family, &obj));
        }
        if !cx.should_process(&scope.display(), &format!("New-{}", self.family.noun))? {
            return Ok(());
        }
        let line = cx.command_text();
        match engine.create(self.family, &scope, values, &line) {
            Ok(obj) => cx.emit(to_object(self.family, &obj)),
            Err(e) => Err(cx.fail(engine_error(e))),
        }
    }

    fn remove(&self, cx: &mut Cx, args: &Args) -> Res<()> {
        let scope = self.scope(cx, args)?;
        let engine = cx.it.engine().map_err(|e| cx.fail(e))?;
        if !cx.should_process(&scope.display(), &format!("Remove-{}", self.family.noun))? {
            return Ok(());
        }
        // A per-user policy still assigned to users is removed only with
        // -Force or after confirmation.
        if let (Scope::Tag(name), Some(column)) = (&scope, self.family.user_property.as_deref()) {
            let holders = crate::config::users::count_holders(&engine, column, name)
                .map_err(|e| cx.fail(engine_error(e)))?;
            if holders > 0
                && !args.switch("Force")
                && !cx.confirm(
                    &scope.display(),
                    &format!(
                        "Remove-{} (the policy is assigned to {holders} user(s))",
                        self.family.noun
                    ),
                )?
            {
                return Ok(());
            }
        }
        let line = cx.command_text();
        engine
            .remove(self.family, &scope, &line)
            .map_err(|e| cx.fail(engine_error(e)))?;
        if scope == Scope::Global {
            cx.warn(&format!(
                "The Global {} cannot be removed; its settings were reset to their defaults instead.",
                self.family.noun
            ))?;
        }
        // Users who held a removed per-user policy fall back to the site
        // or global policy.
        if let (Scope::Tag(name), Some(column)) = (&scope, self.family.user_property.as_deref()) {
            crate::config::users::clear_holders(&engine, column, name)
                .map_err(|e| cx.fail(engine_error(e)))?;
        }
        Ok(())
    }
}

pub fn engine_error(e: crate::config::engine::EngineError) -> ErrorRecord {
    match e {
        crate::config::engine::EngineError::Rule(msg) => {
            let (id, cat) = if msg.contains("already exists") || msg.contains("already on the") {
                ("ResourceExists", ErrorCategory::ResourceExists)
            } else if msg.contains("no such instance") {
                ("IdentityNotFound", ErrorCategory::ObjectNotFound)
            } else {
                ("InvalidOperation", ErrorCategory::InvalidOperation)
            };
            ErrorRecord::new(msg, id, cat)
                .with_exception("Microsoft.Rtc.Management.ManagementException")
        }
        crate::config::engine::EngineError::Store(s) => {
            ErrorRecord::new(s.to_string(), "StoreError", ErrorCategory::WriteError)
                .with_exception("System.IO.IOException")
        }
    }
}

impl Processor for FamilyCmdlet {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let r = match self.verb {
            Verb::Get => self.get(cx, args),
            Verb::Set => self.set(cx, args),
            Verb::New => self.create(cx, args),
            Verb::Remove => self.remove(cx, args),
        };
        cx.stamped(r)
    }
}
