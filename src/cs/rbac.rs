//! The role cmdlets: Get-CsAdminRole and Get-CsAdminRoleAssignment as in
//! Lync, New/Remove-CsAdminRole (built-in roles only: custom roles are not
//! supported), and our Add/Remove-CsAdminRoleMember, which stand in for
//! adding accounts to the roles' Active Directory groups.

use std::rc::Rc;

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::config::roles::{self, Role};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::{Prop, PropKind, PsObject, Value};
use crate::runtime::wildcard::Wildcard;

use super::family::engine_error;

const ROLE_TYPE: &str = "Microsoft.Rtc.Management.WritableConfig.Settings.Roles.Role";

pub fn infos() -> Vec<CommandInfo> {
    let role_names: Vec<&str> = roles::BUILTIN.iter().map(|r| r.name).collect();
    vec![
        CommandInfo::new::<GetRole>(
            "Get-CsAdminRole",
            "Shows the administrator roles and the cmdlets each one may run.",
            Signature::new()
                .named(
                    "Identity",
                    PsType::String,
                    "The role to show, such as CsHelpDesk (no wildcards).",
                )
                .positional(0)
                .from_pipeline()
                .sets(&["Identity"])
                .named(
                    "Filter",
                    PsType::String,
                    "Shows the roles whose name matches this wildcard pattern, such as *Admin*.",
                )
                .sets(&["Filter"])
                .named(
                    "Sid",
                    PsType::String,
                    "Shows the role with this security identifier.",
                )
                .sets(&["Sid"])
                .switch(
                    "LocalStore",
                    "Accepted for compatibility: lyncsh has one store.",
                )
                .default_set("Identity"),
        )
        .examples(&[
            Example {
                code: "Get-CsAdminRole -Identity CsViewOnlyAdministrator | Select-Object -ExpandProperty Cmdlets",
                about: "Lists the cmdlets a view-only administrator may run.",
            },
            Example {
                code: "Get-CsAdminRole | Where-Object {$_.Cmdlets -contains 'Set-CsUser'}",
                about: "Finds the roles that may change users.",
            },
        ])
        .module("Lync"),
        CommandInfo::new::<GetAssignment>(
            "Get-CsAdminRoleAssignment",
            "Shows the administrator roles an account holds.",
            Signature::new()
                .named(
                    "Identity",
                    PsType::String,
                    "The account name (SamAccountName) whose roles to show.",
                )
                .positional(0)
                .mandatory()
                .from_pipeline()
                .switch("Force", "Accepted for compatibility.")
                .switch(
                    "LocalStore",
                    "Accepted for compatibility: lyncsh has one store.",
                ),
        )
        .examples(&[Example {
            code: "Get-CsAdminRoleAssignment -Identity kenmyer",
            about: "Shows the roles the account kenmyer holds.",
        }])
        .module("Lync"),
        CommandInfo::new::<MemberCmd<true>>(
            "Add-CsAdminRoleMember",
            "Gives an account an administrator role (lyncsh's stand-in for adding it to the role's AD group).",
            member_signature(&role_names, "The role to give, such as CsAdministrator.", "The account to give the role to; the name SSH sessions log in with."),
        )
        .examples(&[Example {
            code: "Add-CsAdminRoleMember -Role CsViewOnlyAdministrator -Member alice",
            about: "Lets alice read the configuration in remote sessions.",
        }])
        .module("Lync"),
        CommandInfo::new::<MemberCmd<false>>(
            "Remove-CsAdminRoleMember",
            "Takes an administrator role away from an account.",
            member_signature(&role_names, "The role to take away.", "The account that loses the role."),
        )
        .module("Lync"),
        CommandInfo::new::<NewRole>(
            "New-CsAdminRole",
            "Would create a custom administrator role; lyncsh has only the built-in roles.",
            Signature::new()
                .named("Identity", PsType::String, "The name of the new role.")
                .positional(0)
                .mandatory()
                .named("Template", PsType::String, "The built-in role to copy.")
                .named(
                    "ConfigScopes",
                    PsType::Object,
                    "Sites the role may change, such as site:Redmond.",
                )
                .named(
                    "UserScopes",
                    PsType::Object,
                    "Organizational units whose users the role may manage.",
                )
                .named(
                    "ScriptModules",
                    PsType::Object,
                    "Script modules the role may run.",
                )
                .should_process(),
        )
        .module("Lync"),
        CommandInfo::new::<RemoveRole>(
            "Remove-CsAdminRole",
            "Removes a custom administrator role; the built-in roles cannot be removed.",
            Signature::new()
                .named("Identity", PsType::String, "The role to remove.")
                .positional(0)
                .mandatory()
                .from_pipeline()
                .by_property_name()
                .switch("Force", "Suppresses confirmation prompts.")
                .should_process(),
        )
        .module("Lync"),
    ]
}

