//! Password logins, off unless `lyncsh serve --passwords FILE` is given.
//! Each line of the file is `account:HASH`, the hash an argon2id PHC
//! string as `lyncsh hash-password` prints it; blank lines and `#`
//! comments are skipped. A password is never stored or compared as text:
//! a line without a proper hash stops the server at start.

use std::path::{Path, PathBuf};

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error(
        "{path}:{line}: expected ACCOUNT:HASH with an argon2 hash from `lyncsh hash-password`; \
         plain-text passwords are not accepted"
    )]
    BadLine { path: PathBuf, line: usize },
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// A salted argon2id hash of `password`, as a PHC string.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// The (account, hash) entries of a passwords file; every hash must parse.
pub fn load(path: &Path) -> Result<Vec<(String, String)>, PasswordError> {
    let text = std::fs::read_to_string(path).map_err(|e| PasswordError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || PasswordError::BadLine {
            path: path.to_path_buf(),
            line: i + 1,
        };
        let (account, hash) = line.split_once(':').ok_or_else(bad)?;
        let parsed = PasswordHash::new(hash).map_err(|_| bad())?;
        if !parsed.algorithm.as_str().starts_with("argon2") || parsed.hash.is_none() {
            return Err(bad());
        }
        out.push((account.trim().to_string(), hash.to_string()));
    }
    Ok(out)
}

/// Does `password` match the account's entry? The file is read on each
/// attempt, so edits apply without a restart; an unreadable file lets
/// nobody in.
pub fn check(path: &Path, account: &str, password: &str) -> bool {
    let Ok(entries) = load(path) else {
        return false;
    };
    entries
        .iter()
        .filter(|(a, _)| a.eq_ignore_ascii_case(account))
        .any(|(_, h)| {
            Argon2::default()
                .verify_password(password.as_bytes(), h.as_str())
                .is_ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_plain_text_is_refused() {
        let dir = std::env::temp_dir().join(format!("lyncsh-pw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("passwords");
        let h = hash("s3cret").expect("hash");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert_ne!(hash("s3cret").expect("hash"), h, "salted");
        std::fs::write(&file, format!("# admins\n\nalice:{h}\n")).expect("write");
        assert!(check(&file, "alice", "s3cret"));
        assert!(check(&file, "ALICE", "s3cret"));
        assert!(!check(&file, "alice", "S3cret"));
        assert!(!check(&file, "bob", "s3cret"));
        std::fs::write(&file, format!("alice:{h}\nbob:s3cret\n")).expect("write");
        let err = load(&file).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.ends_with(":2: expected ACCOUNT:HASH with an argon2 hash from `lyncsh hash-password`; plain-text passwords are not accepted"), "{err}");
        // A broken file lets nobody in, not even the good line's account.
        assert!(!check(&file, "alice", "s3cret"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
