//! Signing in to the Control Panel over HTTP (reqwest), shared by
//! `tests/web.rs` and `benches/panel.rs`.

/// The value of `name="csrf"` in a page.
pub fn csrf_of(page: &str) -> String {
    let re = regex::Regex::new(r#"name="csrf" value="([0-9a-f]+)""#).expect("regex");
    re.captures(page)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| panic!("no csrf field in {page}"))
}

/// `name=value` of a Set-Cookie header for `name`, and the whole header.
pub fn set_cookie(r: &reqwest::Response, name: &str) -> Option<(String, String)> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            (
                v.split(';').next().unwrap_or_default().to_string(),
                v.to_string(),
            )
        })
}

/// Signs in; the session cookie (`lyncsh_session=...`) and its header.
pub async fn sign_in(
    c: &reqwest::Client,
    base: &str,
    account: &str,
    password: &str,
) -> Result<(String, String), (u16, String)> {
    let page = c
        .get(format!("{base}/signin"))
        .send()
        .await
        .expect("get signin");
    let (pre, _) = set_cookie(&page, "lyncsh_signin").expect("sign-in cookie");
    let token = csrf_of(&page.text().await.expect("text"));
    let r = c
        .post(format!("{base}/signin"))
        .header("cookie", pre)
        .form(&[
            ("csrf", token.as_str()),
            ("account", account),
            ("password", password),
        ])
        .send()
        .await
        .expect("post signin");
    let status = r.status().as_u16();
    match set_cookie(&r, "lyncsh_session") {
        Some(c) if status == 303 => Ok(c),
        _ => Err((status, r.text().await.unwrap_or_default())),
    }
}
