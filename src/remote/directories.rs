//! The one directory an account's remote sessions may use when the file
//! system as a whole is closed to them: `--allow-directory ACCOUNT=DIR`,
//! for `lyncsh serve` and `lyncsh -sshs` alike.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("--allow-directory takes ACCOUNT=DIR, not '{0}'")]
    Form(String),
    #[error("--allow-directory {0}: not a directory")]
    NotADirectory(String),
    #[error("--allow-directory {entry}: {source}")]
    Unreadable {
        entry: String,
        source: std::io::Error,
    },
}

/// Reads `ACCOUNT=DIR` entries (`*=DIR`: every account without an entry of
/// its own). Each directory is made canonical, so that a session's paths
/// are compared with the real place.
pub fn parse(entries: &[String]) -> Result<Vec<(String, PathBuf)>, DirectoryError> {
    entries
        .iter()
        .map(|entry| {
            let (account, dir) = entry
                .split_once('=')
                .filter(|(a, d)| !a.is_empty() && !d.is_empty())
                .ok_or_else(|| DirectoryError::Form(entry.clone()))?;
            let real = std::fs::canonicalize(dir).map_err(|source| DirectoryError::Unreadable {
                entry: entry.clone(),
                source,
            })?;
            if !real.is_dir() {
                return Err(DirectoryError::NotADirectory(entry.clone()));
            }
            Ok((account.to_string(), real))
        })
        .collect()
}

/// The directory `account` may use: its own entry first, else `*`'s.
pub fn for_account(dirs: &[(String, PathBuf)], account: &str) -> Option<PathBuf> {
    let find = |who: &str| {
        dirs.iter()
            .find(|(a, _)| a.eq_ignore_ascii_case(who))
            .map(|(_, d)| d.clone())
    };
    find(account).or_else(|| find("*"))
}
