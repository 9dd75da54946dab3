//! Which keys may log in as which account, the way OpenSSH's sshd decides
//! it: `--authorized-keys` names one file per account through sshd's `%u`
//! token (`/etc/lyncsh/authorized_keys/%u`), and a key authorizes only the
//! account whose file holds it. The options in front of a key are honoured
//! or the key is refused: `from=` (sshd's pattern lists, against the
//! client's address), `restrict` and `no-pty` (a shell without a pty),
//! `pty`, and the forwarding and user-rc options, which lyncsh has nothing
//! to apply to. `command=` and every other option refuse the key's line,
//! and the reason is logged: a restriction that was meant must never be
//! dropped silently.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use russh::keys::ssh_key::PublicKey;

/// Why an `--authorized-keys` path cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeysPathError {
    #[error(
        "--authorized-keys {0}: the path must contain %u, the account name (as sshd's AuthorizedKeysFile does), so that each account has a file of its own and a key logs in only as the account whose file holds it"
    )]
    NoAccount(String),
    #[error(
        "--authorized-keys {path}: unknown token %{token} (only %u, the account name, and %% are understood)"
    )]
    Token { path: String, token: char },
    #[error("--authorized-keys {0}: the path is not valid UTF-8")]
    NotUtf8(PathBuf),
}

/// An `--authorized-keys` path with its `%u` token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysPath(String);

impl KeysPath {
    pub fn new(path: &Path) -> Result<KeysPath, KeysPathError> {
        let text = path
            .to_str()
            .ok_or_else(|| KeysPathError::NotUtf8(path.to_path_buf()))?;
        let mut account = false;
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                continue;
            }
            match chars.next() {
                Some('u') => account = true,
                Some('%') => {}
                other => {
                    return Err(KeysPathError::Token {
                        path: text.to_string(),
                        token: other.unwrap_or(' '),
                    });
                }
            }
        }
        if !account {
            return Err(KeysPathError::NoAccount(text.to_string()));
        }
        Ok(KeysPath(text.to_string()))
    }

    /// The file of `account`; `None` for a name that would lead out of
    /// the directory (`..`, a `/`) and so has no file.
    pub fn for_account(&self, account: &str) -> Option<PathBuf> {
        if account.is_empty() || account == "." || account == ".." || account.contains(['/', '\0'])
        {
            return None;
        }
        let mut out = String::with_capacity(self.0.len() + account.len());
        let mut chars = self.0.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('u') => out.push_str(account),
                _ => out.push('%'),
            }
        }
        Some(PathBuf::from(out))
    }
}

/// What a key's options allow once it has logged in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Grant {
    /// `restrict` or `no-pty`: a shell gets no pty.
    pub no_pty: bool,
}

/// The options in front of one key.
#[derive(Debug, Default, PartialEq, Eq)]
struct Options {
    from: Option<String>,
    no_pty: bool,
}

/// Does `account`'s file hold `key` on a line whose options let `peer`
/// in? The first such line decides, as in sshd. The file is read on every
/// attempt, so edits apply without a restart; lines that cannot be used
/// are logged on the server's standard error.
pub fn grant(
    keys: &KeysPath,
    account: &str,
    key: &PublicKey,
    peer: Option<IpAddr>,
) -> Option<Grant> {
    let path = keys.for_account(account)?;
    let text = std::fs::read_to_string(&path).ok()?;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (opts, line_key) = match parse_line(line) {
            Ok(parsed) => parsed,
            Err(why) => {
                eprintln!(
                    "lyncsh serve: {}:{}: {why}; the key on this line is refused",
                    path.display(),
                    n + 1
                );
                continue;
            }
        };
        if line_key.key_data() != key.key_data() {
            continue;
        }
        if let Some(list) = &opts.from {
            let allowed = peer.is_some_and(|ip| from_allows(list, ip));
            if !allowed {
                eprintln!(
                    "lyncsh serve: {}:{}: the key is not allowed from {} (from=\"{list}\")",
                    path.display(),
                    n + 1,
                    peer.map_or_else(|| "an unknown address".into(), |ip| ip.to_string()),
                );
                continue;
            }
        }
        return Some(Grant {
            no_pty: opts.no_pty,
        });
    }
    None
}

/// One line of an authorized_keys file: options, if any, then the key.
fn parse_line(line: &str) -> Result<(Options, PublicKey), String> {
    if let Ok(key) = PublicKey::from_openssh(line) {
        return Ok((Options::default(), key));
    }
    // The options end at the first space outside double quotes.
    let mut quoted = false;
    let end = line
        .char_indices()
        .find(|&(_, c)| {
            if c == '"' {
                quoted = !quoted;
            }
            !quoted && (c == ' ' || c == '\t')
        })
        .map(|(i, _)| i)
        .ok_or("not a public key")?;
    let (opts, rest) = line.split_at(end);
    let key = PublicKey::from_openssh(rest.trim_start()).map_err(|_| "not a public key")?;
    Ok((parse_options(opts)?, key))
}

