//! Signing in to the Control Panel: accounts and passwords from the
//! `--passwords` file (argon2 hashes), sessions kept in memory behind a
//! random cookie, a CSRF token per session, idle expiry, and a delay that
//! doubles with each failed sign-in of an account.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// The session cookie's name.
pub const COOKIE: &str = "lyncsh_session";

/// The first delay after a failed sign-in; each further failure doubles it.
const FIRST_DELAY: Duration = Duration::from_millis(500);
/// The longest delay.
const MAX_DELAY: Duration = Duration::from_secs(30);

/// A signed-in browser.
#[derive(Clone, Debug)]
pub struct Session {
    /// The account as the passwords file spells it.
    pub account: String,
    /// Every form of this session carries it.
    pub csrf: String,
    last_seen: Instant,
}

struct Failures {
    count: u32,
    /// No sign-in of the account is tried before this.
    until: Instant,
}

pub struct Auth {
    passwords: PathBuf,
    /// A session unused for this long is over.
    pub idle: Duration,
    sessions: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<String, Failures>>,
}

/// Why a sign-in failed.
#[derive(Debug, PartialEq)]
pub enum SignInError {
    /// Wrong account or password; the answer waited this long.
    Refused(Duration),
    /// Tried again before the delay of earlier failures was over.
    TooSoon(Duration),
}

/// 32 random bytes as hex.
fn token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Auth {
    pub fn new(passwords: &Path, idle: Duration) -> Auth {
        Auth {
            passwords: passwords.to_path_buf(),
            idle,
            sessions: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Checks the password (blocking: argon2 is slow on purpose); on
    /// success the account's name as the file spells it. Failures of one
    /// account wait longer each time, and attempts during the wait are
    /// refused unchecked.
    pub fn check_password(&self, account: &str, password: &str) -> Result<String, SignInError> {
        let key = account.to_ascii_lowercase();
        if let Some(f) = self.failures.lock().get(&key) {
            let now = Instant::now();
            if f.until > now {
                return Err(SignInError::TooSoon(f.until - now));
            }
        }
        let known = crate::remote::passwords::load(&self.passwords)
            .ok()
            .and_then(|entries| {
                entries
                    .into_iter()
                    .find(|(a, _)| a.eq_ignore_ascii_case(account))
            })
            .map(|(a, _)| a);
        match known {
            Some(name) if crate::remote::passwords::check(&self.passwords, &name, password) => {
                self.failures.lock().remove(&key);
                Ok(name)
            }
            _ => {
                let mut all = self.failures.lock();
                let f = all.entry(key).or_insert(Failures {
                    count: 0,
                    until: Instant::now(),
                });
                f.count = f.count.saturating_add(1);
                let delay = FIRST_DELAY
                    .saturating_mul(1u32 << (f.count - 1).min(16))
                    .min(MAX_DELAY);
                // The answer waits `delay`; a try within another `delay`
                // after it is refused unchecked.
                f.until = Instant::now() + delay.saturating_mul(2);
                Err(SignInError::Refused(delay))
            }
        }
    }

    /// A new session for `account`: its cookie value.
    pub fn open(&self, account: &str) -> String {
        let id = token();
        let s = Session {
            account: account.to_string(),
            csrf: token(),
            last_seen: Instant::now(),
        };
        let mut all = self.sessions.lock();
        let idle = self.idle;
        all.retain(|_, s| s.last_seen.elapsed() < idle);
        all.insert(id.clone(), s);
        id
    }

    /// The live session behind a cookie value; using it keeps it alive.
    pub fn session(&self, id: &str) -> Option<Session> {
        let mut all = self.sessions.lock();
        let live = all.get(id)?.last_seen.elapsed() < self.idle;
        if !live {
            all.remove(id);
            return None;
        }
        let s = all.get_mut(id)?;
        s.last_seen = Instant::now();
        Some(s.clone())
    }

    pub fn close(&self, id: &str) {
        self.sessions.lock().remove(id);
    }
}

/// Compares two tokens in time that does not depend on where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