fn member_signature(role_names: &[&str], role_help: &str, member_help: &str) -> Signature {
    Signature::new()
        .named("Role", PsType::String, role_help)
        .positional(0)
        .mandatory()
        .values(role_names)
        .named("Member", PsType::String, member_help)
        .positional(1)
        .mandatory()
        .from_pipeline()
        .should_process()
}

fn prop(name: &str, value: Value) -> Prop {
    Prop {
        name: Rc::from(name),
        value,
        kind: PropKind::Property,
        ty: None,
        read_only: true,
    }
}

fn strings(items: &[&str]) -> Value {
    Value::array(items.iter().map(|s| Value::from(*s)).collect())
}

fn role_object(cx: &Cx, role: &Role) -> Value {
    let registry = cx.it.registry.clone();
    // The registry's cmdlets and every family's verbs (Grant-* among them).
    let from_schema = crate::config::schema::schema()
        .families
        .iter()
        .flat_map(|f| f.commands.iter().map(|(_, n, _)| n.as_str()));
    let cmdlets = roles::cmdlets(
        role.name,
        registry.all().iter().map(|c| c.name).chain(from_schema),
    );
    let mut o = PsObject::with_type(Rc::from(vec![
        Rc::from(ROLE_TYPE),
        Rc::from("System.Object"),
    ]));
    o.props_mut().push(prop("Identity", Value::from(role.name)));
    o.props_mut()
        .push(prop("SID", Value::from(roles::sid(role))));
    o.props_mut().push(prop(
        "Cmdlets",
        Value::array(cmdlets.into_iter().map(Value::from).collect()),
    ));
    o.props_mut().push(prop("ScriptModules", strings(&[])));
    o.props_mut()
        .push(prop("ConfigScopes", strings(&["Global"])));
    o.props_mut().push(prop("UserScopes", strings(&["Global"])));
    o.props_mut()
        .push(prop("IsStandardRole", Value::Bool(true)));
    o.display = Some(Rc::from(role.name));
    Value::object(o)
}

fn not_found(name: &str) -> ErrorRecord {
    ErrorRecord::new(
        format!(
            "There is no administrator role named \"{name}\". The roles are: {}.",
            roles::names()
        ),
        "RoleNotFound",
        ErrorCategory::ObjectNotFound,
    )
    .with_exception("Microsoft.Rtc.Management.ManagementException")
    .with_target(Value::from(name))
}

#[derive(Default)]
struct GetRole;

impl Processor for GetRole {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        if let Some(id) = args.string("Identity") {
            if id.contains(['*', '?']) {
                return Err(cx.fail(ErrorRecord::new(
                    format!("Wildcard characters are not allowed in -Identity ('{id}'); use -Filter to match several roles."),
                    "InvalidArgument",
                    ErrorCategory::InvalidArgument,
                )));
            }
            return match roles::builtin(id.trim()) {
                Some(r) => {
                    let v = role_object(cx, r);
                    cx.emit(v)
                }
                None => cx.error(not_found(id.trim())),
            };
        }
        if let Some(sid) = args.string("Sid") {
            return match roles::BUILTIN
                .iter()
                .find(|r| roles::sid(r).eq_ignore_ascii_case(sid.trim()))
            {
                Some(r) => {
                    let v = role_object(cx, r);
                    cx.emit(v)
                }
                None => cx.error(
                    ErrorRecord::new(
                        format!("There is no administrator role with the SID \"{sid}\"."),
                        "RoleNotFound",
                        ErrorCategory::ObjectNotFound,
                    )
                    .with_target(Value::from(sid.as_str())),
                ),
            };
        }
        let filter = args.string("Filter").map(|f| Wildcard::new(&f, false));
        for r in roles::BUILTIN {
            if filter.as_ref().is_none_or(|w| w.is_match(r.name)) {
                let v = role_object(cx, r);
                cx.emit(v)?;
            }
        }
        Ok(())
    }
}

