//! The Control Panel over HTTP: sessions, cookie flags, CSRF, view-only
//! accounts, escaping, and commits that a new `lyncsh` process sees.
//! Each test runs the server in-process (plain HTTP on loopback, or TLS
//! with the self-signed certificate) on a store in a temp dir.

mod common;

use std::time::Duration;

use common::web_client::{csrf_of, sign_in};
use common::{TempDir, local};
use lyncsh::web::{Tls, WebOptions};

/// A store with an administrator (alice), a view-only account (victor)
/// and users, and a passwords file for both.
fn setup(dir: &TempDir) -> WebOptions {
    let store = dir.path("store.db");
    let r = local(
        &store,
        "Add-CsAdminRoleMember -Role CsAdministrator -Member alice; \
         Add-CsAdminRoleMember -Role CsViewOnlyAdministrator -Member victor; \
         $null = New-CsAdUser -DisplayName 'Ken Myer' -SamAccountName kenmyer; \
         Get-CsAdUser | Enable-CsUser -RegistrarPool pool01.contoso.com -SipAddressType SamAccountName -SipDomain contoso.com",
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let hash = lyncsh::remote::passwords::hash("s3cret").expect("hash");
    let passwords = dir.path("passwords");
    std::fs::write(&passwords, format!("alice:{hash}\nvictor:{hash}\n")).expect("passwords");
    WebOptions {
        listen: "127.0.0.1:0".into(),
        store,
        passwords,
        tls: Tls::Off,
        session_idle: Duration::from_secs(600),
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn client() -> reqwest::Client {
    // reqwest is built without a crypto provider of its own: ring, as the
    // server uses.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn page(c: &reqwest::Client, base: &str, cookie: &str, path: &str) -> (u16, String) {
    let r = c
        .get(format!("{base}{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("get");
    (r.status().as_u16(), r.text().await.expect("text"))
}

async fn post(
    c: &reqwest::Client,
    base: &str,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let r = c
        .post(format!("{base}{path}"))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .expect("post");
    (r.status().as_u16(), r.text().await.expect("text"))
}

fn edge(store: &std::path::Path) -> String {
    let r = local(store, "(Get-CsAccessEdgeConfiguration).AllowAnonymousUsers");
    r.stdout.trim().to_string()
}

#[test]
fn pages_need_a_session_and_the_cookie_is_locked_down() {
    let dir = TempDir::new("web-session");
    let mut opts = setup(&dir);
    opts.session_idle = Duration::from_secs(1);
    rt().block_on(async {
        let running = lyncsh::web::start(opts).await.expect("start");
        let base = running.url();
        let c = client();
        for path in [
            "/",
            "/users",
            "/p/access-edge",
            "/p/conferencing-policy/new",
            "/log",
            "/domains",
        ] {
            let r = c.get(format!("{base}{path}")).send().await.expect("get");
            assert_eq!(r.status().as_u16(), 303, "{path}");
            assert_eq!(
                r.headers().get("location").and_then(|v| v.to_str().ok()),
                Some("/signin"),
                "{path}"
            );
        }
        // A form posted without a session goes to sign in too, whatever it
        // carries.
        for path in [
            "/p/access-edge/edit",
            "/users/assign",
            "/domains/new",
            "/signout",
        ] {
            let r = c
                .post(format!("{base}{path}"))
                .form(&[("csrf", "x"), ("identity", "Global")])
                .send()
                .await
                .expect("post");
            assert_eq!(r.status().as_u16(), 303, "{path}");
        }
        let (status, text) = sign_in(&c, &base, "alice", "wrong")
            .await
            .expect_err("wrong password");
        assert_eq!(status, 401);
        assert!(
            text.contains("The user name or password is incorrect."),
            "{text}"
        );
        // The next try comes too soon after the failure.
        let (status, text) = sign_in(&c, &base, "alice", "s3cret")
            .await
            .expect_err("too soon");
        assert_eq!(status, 429, "{text}");
        assert!(
            text.contains("Too many failed sign-ins for this account"),
            "{text}"
        );
        tokio::time::sleep(Duration::from_millis(600)).await;
        let (cookie, header) = sign_in(&c, &base, "alice", "s3cret")
            .await
            .expect("sign in");
        for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
            assert!(header.contains(flag), "{flag} in {header}");
        }
        let (status, home) = page(&c, &base, &cookie, "/").await;
        assert_eq!(status, 200);
        assert!(home.contains(r#"<td id="me">alice</td>"#), "{home}");
        assert!(home.contains("CsAdministrator"), "{home}");
        assert!(!home.contains("<script"), "no script on any page");
        let (status, _) = page(&c, &base, &cookie, "/p/no-such-page").await;
        assert_eq!(status, 404);
        // Unused for longer than the idle time: back to sign-in.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let r = c
            .get(format!("{base}/"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status().as_u16(), 303);
        running.shutdown().await;
    });
}

#[test]
fn the_seed_procedure_commits_and_a_new_shell_sees_it() {
    let dir = TempDir::new("web-edge");
    let opts = setup(&dir);
    let store = opts.store.clone();
    rt().block_on(async {
        let running = lyncsh::web::start(opts).await.expect("start");
        let base = running.url();
        let c = client();
        let (cookie, _) = sign_in(&c, &base, "alice", "s3cret").await.expect("sign in");
        let (_, edit) = page(&c, &base, &cookie, "/p/access-edge/edit?identity=Global").await;
        assert!(edit.contains("Enable communications with anonymous users"), "{edit}");
        let token = csrf_of(&edit);
        let form = [
            ("identity", "Global"),
            ("bools", "AllowAnonymousUsers"),
            ("AllowAnonymousUsers", "on"),
        ];
        // Without the token the commit is refused and nothing changes.
        let (status, _) = post(&c, &base, &cookie, "/p/access-edge/edit", &form).await;
        assert_eq!(status, 403);
        assert_eq!(edge(&store), "False");
        let mut with = form.to_vec();
        with.push(("csrf", token.as_str()));
        let (status, done) = post(&c, &base, &cookie, "/p/access-edge/edit", &with).await;
        assert_eq!(status, 200, "{done}");
        assert!(done.contains("Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $True"), "{done}");
        let r = local(&store, "Get-CsAccessEdgeConfiguration");
        assert!(r.stdout.contains("AllowAnonymousUsers                    : True") || r.stdout.lines().any(|l| l.starts_with("AllowAnonymousUsers") && l.trim_end().ends_with(": True")), "{}", r.stdout);
        let log = local(&store, "(Get-CsAdminChangeLog -Target *AccessEdge*).Account");
        assert_eq!(log.stdout.trim(), "alice");
        // A policy allowing anonymous participants, given to Ken: Home says so.
        let (status, made) = post(&c, &base, &cookie, "/p/conferencing-policy/new", &[
            ("csrf", token.as_str()), ("scope", ""), ("name", "Anon"),
            ("bools", "AllowAnonymousParticipantsInMeetings"), ("AllowAnonymousParticipantsInMeetings", "on"),
            ("Description", "<script>alert(1)</script>"),
        ]).await;
        assert_eq!(status, 200, "{made}");
        assert!(made.contains("New-CsConferencingPolicy -Identity Anon -Description '&lt;script&gt;alert(1)&lt;/script&gt;'"), "{made}");
        let (_, list) = page(&c, &base, &cookie, "/p/conferencing-policy").await;
        assert!(list.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{list}");
        assert!(!list.contains("<script>"), "{list}");
        local(&store, "Set-CsConferencingPolicy Global -AllowAnonymousParticipantsInMeetings $False");
        let (_, home) = page(&c, &base, &cookie, "/").await;
        assert!(home.contains(r#"<td id="organizers">0 of 1</td>"#), "{home}");
        let (status, granted) = post(&c, &base, &cookie, "/users/assign", &[
            ("csrf", token.as_str()), ("sip", "sip:kenmyer@contoso.com"), ("ConferencingPolicy", "Anon"),
        ]).await;
        assert_eq!(status, 200, "{granted}");
        assert!(granted.contains("Grant-CsConferencingPolicy -Identity &apos;sip:kenmyer@contoso.com&apos; -PolicyName Anon") || granted.contains("Grant-CsConferencingPolicy -Identity 'sip:kenmyer@contoso.com' -PolicyName Anon"), "{granted}");
        let (_, home) = page(&c, &base, &cookie, "/").await;
        assert!(home.contains(r#"<td id="organizers">1 of 1</td>"#), "{home}");
        assert!(home.contains("<strong>Yes</strong>"), "{home}");
        // A bad value gets the cmdlet's own error, and nothing changes.
        let (_, bad) = post(&c, &base, &cookie, "/p/conferencing-policy/edit", &[
            ("csrf", token.as_str()), ("identity", "Tag:Anon"), ("MaxMeetingSize", "-5"),
        ]).await;
        assert!(bad.contains("The changes were not committed."), "{bad}");
        running.shutdown().await;
    });
}

#[test]
fn view_only_accounts_get_no_edit_controls_and_forged_posts_are_refused() {
    let dir = TempDir::new("web-viewonly");
    let opts = setup(&dir);
    let store = opts.store.clone();
    rt().block_on(async {
        let running = lyncsh::web::start(opts).await.expect("start");
        let base = running.url();
        let c = client();
        let (cookie, _) = sign_in(&c, &base, "victor", "s3cret")
            .await
            .expect("sign in");
        for path in [
            "/p/access-edge?selected=Global",
            "/p/access-edge/edit?identity=Global",
            "/p/conferencing-policy?selected=Global",
            "/users",
            "/domains",
        ] {
            let (status, text) = page(&c, &base, &cookie, path).await;
            assert_eq!(status, 200, "{path}");
            for control in [
                ">Commit<",
                ">New<",
                ">Delete<",
                "<summary>Edit",
                "Assign policies",
            ] {
                assert!(!text.contains(control), "{control} on {path}: {text}");
            }
        }
        let (_, edit) = page(&c, &base, &cookie, "/p/access-edge/edit?identity=Global").await;
        assert!(edit.contains("disabled"), "{edit}");
        let token = csrf_of(&edit);
        let (status, text) = post(
            &c,
            &base,
            &cookie,
            "/p/access-edge/edit",
            &[
                ("csrf", token.as_str()),
                ("identity", "Global"),
                ("bools", "AllowAnonymousUsers"),
                ("AllowAnonymousUsers", "on"),
            ],
        )
        .await;
        assert_eq!(status, 403, "{text}");
        let (status, _) = post(
            &c,
            &base,
            &cookie,
            "/p/conferencing-policy/new",
            &[("csrf", token.as_str()), ("scope", ""), ("name", "Forged")],
        )
        .await;
        assert_eq!(status, 403);
        assert_eq!(edge(&store), "False");
        let r = local(
            &store,
            "(Get-CsConferencingPolicy).Count; (Get-CsAdminChangeLog -Account victor).Count",
        );
        assert_eq!(r.stdout, "1\n0\n");
        running.shutdown().await;
    });
}

#[test]
fn tls_by_default_with_a_self_signed_certificate_kept_on_disk() {
    let dir = TempDir::new("web-tls");
    let mut opts = setup(&dir);
    opts.tls = Tls::SelfSigned {
        dir: dir.root().to_path_buf(),
    };
    rt().block_on(async {
        let running = lyncsh::web::start(opts.clone()).await.expect("start");
        assert!(running.url().starts_with("https://127.0.0.1:"));
        let pem = std::fs::read(dir.path("control-panel.crt")).expect("certificate kept");
        let _ = rustls::crypto::ring::default_provider().install_default();
        let cert = reqwest::Certificate::from_pem(&pem).expect("pem");
        let c = reqwest::Client::builder()
            .add_root_certificate(cert)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let url = running.url().replace("127.0.0.1", "localhost");
        let r = c.get(format!("{url}/signin")).send().await.expect("https");
        assert_eq!(r.status().as_u16(), 200);
        running.shutdown().await;
        // Plain HTTP is refused off loopback.
        let mut plain = opts.clone();
        plain.tls = Tls::Off;
        plain.listen = "0.0.0.0:0".into();
        let err = lyncsh::web::start(plain)
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("plain HTTP is served only on a loopback address"),
            "{err}"
        );
    });
}

#[test]
fn a_quoted_value_stays_one_argument() {
    use lyncsh::web::shell::quote;
    let dir = TempDir::new("web-quote");
    let store = dir.path("store.db");
    for text in [
        "it's",
        "a\u{2018}b\u{2019}c\u{201A}d\u{201B}e",
        "'; Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $True; '",
        "\u{2019}) ; $(Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $True) #",
        "$env:HOME `n \"x\"",
        "5GB",
        "-Force",
        "Tag:Sales",
    ] {
        let r = local(&store, &format!("Write-Output {}", quote(text)));
        assert_eq!(r.stdout, format!("{text}\n"), "{}", quote(text));
    }
    assert_eq!(edge(&store), "False");
    assert_eq!(quote("it's"), "'it''s'");
}
