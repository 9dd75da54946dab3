//! File and directory names, relative to the session's current directory.

use std::path::PathBuf;

use super::{Item, Kind, Snapshot, item, quote, starts_ci};

/// Whether a parameter (or, with `param` empty, the first positional
/// argument of `cmd`) names a file.
pub(super) fn takes_file(cmd: &str, param: &str) -> bool {
    let p = param.trim_start_matches('-').to_ascii_lowercase();
    matches!(
        p.as_str(),
        "file" | "filepath" | "filename" | "path" | "literalpath" | "inputfile"
    ) || (p.is_empty()
        && [
            "Import-Csv",
            "Get-Content",
            "Set-Location",
            "Test-Path",
            "Out-File",
            "Import-CsConfiguration",
        ]
        .iter()
        .any(|c| c.eq_ignore_ascii_case(cmd)))
}

/// Entries of the directory the word points into whose names start with
/// its last part; directories end in `/` and take no space after them.
pub(super) fn files(snap: &Snapshot, word: &str) -> Vec<Item> {
    if !snap.files {
        return Vec::new();
    }
    let bare = word.trim_matches(['\'', '"']);
    let (dir_part, file_part) = match bare.rfind(['/', '\\']) {
        Some(i) => (&bare[..=i], &bare[i + 1..]),
        None => ("", bare),
    };
    let dir: PathBuf = if dir_part.is_empty() {
        snap.cwd.clone()
    } else if let Some(rest) = dir_part.strip_prefix("~/") {
        dirs::home_dir().unwrap_or_default().join(rest)
    } else {
        snap.cwd.join(dir_part)
    };
    if let Some(root) = &snap.file_root
        && !crate::commands::real_path(&dir).starts_with(root)
    {
        return Vec::new();
    }
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in rd.flatten().take(1000) {
        let name = entry.file_name().to_string_lossy().to_string();
        if !starts_ci(&name, file_part) || (name.starts_with('.') && !file_part.starts_with('.')) {
            continue;
        }
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let mut value = format!("{dir_part}{name}");
        if is_dir {
            value.push('/');
        }
        let kind = if is_dir {
            Kind::ProviderContainer
        } else {
            Kind::ProviderItem
        };
        out.push(item(quote(&value), None, !is_dir, kind));
    }
    out
}