#[derive(Default)]
struct GetAssignment;

impl Processor for GetAssignment {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let account = args.string("Identity").unwrap_or_default();
        let account = account.trim();
        if account.is_empty() {
            return Err(cx.fail(ErrorRecord::new(
                "Cannot validate argument on parameter 'Identity': give an account name.",
                "InvalidArgument",
                ErrorCategory::InvalidArgument,
            )));
        }
        let engine = cx.it.engine().map_err(|e| cx.fail(e))?;
        let held = roles::roles_of(&engine, account).map_err(|e| cx.fail(engine_error(e)))?;
        for r in held {
            cx.emit(Value::from(r))?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct MemberCmd<const ADD: bool>;

impl<const ADD: bool> Processor for MemberCmd<ADD> {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let r = self.run(cx, args);
        cx.stamped(r)
    }
}

impl<const ADD: bool> MemberCmd<ADD> {
    fn run(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let role_name = args.string("Role").unwrap_or_default();
        let Some(role) = roles::builtin(role_name.trim()) else {
            return Err(cx.fail(not_found(role_name.trim())));
        };
        let member = args.string("Member").unwrap_or_default();
        let member = member.trim();
        if let Err(msg) = roles::check_member(member) {
            return cx.error(
                ErrorRecord::new(msg, "InvalidArgument", ErrorCategory::InvalidArgument)
                    .with_target(Value::from(member)),
            );
        }
        let engine = cx.it.engine().map_err(|e| cx.fail(e))?;
        let action = if ADD {
            format!("Add member to role {}", role.name)
        } else {
            format!("Remove member from role {}", role.name)
        };
        if !cx.should_process(member, &action)? {
            return Ok(());
        }
        let line = cx.command_text();
        let done = if ADD {
            roles::add_member(&engine, role, member, &line)
        } else {
            roles::remove_member(&engine, role, member, &line)
        }
        .map_err(|e| cx.fail(engine_error(e)))?;
        if done {
            return Ok(());
        }
        let (msg, id, cat) = if ADD {
            (
                format!("\"{member}\" already holds the role {}.", role.name),
                "MemberExists",
                ErrorCategory::ResourceExists,
            )
        } else {
            (
                format!("\"{member}\" does not hold the role {}.", role.name),
                "MemberNotFound",
                ErrorCategory::ObjectNotFound,
            )
        };
        cx.error(
            ErrorRecord::new(msg, id, cat)
                .with_exception("Microsoft.Rtc.Management.ManagementException")
                .with_target(Value::from(member)),
        )
    }
}

#[derive(Default)]
struct NewRole;

impl Processor for NewRole {
    fn process(&mut self, cx: &mut Cx, _args: &Args) -> Res<()> {
        Err(cx.fail(
            ErrorRecord::new(
                format!(
                    "Custom administrator roles are not supported in lyncsh; give accounts one of the built-in roles with Add-CsAdminRoleMember ({}).",
                    roles::names()
                ),
                "NotSupported",
                ErrorCategory::InvalidOperation,
            )
            .with_exception("System.NotSupportedException"),
        ))
    }
}

#[derive(Default)]
struct RemoveRole;

impl Processor for RemoveRole {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let name = args.string("Identity").unwrap_or_default();
        let name = name.trim();
        match roles::builtin(name) {
            Some(r) => cx.error(
                ErrorRecord::new(
                    format!(
                        "{} is a built-in administrator role; built-in roles cannot be removed or changed.",
                        r.name
                    ),
                    "BuiltInRole",
                    ErrorCategory::InvalidOperation,
                )
                .with_exception("Microsoft.Rtc.Management.ManagementException")
                .with_target(Value::from(r.name)),
            ),
            None => cx.error(not_found(name)),
        }
    }
}
