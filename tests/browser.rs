//! The Control Panel in a real headless Chromium, driven over WebDriver
//! (chromedriver): the seed's procedure clicked through with Lync's
//! labels, then a new `lyncsh` process sees the change. Screenshots of
//! each page go to target/control-panel-screenshots/.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{TempDir, local};
use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use lyncsh::web::{Tls, WebOptions};

/// chromedriver on a free port, ended when dropped.
struct Driver(Child, u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An element of the page a click led to. A click that submits a form
/// can return before the answer has loaded (a refused password answers
/// only after its delay), so the element is waited for, not looked up once.
async fn find(c: &Client, at: Locator<'_>) -> Result<Element, CmdError> {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(at)
        .await
}

/// Clicks what leads to another page and waits until that page has
/// replaced this one: until then, an element found could be the old
/// page's, gone stale a moment later.
async fn follow(c: &Client, to: Element) {
    let page = c.find(Locator::Css("html")).await.expect("the page");
    to.click().await.expect("click");
    for _ in 0..200 {
        if page.tag_name().await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the click led to no new page");
}

/// Submits a form built by script in the page, as a forging page would:
/// `fields` posted to `action`, plus this page's CSRF token when
/// `with_token`. Waits for the answer to replace the page.
async fn forge(c: &Client, action: &str, fields: &[(&str, &str)], with_token: bool) {
    let fields: Vec<serde_json::Value> = fields
        .iter()
        .map(|(k, v)| serde_json::json!([k, v]))
        .collect();
    let page = c.find(Locator::Css("html")).await.expect("the page");
    c.execute(
        "const [action, fields, withToken] = arguments;
         const f = document.createElement('form');
         f.method = 'post';
         f.action = action;
         const token = document.querySelector('input[name=csrf]');
         if (withToken && token) fields.push(['csrf', token.value]);
         for (const [k, v] of fields) {
             const i = document.createElement('input');
             i.type = 'hidden'; i.name = k; i.value = v;
             f.appendChild(i);
         }
         document.body.appendChild(f);
         f.submit();",
        vec![action.into(), fields.into(), with_token.into()],
    )
    .await
    .expect("script runs");
    for _ in 0..200 {
        if page.tag_name().await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the forged form led to no new page");
}

/// chromedriver, and the Chromium it starts, keep their scratch files in
/// `scratch` (the test's temp dir), so none outlive the test.
fn driver(scratch: &std::path::Path) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .env("TMPDIR", scratch)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (apt-get install chromium chromium-driver)");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Driver(child, port)
}

#[test]
fn the_seed_procedure_by_clicking_the_labels() {
    let dir = TempDir::new("browser");
    let store = dir.path("store.db");
    let r = local(
        &store,
        "Add-CsAdminRoleMember -Role CsAdministrator -Member alice; \
         Add-CsAdminRoleMember -Role CsViewOnlyAdministrator -Member victor; \
         $null = New-CsAdUser -DisplayName 'Ken Myer' -SamAccountName kenmyer; \
         Get-CsAdUser | Enable-CsUser -RegistrarPool pool01.contoso.com -SipAddressType SamAccountName -SipDomain contoso.com; \
         Set-CsConferencingPolicy Global -AllowAnonymousParticipantsInMeetings $False",
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let hash = lyncsh::remote::passwords::hash("s3cret").expect("hash");
    let passwords = dir.path("passwords");
    std::fs::write(&passwords, format!("alice:{hash}\nvictor:{hash}\n")).expect("passwords");
    let shots =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/control-panel-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let d = driver(dir.root());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let running = lyncsh::web::start(WebOptions {
            listen: "127.0.0.1:0".into(),
            store: store.clone(),
            passwords,
            tls: Tls::SelfSigned { dir: dir.root().to_path_buf() },
            session_idle: Duration::from_secs(600),
        })
        .await
        .expect("start");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--ignore-certificate-errors", "--window-size=1200,900"]}),
        );
        let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", d.1))
            .await
            .expect("webdriver session");
        let shot = |name: &'static str| {
            let c = c.clone();
            let path = shots.join(format!("{name}.png"));
            async move {
                let png = c.screenshot().await.expect("screenshot");
                std::fs::write(path, png).expect("write screenshot");
            }
        };
        let url = running.url();
        c.goto(&format!("{url}/signin")).await.expect("goto");
        shot("signin").await;
        find(&c, Locator::Id("account")).await.expect("account").send_keys("alice").await.expect("type");
        find(&c, Locator::Id("password")).await.expect("password").send_keys("s3cret").await.expect("type");
        follow(&c, find(&c, Locator::Id("signin")).await.expect("button")).await;
        let me = find(&c, Locator::Id("me")).await.expect("home").text().await.expect("text");
        assert_eq!(me, "alice");
        shot("home").await;
        follow(&c, find(&c, Locator::LinkText("Access Edge Configuration")).await.expect("nav")).await;
        follow(&c, find(&c, Locator::LinkText("Global")).await.expect("Global")).await;
        shot("access-edge").await;
        find(&c, Locator::XPath("//summary[text()='Edit']")).await.expect("Edit").click().await.expect("click");
        follow(&c, find(&c, Locator::LinkText("Show details...")).await.expect("Show details")).await;
        shot("edit-access-edge").await;
        find(&c, Locator::XPath("//label[text()='Enable communications with anonymous users']"))
            .await
            .expect("label")
            .click()
            .await
            .expect("tick");
        follow(&c, find(&c, Locator::XPath("//button[text()='Commit']")).await.expect("Commit")).await;
        let cmd = find(&c, Locator::Id("command")).await.expect("command shown").text().await.expect("text");
        assert_eq!(cmd.trim(), "Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $True");
        shot("committed").await;
        let r = local(&store, "Get-CsAccessEdgeConfiguration");
        assert!(
            r.stdout.lines().any(|l| l.starts_with("AllowAnonymousUsers ") && l.trim_end().ends_with(": True")),
            "{}",
            r.stdout
        );
        for (link, name) in [("Conferencing Policy", "conferencing-policy"), ("Users", "users"), ("Federated Domains", "domains"), ("Change Log", "log")] {
            follow(&c, find(&c, Locator::LinkText(link)).await.expect("nav")).await;
            shot(name).await;
        }
        // A conferencing policy that allows anonymous participants, given
        // to Ken: the Home answer turns from No to Yes.
        let answer = |c: Client| async move {
            follow(&c, find(&c, Locator::LinkText("Home")).await.expect("nav")).await;
            find(&c, Locator::Id("anonymous-answer")).await.expect("answer").text().await.expect("text")
        };
        assert!(answer(c.clone()).await.starts_with("No"));
        follow(&c, find(&c, Locator::LinkText("Conferencing Policy")).await.expect("nav")).await;
        follow(&c, find(&c, Locator::XPath("//button[text()='New']")).await.expect("New")).await;
        find(&c, Locator::Id("f-name")).await.expect("name").send_keys("Anon").await.expect("type");
        // A new policy starts from the defaults, where the box is ticked.
        let boxed = find(&c, Locator::Id("f-AllowAnonymousParticipantsInMeetings")).await.expect("box");
        if !boxed.is_selected().await.expect("state") {
            find(&c, Locator::XPath("//label[text()='Allow participants to invite anonymous users']")).await.expect("label").click().await.expect("tick");
        }
        shot("new-conferencing-policy").await;
        follow(&c, find(&c, Locator::XPath("//button[text()='Commit']")).await.expect("Commit")).await;
        find(&c, Locator::Id("committed")).await.expect("committed");
        follow(&c, find(&c, Locator::LinkText("Users")).await.expect("nav")).await;
        follow(&c, find(&c, Locator::LinkText("Assign policies")).await.expect("assign")).await;
        find(&c, Locator::XPath("//select[@id='f-ConferencingPolicy']/option[text()='Anon']")).await.expect("option").click().await.expect("select");
        follow(&c, find(&c, Locator::XPath("//button[text()='Commit']")).await.expect("Commit")).await;
        let cmd = find(&c, Locator::Id("command")).await.expect("command").text().await.expect("text");
        assert_eq!(cmd.trim(), "Grant-CsConferencingPolicy -Identity 'sip:kenmyer@contoso.com' -PolicyName Anon");
        let yes = answer(c.clone()).await;
        assert!(yes.starts_with("Yes"), "{yes}");
        shot("home-after").await;
        // A form without the session's token, posted from the browser
        // (as another site's page would): refused, nothing changes.
        let off = [("identity", "Global"), ("bools", "AllowAnonymousUsers")];
        forge(&c, "/p/access-edge/edit", &off, false).await;
        let err = find(&c, Locator::Id("error")).await.expect("refusal").text().await.expect("text");
        assert!(err.contains("security token"), "{err}");
        assert_eq!(local(&store, "(Get-CsAccessEdgeConfiguration).AllowAnonymousUsers").stdout.trim(), "True");
        follow(&c, find(&c, Locator::LinkText("Home")).await.expect("nav")).await;
        follow(&c, find(&c, Locator::XPath("//button[text()='Sign out']")).await.expect("sign out")).await;
        // A wrong password is refused.
        find(&c, Locator::Id("account")).await.expect("account").send_keys("victor").await.expect("type");
        find(&c, Locator::Id("password")).await.expect("password").send_keys("wrong").await.expect("type");
        follow(&c, find(&c, Locator::Id("signin")).await.expect("button")).await;
        let err = find(&c, Locator::Id("error")).await.expect("error").text().await.expect("text");
        assert_eq!(err, "The user name or password is incorrect.");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        find(&c, Locator::Id("account")).await.expect("account").send_keys("victor").await.expect("type");
        find(&c, Locator::Id("password")).await.expect("password").send_keys("s3cret").await.expect("type");
        follow(&c, find(&c, Locator::Id("signin")).await.expect("button")).await;
        assert_eq!(find(&c, Locator::Id("me")).await.expect("home").text().await.expect("text"), "victor");
        // View-only: every page read-only, no edit controls.
        follow(&c, find(&c, Locator::LinkText("Access Edge Configuration")).await.expect("nav")).await;
        follow(&c, find(&c, Locator::LinkText("Global")).await.expect("Global")).await;
        follow(&c, find(&c, Locator::LinkText("Show details...")).await.expect("Show details")).await;
        shot("view-only-access-edge").await;
        for link in ["Access Edge Configuration", "Conferencing Policy", "External Access Policy", "Meeting Configuration", "Users", "Federated Domains"] {
            follow(&c, find(&c, Locator::LinkText(link)).await.expect("nav")).await;
            find(&c, Locator::XPath(&format!("//h2[text()='{link}']"))).await.expect("page title");
            for control in ["//button[text()='Commit']", "//button[text()='New']", "//button[text()='Delete']", "//summary[text()='Edit']", "//a[text()='Assign policies']"] {
                let found = c.find_all(Locator::XPath(control)).await.expect("find");
                assert!(found.is_empty(), "{control} on {link}");
            }
        }
        // A view-only account's forged commit, token and all: refused by
        // its roles, nothing changes.
        forge(&c, "/p/access-edge/edit", &off, true).await;
        let title = find(&c, Locator::Css("h2")).await.expect("title").text().await.expect("text");
        assert_eq!(title, "Access denied");
        assert_eq!(local(&store, "(Get-CsAccessEdgeConfiguration).AllowAnonymousUsers").stdout.trim(), "True");
        let _ = c.close().await;
        running.shutdown().await;
    });
}