/// Reads comma-separated options; any that lyncsh cannot honour is an
/// error naming it.
fn parse_options(text: &str) -> Result<Options, String> {
    let mut opts = Options::default();
    for opt in split_unquoted(text, ',') {
        let (name, value) = match opt.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (opt, None),
        };
        let name = name.to_ascii_lowercase();
        match (name.as_str(), value) {
            ("restrict" | "no-pty", None) => opts.no_pty = true,
            ("pty", None) => opts.no_pty = false,
            // lyncsh forwards nothing and runs no rc file: these hold as written.
            (
                "no-port-forwarding"
                | "no-agent-forwarding"
                | "no-x11-forwarding"
                | "no-user-rc"
                | "port-forwarding"
                | "agent-forwarding"
                | "x11-forwarding"
                | "user-rc",
                None,
            ) => {}
            ("from", Some(v)) => {
                let list = unquote(v).ok_or("from= needs a quoted pattern list")?;
                if list.is_empty() {
                    return Err("from= has an empty pattern list".into());
                }
                opts.from = Some(list.to_string());
            }
            ("command", _) => {
                return Err(
                    "command= is not supported: a lyncsh login always runs a lyncsh session, so a forced command cannot be honoured"
                        .into(),
                );
            }
            _ => {
                return Err(format!(
                    "the option '{opt}' is not supported by lyncsh serve"
                ));
            }
        }
    }
    Ok(opts)
}

/// Splits at `sep` outside double quotes.
fn split_unquoted(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(&text[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&text[start..]);
    parts
}

fn unquote(v: &str) -> Option<&str> {
    v.strip_prefix('"')?.strip_suffix('"')
}

/// sshd's `from=`: a comma-separated list of patterns (`*` and `?`
/// wildcards, or an address/prefix-length CIDR), each possibly negated
/// with `!`. The address must match one pattern and no negated one. With
/// no reverse lookup, the address is also the host name matched.
fn from_allows(list: &str, peer: IpAddr) -> bool {
    let peer = match peer {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    let text = peer.to_string();
    let mut matched = false;
    for pat in list.split(',') {
        let pat = pat.trim();
        let (negated, pat) = match pat.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, pat),
        };
        let hit = if pat.contains('/') {
            cidr_contains(pat, peer)
        } else {
            wildcard(&pat.to_ascii_lowercase(), &text)
        };
        if hit && negated {
            return false;
        }
        matched |= hit;
    }
    matched
}

fn cidr_contains(pat: &str, ip: IpAddr) -> bool {
    let Some((net, bits)) = pat.split_once('/') else {
        return false;
    };
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// `*` (any run) and `?` (any one character), the whole text.
fn wildcard(pat: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pat.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_needs_the_account() {
        let p = KeysPath::new(Path::new("/etc/lyncsh/keys/%u")).expect("valid");
        assert_eq!(
            p.for_account("alice"),
            Some(PathBuf::from("/etc/lyncsh/keys/alice"))
        );
        for bad in ["..", ".", "a/b", "", "x\0"] {
            assert_eq!(p.for_account(bad), None, "{bad:?}");
        }
        let p = KeysPath::new(Path::new("/k/100%%/%u.keys")).expect("valid");
        assert_eq!(
            p.for_account("bob"),
            Some(PathBuf::from("/k/100%/bob.keys"))
        );
        assert!(matches!(
            KeysPath::new(Path::new("/etc/authorized_keys")),
            Err(KeysPathError::NoAccount(_))
        ));
        assert!(matches!(
            KeysPath::new(Path::new("/k/%%u")),
            Err(KeysPathError::NoAccount(_))
        ));
        assert_eq!(
            KeysPath::new(Path::new("/home/%h/%u")),
            Err(KeysPathError::Token {
                path: "/home/%h/%u".into(),
                token: 'h'
            })
        );
    }

    #[test]
    fn options_are_honoured_or_refused() {
        assert_eq!(
            parse_options(r#"from="10.0.0.*,!10.0.0.5",no-pty"#),
            Ok(Options {
                from: Some("10.0.0.*,!10.0.0.5".into()),
                no_pty: true
            })
        );
        assert_eq!(parse_options("restrict,pty").map(|o| o.no_pty), Ok(false));
        assert_eq!(
            parse_options("restrict,no-port-forwarding").map(|o| o.no_pty),
            Ok(true)
        );
        assert!(
            parse_options(r#"command="ls -l""#)
                .is_err_and(|e| e.starts_with("command= is not supported"))
        );
        assert_eq!(
            parse_options(r#"environment="A=1""#),
            Err(r#"the option 'environment="A=1"' is not supported by lyncsh serve"#.into())
        );
        assert!(parse_options("from=10.0.0.1").is_err());
    }

    #[test]
    fn from_patterns_follow_sshd() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert!(from_allows("127.0.0.1", ip("127.0.0.1")));
        assert!(from_allows("10.*,127.0.0.?", ip("127.0.0.1")));
        assert!(!from_allows("127.0.0.?", ip("127.0.0.10")));
        assert!(!from_allows("127.*,!127.0.0.1", ip("127.0.0.1")));
        assert!(from_allows("127.0.0.0/8", ip("127.9.9.9")));
        assert!(!from_allows("10.0.0.0/8", ip("127.0.0.1")));
        assert!(from_allows("127.0.0.1", ip("::ffff:127.0.0.1")));
        assert!(!from_allows("!127.0.0.1", ip("127.0.0.1")));
        assert!(!from_allows("!10.0.0.1", ip("127.0.0.1")));
    }
}
