//! The Control Panel's HTML, server-rendered with maud (which escapes
//! every value it inserts): the frame with the left navigation, and the
//! parts that pages share.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::config::roles;
use crate::config::schema::{Family, PropDef, schema};

use super::families::{PAGES, label};

/// Who is looking, and the token their forms carry.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub account: String,
    pub roles: Vec<String>,
    pub csrf: String,
}

impl Ctx {
    /// May this account run the cmdlet? Pages show edit controls only then.
    pub fn may(&self, cmdlet: &str) -> bool {
        roles::allowed(&self.roles, cmdlet)
    }
}

/// What the last commit did, shown at the top of the page.
pub enum Notice {
    None,
    Committed(Vec<String>),
    Failed {
        commands: Vec<String>,
        errors: Vec<String>,
    },
}

const STYLE: &str = "
body{margin:0;font-family:Segoe UI,Arial,sans-serif;font-size:14px;color:#222}
header{background:#1e4e79;color:#fff;padding:8px 16px;display:flex;justify-content:space-between;align-items:center}
header h1{font-size:18px;margin:0;font-weight:normal}
header form{display:inline}
nav{position:absolute;top:44px;left:0;width:210px;bottom:0;background:#f0f0f0;border-right:1px solid #ccc;padding-top:8px}
nav a{display:block;padding:4px 16px;color:#1e4e79;text-decoration:none}
nav a.active{background:#cfe0f1;font-weight:bold}
nav .group{padding:8px 16px 2px;color:#555;font-weight:bold}
nav .sub{padding-left:28px}
main{margin-left:226px;padding:8px 16px}
table{border-collapse:collapse;margin:8px 0}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#e8e8e8}
tr.selected td{background:#cfe0f1}
.toolbar{margin:8px 0;display:flex;gap:8px;align-items:flex-start}
.toolbar details{border:1px solid #999;padding:2px 8px;background:#fafafa}
.toolbar summary{cursor:pointer}
.ok{background:#e5f4e5;border:1px solid #6a6;padding:8px;margin:8px 0}
.err{background:#fbe5e5;border:1px solid #c66;padding:8px;margin:8px 0}
.info{background:#eef;border:1px solid #99c;padding:8px;margin:8px 0}
pre{background:#f6f6f6;border:1px solid #ddd;padding:6px;white-space:pre-wrap}
fieldset{margin:8px 0}
label{margin-left:4px}
.field{margin:4px 0}
.field .name{display:inline-block;min-width:280px}
";

/// The frame of every signed-in page.
pub fn layout(ctx: &Ctx, active: &str, title: &str, notice: &Notice, body: Markup) -> Markup {
    let link = |href: &str, text: &str, key: &str, sub: bool| {
        let class = match (key == active, sub) {
            (true, true) => "active sub",
            (true, false) => "active",
            (false, true) => "sub",
            (false, false) => "",
        };
        html! { a href=(href) class=(class) { (text) } }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) " - Lync Server 2013 Control Panel (lyncsh)" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { "Lync Server 2013 Control Panel" }
                    span {
                        span id="account" { (ctx.account) } " "
                        form method="post" action="/signout" {
                            input type="hidden" name="csrf" value=(ctx.csrf);
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                nav {
                    (link("/", "Home", "home", false))
                    (link("/users", "Users", "users", false))
                    div.group { "Conferencing" }
                    @for p in PAGES.iter().filter(|p| p.group == "Conferencing") {
                        (link(&format!("/p/{}", p.slug), p.title, p.slug, true))
                    }
                    div.group { "External User Access" }
                    @for p in PAGES.iter().filter(|p| p.group == "External User Access") {
                        (link(&format!("/p/{}", p.slug), p.title, p.slug, true))
                    }
                    (link("/domains", "Federated Domains", "domains", true))
                    (link("/log", "Change Log", "log", false))
                }
                main {
                    h2 { (title) }
                    (notice_box(notice))
                    (body)
                }
            }
        }
    }
}

fn notice_box(n: &Notice) -> Markup {
    html! {
        @match n {
            Notice::None => {},
            Notice::Committed(cmds) => div.ok id="committed" {
                @if cmds.is_empty() {
                    "There were no changes to commit."
                } @else {
                    "The changes were committed. The equivalent Lync Server Management Shell command:"
                    pre id="command" { @for c in cmds { (c) "\n" } }
                }
            },
            Notice::Failed { commands, errors } => div.err id="error" {
                "The changes were not committed."
                ul { @for e in errors { li { (e) } } }
                @if !commands.is_empty() {
                    "The command that was run:"
                    pre { @for c in commands { (c) "\n" } }
                }
            },
        }
    }
}

/// The sign-in page (no session yet).
pub fn sign_in(token: &str, message: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Sign in - Lync Server 2013 Control Panel (lyncsh)" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header { h1 { "Lync Server 2013 Control Panel" } }
                main style="margin-left:16px" {
                    h2 { "Sign in" }
                    @if let Some(m) = message { div.err id="error" { (m) } }
                    form method="post" action="/signin" {
                        input type="hidden" name="csrf" value=(token);
                        div.field {
                            label.name for="account" { "User name" }
                            input type="text" id="account" name="account" autocomplete="username";
                        }
                        div.field {
                            label.name for="password" { "Password" }
                            input type="password" id="password" name="password" autocomplete="current-password";
                        }
                        button type="submit" id="signin" { "Sign in" }
                    }
                }
            }
        }
    }
}

/// A stored value as the shell shows it.
pub fn shown(p: &PropDef, v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(j) => crate::config::values::to_value(p, j).to_string(),
    }
}

/// One setting of an edit form; `disabled` for read-only accounts.
pub fn field(f: &Family, p: &PropDef, v: Option<&serde_json::Value>, disabled: bool) -> Markup {
    let id = format!("f-{}", p.name);
    let text = label(&f.noun, &p.name).unwrap_or(&p.name);
    let options = schema().enum_values(&p.ty);
    html! {
        div.field title=(p.help) {
            @if p.ty == "Boolean" {
                input type="hidden" name="bools" value=(p.name);
                input type="checkbox" id=(id) name=(p.name) value="on"
                    checked[v == Some(&serde_json::Value::Bool(true))] disabled[disabled];
                label for=(id) { (text) }
            } @else if let Some(values) = options {
                label.name for=(id) { (text) }
                select id=(id) name=(p.name) disabled[disabled] {
                    @for o in values {
                        option value=(o) selected[v.and_then(|x| x.as_str()) == Some(o.as_str())] { (o) }
                    }
                }
            } @else {
                label.name for=(id) { (text) }
                input type="text" id=(id) name=(p.name) value=(shown(p, v)) disabled[disabled];
            }
        }
    }
}

/// A hidden CSRF field.
pub fn csrf(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.csrf); }
}
