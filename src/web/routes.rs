//! The Control Panel's routes. Every page but sign-in needs a session
//! (a handler that takes a [`Ctx`] has one); every form carries the
//! session's CSRF token and a POST without it is refused (a handler that
//! takes [`Posted`] has both); changes run as their equivalent shell
//! command (see [`super::desk`]) and the page shows that command.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use maud::{Markup, html};
use rusqlite::types::Value as Sql;
use serde_json::Value as Json;

use crate::config::identity::Scope;
use crate::config::schema::{Family, schema};
use crate::config::users::{self, POLICY_COLUMNS, User, Where};
use crate::cs::anonymous;
use crate::runtime::wildcard::Wildcard;

use super::auth::{self, Auth, COOKIE, SignInError};
use super::desk::{Desk, Refusal};
use super::families::{self, Page, form_properties, is_main, label};
use super::pages::{self, Ctx, Notice, csrf, field, layout, shown};
use super::shell::{Command, boolean};

/// The cookie that carries the sign-in form's token (before a session).
const SIGNIN_COOKIE: &str = "lyncsh_signin";
/// Users per page.
const PAGE_SIZE: i64 = 25;

#[derive(Clone)]
pub struct App {
    pub desk: Desk,
    pub auth: Arc<Auth>,
}

type Fields = Vec<(String, String)>;

fn get_field<'a>(form: &'a Fields, name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub fn router(app: App) -> Router {
    Router::new()
        .route("/signin", get(sign_in_page).post(sign_in))
        .route("/signout", post(sign_out))
        .route("/", get(home))
        .route("/p/{slug}", get(list))
        .route("/p/{slug}/edit", get(edit_page).post(edit))
        .route("/p/{slug}/new", get(new_page).post(create))
        .route("/p/{slug}/delete", post(delete))
        .route("/users", get(users_page))
        .route("/users/assign", get(assign_page).post(assign))
        .route("/domains", get(domains_page))
        .route("/domains/new", post(domain_new))
        .route("/domains/delete", post(domain_delete))
        .route("/log", get(log_page))
        .fallback(not_found)
        .with_state(app)
}

// ------------------------------------------------------------ responses

/// A page with the headers every page carries: never cached, never framed,
/// no script.
fn html_response(status: StatusCode, body: Markup) -> Response {
    let mut r = (status, body.into_string()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    r
}

fn ok(body: Markup) -> Response {
    html_response(StatusCode::OK, body)
}

fn to_sign_in() -> Response {
    Redirect::to("/signin").into_response()
}

fn message_page(ctx: &Ctx, status: StatusCode, title: &str, text: &str) -> Response {
    html_response(
        status,
        layout(
            ctx,
            "",
            title,
            &Notice::None,
            html! { p.err id="error" { (text) } },
        ),
    )
}

fn forbidden(ctx: &Ctx, text: &str) -> Response {
    message_page(ctx, StatusCode::FORBIDDEN, "Access denied", text)
}

fn store_error(ctx: &Ctx, e: String) -> Response {
    message_page(
        ctx,
        StatusCode::INTERNAL_SERVER_ERROR,
        "The configuration store cannot be read",
        &e,
    )
}

async fn not_found() -> Response {
    html_response(
        StatusCode::NOT_FOUND,
        html! { p { "There is no such page. " a href="/" { "Home" } } },
    )
}

fn secure_cookie(name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .path("/")
        .build()
}

// ------------------------------------------------------------ sessions

/// The signed-in account of a request, with its roles read now; without
/// a session the browser is sent to sign in.
impl FromRequestParts<App> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let id = jar.get(COOKIE).map(|c| c.value().to_string());
        let Some(s) = id.as_deref().and_then(|id| app.auth.session(id)) else {
            return Err(to_sign_in());
        };
        let roles = app.desk.roles(&s.account).await.unwrap_or_default();
        Ok(Ctx {
            account: s.account,
            roles,
            csrf: s.csrf,
        })
    }
}

/// A form posted from a signed-in session's page: the session, and the
/// form with that session's CSRF token, or the request is refused.
struct Posted {
    c: Ctx,
    form: Fields,
}

impl FromRequest<App> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, app: &App) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let c = Ctx::from_request_parts(&mut parts, app).await?;
        let Form(form) = Form::<Fields>::from_request(Request::from_parts(parts, body), app)
            .await
            .map_err(IntoResponse::into_response)?;
        match get_field(&form, "csrf") {
            Some(t) if auth::same_token(t, &c.csrf) => Ok(Posted { c, form }),
            _ => Err(forbidden(
                &c,
                "The form did not carry this session's security token: it did not come from a Control Panel page, or the page is out of date. Reload the page and try again.",
            )),
        }
    }
}

