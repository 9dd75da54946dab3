//! What a remote session sees of the server it runs on: nothing it does
//! not need. Its environment is a minimal one (below) instead of the
//! server's (which holds paths, the store's location, whatever the
//! operator's shell exported); `$PID` is 0, the machine's name is
//! `localhost`, and the session starts in its account's directory, or `/`.
//! Whether a file exists is no more visible than its contents: a session
//! without file rights gets the same refusal for every path it tries to
//! run (decided by the limits set here, in the runtime's command lookup).

use std::path::PathBuf;

use super::worker::RemoteLimits;
use crate::runtime::Interp;
use crate::runtime::value::Value;

/// `$env:PATH` of a remote session.
pub const PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Gives a remote session for `account` its environment, identity and
/// starting directory.
pub fn confine(it: &mut Interp, account: &str, limits: &RemoteLimits) {
    let home = limits.root.clone().unwrap_or_else(|| PathBuf::from("/"));
    let home_text = home.display().to_string();
    it.env = [
        ("HOME", home_text.as_str()),
        ("LANG", "C.UTF-8"),
        ("LOGNAME", account),
        ("PATH", PATH),
        ("USER", account),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    it.set_global("HOME", Value::from(home_text.as_str()));
    it.set_global("PID", Value::Int(0));
    it.cwd = home;
}