async fn sign_in_page(jar: CookieJar) -> Response {
    let token: String = {
        let bytes: [u8; 32] = rand::random();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    let jar = jar.add(secure_cookie(SIGNIN_COOKIE, token.clone()));
    (jar, ok(pages::sign_in(&token, None))).into_response()
}

async fn sign_in(State(app): State<App>, jar: CookieJar, Form(form): Form<Fields>) -> Response {
    let expected = jar.get(SIGNIN_COOKIE).map(|c| c.value().to_string());
    let given = get_field(&form, "csrf").unwrap_or_default().to_string();
    let token = expected.clone().unwrap_or_default();
    let again =
        |msg: &str, status: StatusCode| html_response(status, pages::sign_in(&token, Some(msg)));
    if expected.is_none_or(|e| !auth::same_token(&e, &given)) {
        return again(
            "The sign-in form did not carry its security token. Reload the page and try again.",
            StatusCode::FORBIDDEN,
        );
    }
    let account = get_field(&form, "account")
        .unwrap_or_default()
        .trim()
        .to_string();
    let password = get_field(&form, "password").unwrap_or_default().to_string();
    let auth = app.auth.clone();
    let checked = tokio::task::spawn_blocking(move || auth.check_password(&account, &password))
        .await
        .unwrap_or(Err(SignInError::Refused(std::time::Duration::ZERO)));
    let name = match checked {
        Ok(name) => name,
        Err(SignInError::Refused(delay)) => {
            // The answer to a wrong password waits; the next try waits too.
            tokio::time::sleep(delay).await;
            return again(
                "The user name or password is incorrect.",
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(SignInError::TooSoon(wait)) => {
            return again(
                &format!(
                    "Too many failed sign-ins for this account: try again in {} seconds.",
                    wait.as_secs() + 1
                ),
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
    };
    let roles = app.desk.roles(&name).await.unwrap_or_default();
    if roles.is_empty() {
        return again(
            &format!("The account '{name}' holds no administrator role."),
            StatusCode::FORBIDDEN,
        );
    }
    let id = app.auth.open(&name);
    let jar = jar
        .remove(Cookie::build(SIGNIN_COOKIE).path("/"))
        .add(secure_cookie(COOKIE, id));
    (jar, Redirect::to("/")).into_response()
}

async fn sign_out(State(app): State<App>, jar: CookieJar, _: Posted) -> Response {
    if let Some(c) = jar.get(COOKIE) {
        app.auth.close(c.value());
    }
    let jar = jar.remove(Cookie::build(COOKIE).path("/"));
    (jar, Redirect::to("/signin")).into_response()
}

// ------------------------------------------------------------ home

async fn home(State(app): State<App>, c: Ctx) -> Response {
    let answer = app
        .desk
        .read(|e| anonymous::organization(e).map_err(|r| String::from(r.message)))
        .await;
    let answer = match answer {
        Ok(a) => a,
        Err(e) => return store_error(&c, e),
    };
    let (yes, all) = answer.organizers.unwrap_or((0, 0));
    let body = html! {
        table {
            tr { th { "Signed in as" } td id="me" { (c.account) } }
            tr { th { "Roles" } td id="roles" { (c.roles.join(", ")) } }
        }
        h3 { "Can anonymous users join meetings?" }
        p id="anonymous-answer" {
            strong { @if answer.allowed { "Yes" } @else { "No" } }
            " — " (answer.reason)
        }
        table {
            tr { th { "Access Edge: Enable communications with anonymous users" }
                 td id="edge-answer" { (boolean_word(answer.edge)) } }
            tr { th { "Global conferencing policy: Allow participants to invite anonymous users" }
                 td { (boolean_word(answer.policy_allows)) } }
            tr { th { "Organizers whose conferencing policy allows anonymous participants" }
                 td id="organizers" { (yes) " of " (all) } }
        }
        @if !answer.to_change.is_empty() {
            p { "To allow them:" }
            pre id="to-change" { @for c in &answer.to_change { (c) "\n" } }
            p { a href="/p/access-edge" { "Access Edge Configuration" } " · "
                a href="/p/conferencing-policy" { "Conferencing Policy" } }
        }
        p { "The same answer in the shell: " code { "Test-CsAnonymousMeetingAccess" } }
    };
    ok(layout(&c, "home", "Home", &Notice::None, body))
}

fn boolean_word(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

// ------------------------------------------------------------ family pages

struct Loaded {
    page: &'static Page,
    family: &'static Family,
}

/// The family page a `/p/{slug}` path names; no such page is a 404, as
/// any unknown path is. (A form's handler takes it before [`Posted`],
/// which reads the body and so comes last.)
impl FromRequestParts<App> for Loaded {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Response> {
        let Path(slug) = Path::<String>::from_request_parts(parts, app)
            .await
            .map_err(IntoResponse::into_response)?;
        let loaded = families::page(&slug).and_then(|page| {
            Some(Loaded {
                page,
                family: page.family()?,
            })
        });
        match loaded {
            Some(l) => Ok(l),
            None => Err(not_found().await),
        }
    }
}

type Objects = Vec<crate::config::store::StoredObject>;

async fn objects(app: &App, family: &'static Family) -> Result<Objects, String> {
    app.desk
        .read(move |e| e.list(family).map_err(|e| e.to_string()))
        .await
}

async fn list(
    State(app): State<App>,
    c: Ctx,
    l: Loaded,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    list_with(
        &app,
        &c,
        &l,
        q.get("selected").map(String::as_str),
        Notice::None,
    )
    .await
}

async fn list_with(
    app: &App,
    c: &Ctx,
    l: &Loaded,
    selected: Option<&str>,
    notice: Notice,
) -> Response {
    let objs = match objects(app, l.family).await {
        Ok(o) => o,
        Err(e) => return store_error(c, e),
    };
    let f = l.family;
    let slug = l.page.slug;
    let columns: Vec<_> = form_properties(f)
        .into_iter()
        .filter(|p| is_main(&f.noun, &p.name))
        .take(5)
        .collect();
    let may_set = c.may(&format!("Set-{}", f.noun));
    let may_new = f.has_verb("New") && c.may(&format!("New-{}", f.noun));
    let may_remove = f.has_verb("Remove") && c.may(&format!("Remove-{}", f.noun));
    let selected = selected.filter(|s| objs.iter().any(|o| o.identity == *s));
    let body = html! {
        div.toolbar {
            @if may_new {
                a id="new" href=(format!("/p/{slug}/new")) { button type="button" tabindex="-1" { "New" } }
            }
            @if let Some(id) = selected {
                @if may_set {
                    details id="edit-menu" {
                        summary { "Edit" }
                        a id="show-details" href=(format!("/p/{slug}/edit?identity={}", urlencode(id))) { "Show details..." }
                        @if may_remove {
                            form method="post" action=(format!("/p/{slug}/delete")) {
                                (csrf(c))
                                input type="hidden" name="identity" value=(id);
                                button type="submit" id="delete" { "Delete" }
                            }
                        }
                    }
                } @else {
                    a id="show-details" href=(format!("/p/{slug}/edit?identity={}", urlencode(id))) { "Show details..." }
                }
            } @else {
                span { "Select an item to see or change its settings." }
            }
        }
        table id="items" {
            tr {
                th { "Name" } th { "Scope" }
                @for p in &columns { th { (label(&f.noun, &p.name).unwrap_or(&p.name)) } }
            }
            @for o in &objs {
                tr class=[(selected == Some(o.identity.as_str())).then_some("selected")] {
                    td { a href=(format!("/p/{slug}?selected={}", urlencode(&o.identity))) { (o.identity) } }
                    td { (scope_word(f, &o.identity)) }
                    @for p in &columns { td { (shown(p, o.data.get(&p.name))) } }
                }
            }
        }
    };
    ok(layout(c, slug, l.page.title, &notice, body))
}

fn scope_word(f: &Family, identity: &str) -> &'static str {
    match Scope::from_display(f, identity) {
        Some(Scope::Global) => "Global",
        Some(Scope::Site(_)) => "Site",
        Some(Scope::Tag(_)) => "User",
        Some(Scope::Service(_)) => "Service",
        _ => "",
    }
}

/// Query-string encoding for links built from identities.
fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn edit_page(
    State(app): State<App>,
    c: Ctx,
    l: Loaded,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let identity = q
        .get("identity")
        .cloned()
        .unwrap_or_else(|| "Global".into());
    edit_with(&app, &c, &l, &identity, Notice::None).await
}

async fn edit_with(app: &App, c: &Ctx, l: &Loaded, identity: &str, notice: Notice) -> Response {
    let objs = match objects(app, l.family).await {
        Ok(o) => o,
        Err(e) => return store_error(c, e),
    };
    let Some(obj) = objs.into_iter().find(|o| o.identity == identity) else {
        return message_page(
            c,
            StatusCode::NOT_FOUND,
            l.page.title,
            &format!(
                "There is no {} with the identity \"{identity}\".",
                l.page.title
            ),
        );
    };
    let f = l.family;
    let slug = l.page.slug;
    let read_only = !c.may(&format!("Set-{}", f.noun));
    let props = form_properties(f);
    let title = if read_only {
        format!("View {} - {identity}", l.page.title)
    } else {
        format!("Edit {} - {identity}", l.page.title)
    };
    let body = html! {
        form method="post" action=(format!("/p/{slug}/edit")) {
            (csrf(c))
            input type="hidden" name="identity" value=(obj.identity);
            @if !read_only {
                div.toolbar {
                    button type="submit" id="commit" { "Commit" }
                    a href=(format!("/p/{slug}")) id="cancel" { "Cancel" }
                }
            }
            table { tr { th { "Name" } td { (obj.identity) } } tr { th { "Scope" } td { (scope_word(f, &obj.identity)) } } }
            fieldset {
                legend { "Settings" }
                @for p in props.iter().filter(|p| is_main(&f.noun, &p.name)) {
                    (field(f, p, obj.data.get(&p.name), read_only))
                }
            }
            fieldset {
                legend { "More settings (shell names)" }
                @for p in props.iter().filter(|p| !is_main(&f.noun, &p.name)) {
                    (field(f, p, obj.data.get(&p.name), read_only))
                }
            }
            @if read_only {
                p { a href=(format!("/p/{slug}")) { "Back" } }
            }
        }
    };
    ok(layout(c, slug, &title, &notice, body))
}

/// The parameters a form changes, compared with `current`.
fn changes(
    f: &'static Family,
    form: &Fields,
    current: &serde_json::Map<String, Json>,
    mut cmd: Command,
) -> (Command, usize) {
    let bools: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "bools")
        .map(|(_, v)| v.as_str())
        .collect();
    let mut n = 0;
    for p in form_properties(f) {
        let cur = current.get(&p.name);
        if p.ty == "Boolean" {
            if !bools.contains(&p.name.as_str()) {
                continue;
            }
            let new = get_field(form, &p.name) == Some("on");
            if cur != Some(&Json::Bool(new)) {
                cmd = cmd.raw(&p.name, boolean(new));
                n += 1;
            }
            continue;
        }
        let Some(new) = get_field(form, &p.name) else {
            continue;
        };
        let new = new.trim();
        if new == shown(p, cur) {
            continue;
        }
        n += 1;
        cmd = if new.is_empty() {
            cmd.raw(&p.name, "$null")
        } else if new.parse::<i64>().is_ok() && p.ty != "String" {
            cmd.raw(&p.name, new)
        } else {
            cmd.text(&p.name, new)
        };
    }
    (cmd, n)
}

/// Runs one command and turns the answer into a notice, or a 403 page.
async fn commit(app: &App, c: &Ctx, commands: Vec<Command>) -> Result<Notice, Response> {
    let mut done = Vec::new();
    for cmd in commands {
        match app.desk.run(&c.account, &cmd.cmdlet, cmd.line()).await {
            Ok(()) => done.push(cmd.line().to_string()),
            Err(Refusal::Forbidden(why)) => return Err(forbidden(c, &why)),
            Err(Refusal::Errors(errors)) => {
                done.push(cmd.line().to_string());
                return Ok(Notice::Failed {
                    commands: done,
                    errors,
                });
            }
        }
    }
    Ok(Notice::Committed(done))
}

async fn edit(State(app): State<App>, l: Loaded, Posted { c, form }: Posted) -> Response {
    let identity = get_field(&form, "identity").unwrap_or("Global").to_string();
    let objs = match objects(&app, l.family).await {
        Ok(o) => o,
        Err(e) => return store_error(&c, e),
    };
    let current = objs
        .into_iter()
        .find(|o| o.identity == identity)
        .map(|o| o.data)
        .unwrap_or_default();
    let base = Command::new(&format!("Set-{}", l.family.noun));
    let base = if l.family.noun == "CsAccessEdgeConfiguration" {
        base
    } else {
        base.text("Identity", &identity)
    };
    let (cmd, n) = changes(l.family, &form, &current, base);
    if n == 0 {
        if !c.may(&cmd.cmdlet) {
            return forbidden(
                &c,
                &format!(
                    "The account '{}' holds no role that may run {}.",
                    c.account, cmd.cmdlet
                ),
            );
        }
        return list_with(&app, &c, &l, Some(&identity), Notice::Committed(Vec::new())).await;
    }
    match commit(&app, &c, vec![cmd]).await {
        Ok(n @ Notice::Committed(_)) => list_with(&app, &c, &l, Some(&identity), n).await,
        Ok(n) => edit_with(&app, &c, &l, &identity, n).await,
        Err(r) => r,
    }
}

async fn new_page(c: Ctx, l: Loaded) -> Response {
    new_with(&c, &l, Notice::None, &Vec::new())
}

fn new_with(c: &Ctx, l: &Loaded, notice: Notice, posted: &Fields) -> Response {
    let f = l.family;
    let slug = l.page.slug;
    if !f.has_verb("New") || !c.may(&format!("New-{}", f.noun)) {
        return forbidden(
            c,
            &format!(
                "The account '{}' holds no role that may run New-{}.",
                c.account, f.noun
            ),
        );
    }
    let defaults = crate::config::values::defaults(f);
    let mut values = defaults.clone();
    for p in form_properties(f) {
        if p.ty == "Boolean" && posted.iter().any(|(k, v)| k == "bools" && *v == p.name) {
            values.insert(
                p.name.clone(),
                Json::Bool(get_field(posted, &p.name) == Some("on")),
            );
        } else if let Some(v) = get_field(posted, &p.name) {
            values.insert(p.name.clone(), Json::String(v.to_string()));
        }
    }
    let body = html! {
        form method="post" action=(format!("/p/{slug}/new")) {
            (csrf(c))
            div.toolbar {
                button type="submit" id="commit" { "Commit" }
                a href=(format!("/p/{slug}")) id="cancel" { "Cancel" }
            }
            div.field {
                label.name for="f-scope" { "Scope" }
                select id="f-scope" name="scope" {
                    @for (text, prefix) in l.page.new_scopes {
                        option value=(prefix) selected[get_field(posted, "scope") == Some(*prefix)] { (text) }
                    }
                }
            }
            div.field {
                label.name for="f-name" { "Name" }
                input type="text" id="f-name" name="name" value=(get_field(posted, "name").unwrap_or_default());
            }
            fieldset {
                legend { "Settings" }
                @for p in form_properties(f).iter().filter(|p| is_main(&f.noun, &p.name)) {
                    (field(f, p, values.get(&p.name), false))
                }
            }
            fieldset {
                legend { "More settings (shell names)" }
                @for p in form_properties(f).iter().filter(|p| !is_main(&f.noun, &p.name)) {
                    (field(f, p, values.get(&p.name), false))
                }
            }
        }
    };
    ok(layout(
        c,
        slug,
        &format!("New {}", l.page.title),
        &notice,
        body,
    ))
}

async fn create(State(app): State<App>, l: Loaded, Posted { c, form }: Posted) -> Response {
    let f = l.family;
    let prefix = get_field(&form, "scope").unwrap_or_default();
    if !l.page.new_scopes.iter().any(|(_, p)| *p == prefix) {
        return new_with(
            &c,
            &l,
            Notice::Failed {
                commands: Vec::new(),
                errors: vec!["Choose a scope.".into()],
            },
            &form,
        );
    }
    let name = get_field(&form, "name")
        .unwrap_or_default()
        .trim()
        .to_string();
    let identity = format!("{prefix}{name}");
    let base = Command::new(&format!("New-{}", f.noun)).text("Identity", &identity);
    let (cmd, _) = changes(f, &form, &crate::config::values::defaults(f), base);
    match commit(&app, &c, vec![cmd]).await {
        Ok(n @ Notice::Committed(_)) => {
            let shown_id = match Scope::parse(f, &identity) {
                Ok(s) => s.display(),
                Err(_) => identity.clone(),
            };
            list_with(&app, &c, &l, Some(&shown_id), n).await
        }
        Ok(n) => new_with(&c, &l, n, &form),
        Err(r) => r,
    }
}

async fn delete(State(app): State<App>, l: Loaded, Posted { c, form }: Posted) -> Response {
    let identity = get_field(&form, "identity").unwrap_or_default();
    let cmd = Command::new(&format!("Remove-{}", l.family.noun))
        .text("Identity", identity)
        .switch("Force");
    match commit(&app, &c, vec![cmd]).await {
        Ok(n) => list_with(&app, &c, &l, None, n).await,
        Err(r) => r,
    }
}

// ------------------------------------------------------------ users

/// Users whose display name or SIP address starts with `q` (both indexed,
/// case-insensitive, so a prefix is a range scan). The ids are gathered
/// from the two indexes in a subquery: written as a plain OR, SQLite walks
/// the table in id order for the page and tests every row, 50,000 of them
/// to fill a page of `user05` among 100,000 users.
fn search(q: &str) -> Where {
    let q = q.trim();
    if q.is_empty() {
        return Where::all();
    }
    let sip = if q.to_ascii_lowercase().starts_with("sip:") {
        q.to_string()
    } else {
        format!("sip:{q}")
    };
    let hi = |s: &str| format!("{s}\u{10FFFF}");
    Where::new(
        "id IN (SELECT id FROM users WHERE display_name >= ? AND display_name < ? \
         UNION ALL SELECT id FROM users WHERE sip >= ? AND sip < ?)",
        vec![
            Sql::Text(q.to_string()),
            Sql::Text(hi(q)),
            Sql::Text(sip.clone()),
            Sql::Text(hi(&sip)),
        ],
    )
}

struct UserRow {
    user: User,
    /// (assigned, effective) per policy kind, in the order of POLICY_COLUMNS.
    policies: Vec<(Option<String>, String)>,
}

fn user_rows(e: &crate::config::Engine, found: Vec<User>) -> Result<Vec<UserRow>, String> {
    let mut rows = Vec::new();
    for u in found {
        let mut policies = Vec::new();
        for (property, _) in POLICY_COLUMNS {
            let f = schema()
                .families
                .iter()
                .find(|f| f.user_property.as_deref() == Some(property));
            let eff = match f {
                Some(f) => crate::cs::grant::effective(e, f, &u)
                    .map(|(id, _)| id)
                    .map_err(|r| r.message)?,
                None => String::new(),
            };
            policies.push((u.policy(property).map(|p| format!("Tag:{p}")), eff));
        }
        rows.push(UserRow { user: u, policies });
    }
    Ok(rows)
}

async fn users_page(
    State(app): State<App>,
    c: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let text = q.get("q").cloned().unwrap_or_default();
    let after: i64 = q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let w = search(&text);
    let rows = app
        .desk
        .read(move |e| {
            let found = users::page(e, &w, after, PAGE_SIZE + 1).map_err(|e| e.to_string())?;
            user_rows(e, found)
        })
        .await;
    let mut rows = match rows {
        Ok(r) => r,
        Err(e) => return store_error(&c, e),
    };
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let may_grant = POLICY_COLUMNS
        .iter()
        .any(|(p, _)| c.may(&format!("Grant-Cs{p}")));
    let body = html! {
        form method="get" action="/users" {
            label for="q" { "Search by display name or SIP address" }
            " "
            input type="text" id="q" name="q" value=(text);
            " "
            button type="submit" id="find" { "Find" }
        }
        table id="users" {
            tr {
                th { "Display name" } th { "SIP address" } th { "Enabled" }
                th { "Conferencing policy" } th { "External access policy" } th { "Client policy" }
                @if may_grant { th {} }
            }
            @for r in &rows {
                tr {
                    td { (r.user.display_name) }
                    td { (r.user.sip.clone().unwrap_or_default()) }
                    td { (boolean_word(r.user.lync_enabled)) }
                    @for (assigned, effective) in &r.policies {
                        td {
                            (assigned.clone().unwrap_or_else(|| "<Automatic>".into()))
                            br;
                            small { "effective: " (effective) }
                        }
                    }
                    @if may_grant {
                        td {
                            @if let (true, Some(sip)) = (r.user.lync_enabled, &r.user.sip) {
                                a href=(format!("/users/assign?sip={}", urlencode(sip))) { "Assign policies" }
                            }
                        }
                    }
                }
            }
        }
        @if rows.is_empty() { p { "No users match." } }
        p {
            @if after > 0 { a id="first" href=(format!("/users?q={}", urlencode(&text))) { "First page" } " " }
            @if more {
                @if let Some(last) = rows.last() {
                    a id="next" href=(format!("/users?q={}&after={}", urlencode(&text), last.user.id)) { "Next page" }
                }
            }
        }
    };
    ok(layout(&c, "users", "Users", &Notice::None, body))
}

/// The per-user policies of each kind a user may be given.
async fn assignable(app: &App) -> Result<Vec<(&'static str, Vec<String>)>, String> {
    app.desk
        .read(|e| {
            let mut out = Vec::new();
            for (property, _) in POLICY_COLUMNS {
                let Some(f) = schema()
                    .families
                    .iter()
                    .find(|f| f.user_property.as_deref() == Some(property))
                else {
                    continue;
                };
                let names = e
                    .list(f)
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .filter_map(|o| match Scope::from_display(f, &o.identity) {
                        Some(Scope::Tag(n)) => Some(n),
                        _ => None,
                    })
                    .collect();
                out.push((property, names));
            }
            Ok(out)
        })
        .await
}

async fn one_user(app: &App, sip: &str) -> Result<Option<UserRow>, String> {
    let sip = sip.to_string();
    app.desk
        .read(move |e| {
            let w = Where::new("sip = ? AND lync_enabled = 1", vec![Sql::Text(sip)]);
            let found = users::find(e, &w).map_err(|e| e.to_string())?;
            Ok(user_rows(e, found)?.into_iter().next())
        })
        .await
}

async fn assign_page(
    State(app): State<App>,
    c: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let sip = q.get("sip").cloned().unwrap_or_default();
    assign_with(&app, &c, &sip, Notice::None).await
}

async fn assign_with(app: &App, c: &Ctx, sip: &str, notice: Notice) -> Response {
    let row = match one_user(app, sip).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            return message_page(
                c,
                StatusCode::NOT_FOUND,
                "Users",
                &format!("No user enabled for Lync Server matches the identity \"{sip}\"."),
            );
        }
        Err(e) => return store_error(c, e),
    };
    let kinds = match assignable(app).await {
        Ok(k) => k,
        Err(e) => return store_error(c, e),
    };
    let body = html! {
        table {
            tr { th { "Display name" } td { (row.user.display_name) } }
            tr { th { "SIP address" } td { (sip) } }
        }
        form method="post" action="/users/assign" {
            (csrf(c))
            input type="hidden" name="sip" value=(sip);
            div.toolbar {
                button type="submit" id="commit" { "Commit" }
                a href="/users" id="cancel" { "Cancel" }
            }
            @for ((property, names), (assigned, effective)) in kinds.iter().zip(row.policies.iter()) {
                @let may = c.may(&format!("Grant-Cs{property}"));
                @let current = assigned.as_deref().and_then(|a| a.strip_prefix("Tag:")).unwrap_or("");
                div.field {
                    label.name for=(format!("f-{property}")) { (property) }
                    select id=(format!("f-{property}")) name=(property) disabled[!may] {
                        option value="" selected[current.is_empty()] { "<Automatic>" }
                        @for n in names {
                            option value=(n) selected[n.eq_ignore_ascii_case(current)] { (n) }
                        }
                    }
                    " effective: " (effective)
                }
            }
        }
    };
    ok(layout(c, "users", "Assign Policies", &notice, body))
}

async fn assign(State(app): State<App>, Posted { c, form }: Posted) -> Response {
    let sip = get_field(&form, "sip").unwrap_or_default().to_string();
    let row = match one_user(&app, &sip).await {
        Ok(Some(r)) => r,
        Ok(None) => return assign_with(&app, &c, &sip, Notice::None).await,
        Err(e) => return store_error(&c, e),
    };
    let mut commands = Vec::new();
    for ((property, _), (assigned, _)) in POLICY_COLUMNS.iter().zip(row.policies.iter()) {
        let Some(new) = get_field(&form, property) else {
            continue;
        };
        let current = assigned
            .as_deref()
            .and_then(|a| a.strip_prefix("Tag:"))
            .unwrap_or("");
        if new.eq_ignore_ascii_case(current) {
            continue;
        }
        let cmd = Command::new(&format!("Grant-Cs{property}")).text("Identity", &sip);
        commands.push(if new.is_empty() {
            cmd.raw("PolicyName", "$null")
        } else {
            cmd.text("PolicyName", new)
        });
    }
    if commands.is_empty() {
        return assign_with(&app, &c, &sip, Notice::Committed(Vec::new())).await;
    }
    match commit(&app, &c, commands).await {
        Ok(n) => assign_with(&app, &c, &sip, n).await,
        Err(r) => r,
    }
}

// ------------------------------------------------------------ domains

const DOMAIN_LISTS: [(&str, &str); 2] = [
    ("CsAllowedDomain", "Allowed domains"),
    ("CsBlockedDomain", "Blocked domains"),
];

async fn domains_page(State(app): State<App>, c: Ctx) -> Response {
    domains_with(&app, &c, Notice::None).await
}

async fn domains_with(app: &App, c: &Ctx, notice: Notice) -> Response {
    let mut lists = Vec::new();
    for (noun, title) in DOMAIN_LISTS {
        let Some(f) = schema().family(noun) else {
            continue;
        };
        match objects(app, f).await {
            Ok(o) => lists.push((noun, title, o)),
            Err(e) => return store_error(c, e),
        }
    }
    let may_new = DOMAIN_LISTS.iter().any(|(n, _)| c.may(&format!("New-{n}")));
    let body = html! {
        @for (noun, title, objs) in &lists {
            @let may_remove = c.may(&format!("Remove-{noun}"));
            h3 { (title) }
            table id=(noun) {
                tr { th { "Domain" } th { "Comment" } @if may_remove { th {} } }
                @for o in objs {
                    tr {
                        td { (o.identity) }
                        td { (o.data.get("Comment").and_then(|c| c.as_str()).unwrap_or_default()) }
                        @if may_remove {
                            td {
                                form method="post" action="/domains/delete" {
                                    (csrf(c))
                                    input type="hidden" name="list" value=(noun);
                                    input type="hidden" name="identity" value=(o.identity);
                                    button type="submit" { "Delete" }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if may_new {
            h3 { "New" }
            form method="post" action="/domains/new" {
                (csrf(c))
                div.field {
                    label.name for="f-list" { "List" }
                    select id="f-list" name="list" {
                        @for (noun, title) in DOMAIN_LISTS { option value=(noun) { (title) } }
                    }
                }
                div.field {
                    label.name for="f-domain" { "Domain name (or FQDN)" }
                    input type="text" id="f-domain" name="domain";
                }
                div.field {
                    label.name for="f-comment" { "Comment" }
                    input type="text" id="f-comment" name="comment";
                }
                button type="submit" id="commit" { "Commit" }
            }
        }
    };
    ok(layout(c, "domains", "Federated Domains", &notice, body))
}

fn domain_list(form: &Fields) -> Option<&'static str> {
    let list = get_field(form, "list")?;
    DOMAIN_LISTS.iter().map(|(n, _)| *n).find(|n| *n == list)
}

async fn domain_new(State(app): State<App>, Posted { c, form }: Posted) -> Response {
    let Some(noun) = domain_list(&form) else {
        return not_found().await;
    };
    let mut cmd = Command::new(&format!("New-{noun}")).text(
        "Identity",
        get_field(&form, "domain").unwrap_or_default().trim(),
    );
    if let Some(comment) = get_field(&form, "comment").filter(|c| !c.trim().is_empty()) {
        cmd = cmd.text("Comment", comment);
    }
    match commit(&app, &c, vec![cmd]).await {
        Ok(n) => domains_with(&app, &c, n).await,
        Err(r) => r,
    }
}

async fn domain_delete(State(app): State<App>, Posted { c, form }: Posted) -> Response {
    let Some(noun) = domain_list(&form) else {
        return not_found().await;
    };
    let cmd = Command::new(&format!("Remove-{noun}"))
        .text("Identity", get_field(&form, "identity").unwrap_or_default());
    match commit(&app, &c, vec![cmd]).await {
        Ok(n) => domains_with(&app, &c, n).await,
        Err(r) => r,
    }
}

// ------------------------------------------------------------ change log

/// Most entries the change log page shows.
const LOG_ROWS: usize = 200;

async fn log_page(
    State(app): State<App>,
    c: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let account = q.get("account").cloned().unwrap_or_default();
    let target = q.get("target").cloned().unwrap_or_default();
    let changes = match app
        .desk
        .read(|e| e.changes(None).map_err(|e| e.to_string()))
        .await
    {
        Ok(c) => c,
        Err(e) => return store_error(&c, e),
    };
    let by_account = (!account.trim().is_empty()).then(|| Wildcard::new(account.trim(), false));
    let by_target = (!target.trim().is_empty()).then(|| Wildcard::new(target.trim(), false));
    let shown: Vec<_> = changes
        .iter()
        .rev()
        .filter(|ch| by_account.as_ref().is_none_or(|w| w.is_match(&ch.account)))
        .filter(|ch| by_target.as_ref().is_none_or(|w| w.is_match(&ch.target)))
        .take(LOG_ROWS)
        .collect();
    let body = html! {
        form method="get" action="/log" {
            label for="f-account" { "Account" } " "
            input type="text" id="f-account" name="account" value=(account);
            " "
            label for="f-target" { "Target" } " "
            input type="text" id="f-target" name="target" value=(target) placeholder="*AccessEdge*";
            " "
            button type="submit" id="filter" { "Filter" }
        }
        p { "Newest first; wildcards (*, ?) allowed. The shell: " code { "Get-CsAdminChangeLog" } }
        table id="log" {
            tr { th { "Time" } th { "Account" } th { "Command" } th { "Target" } th { "Detail" } }
            @for ch in &shown {
                tr { td { (ch.time) } td { (ch.account) } td { code { (ch.command) } } td { (ch.target) } td { (ch.detail) } }
            }
        }
    };
    ok(layout(&c, "log", "Change Log", &Notice::None, body))
}
