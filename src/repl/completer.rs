//! Tab completion: command names and aliases, `-Parameter` names of the
//! command under the cursor, enum values, identities from the store
//! (per-user policies, users, instances), variables, members after `$x.`,
//! and file paths.

use std::path::{Path, PathBuf};

use lyncsh::config::Engine;
use lyncsh::config::schema::schema;
use lyncsh::config::users;
use lyncsh::syntax::tokens::{TokenKind, tokens};
use reedline::{Completer, Span, Suggestion};

use super::{Shared, Snapshot};

pub struct ScriptCompleter {
    pub shared: Shared,
}

fn starts_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn suggestion(value: String, description: Option<String>, span: Span, space: bool) -> Suggestion {
    Suggestion {
        value,
        description,
        span,
        append_whitespace: space,
        ..Default::default()
    }
}

/// Quotes a value that would not survive as a bare word.
fn quote(v: &str) -> String {
    if v.is_empty() || v.contains([' ', '\'', '"', '$', '(', ')', '{', '}', ';', ',', '|', '&']) {
        format!("'{}'", v.replace('\'', "''"))
    } else {
        v.to_string()
    }
}

/// Where the word under the cursor starts.
fn word_start(line: &str, pos: usize) -> usize {
    line[..pos]
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace() || "|;{}(),=".contains(*c))
        .map_or(0, |(i, c)| i + c.len_utf8())
}

/// The command whose arguments the cursor is in (as typed), and the
/// parameter just before the word, if the word is that parameter's value.
fn context(before: &str) -> (Option<String>, Option<String>) {
    let mut cmd = None;
    let mut last_param = None;
    for (span, kind) in tokens(before) {
        let text = &before[span.start as usize..span.end as usize];
        match kind {
            TokenKind::Command => {
                cmd = Some(text.to_string());
                last_param = None;
            }
            TokenKind::Operator if matches!(text, "|" | ";" | "{" | "(" | "}") => {
                cmd = None;
                last_param = None;
            }
            TokenKind::Parameter => last_param = Some(text.trim_end_matches(':').to_string()),
            _ => last_param = None,
        }
    }
    (cmd, last_param)
}

impl Completer for ScriptCompleter {
    fn complete(&mut self, line: &str, pos: usize) -> Vec<Suggestion> {
        let pos = pos.min(line.len());
        if !line.is_char_boundary(pos) {
            return Vec::new();
        }
        let start = word_start(line, pos);
        let word = &line[start..pos];
        let span = Span::new(start, pos);
        let Ok(snap) = self.shared.lock() else {
            return Vec::new();
        };
        let mut out = if let Some(var) = word.strip_prefix('$') {
            variables(&snap, var, span)
        } else {
            let (cmd, param) = context(&line[..start]);
            let cmd = cmd.map(|c| snap.resolve(&c));
            match (cmd, param) {
                (None, _) if !word.contains(['\\', '/']) && !word.starts_with('.') => {
                    commands(&snap, word, span)
                }
                (Some(c), _) if word.starts_with('-') => parameters(&snap, &c, word, span),
                (Some(c), Some(p)) => values(&snap, &c, &p, word, span),
                (Some(c), None) if takes_file(&c, "") => files(&snap.cwd, word, span),
                _ => files(&snap.cwd, word, span),
            }
        };
        out.sort_by_key(|s| s.value.to_lowercase());
        out.dedup_by(|a, b| a.value.eq_ignore_ascii_case(&b.value));
        out
    }
}

fn commands(snap: &Snapshot, word: &str, span: Span) -> Vec<Suggestion> {
    snap.commands
        .iter()
        .filter(|c| starts_ci(&c.name, word))
        .map(|c| suggestion(c.name.clone(), Some(c.kind.to_string()), span, true))
        .chain(
            snap.aliases
                .iter()
                .filter(|(a, _)| starts_ci(a, word))
                .map(|(a, t)| suggestion(a.clone(), Some(format!("-> {t}")), span, true)),
        )
        .collect()
}

fn parameters(snap: &Snapshot, cmd: &str, word: &str, span: Span) -> Vec<Suggestion> {
    let Some(c) = snap.command(cmd) else {
        return Vec::new();
    };
    let prefix = &word[1..];
    c.params
        .iter()
        .filter(|p| starts_ci(&p.name, prefix))
        .map(|p| suggestion(format!("-{}", p.name), Some(p.ty.clone()), span, true))
        .collect()
}

fn takes_file(cmd: &str, param: &str) -> bool {
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

fn values(snap: &Snapshot, cmd: &str, param: &str, word: &str, span: Span) -> Vec<Suggestion> {
    let name = param.trim_start_matches('-');
    let spec = snap
        .command(cmd)
        .and_then(|c| c.params.iter().find(|p| starts_ci(&p.name, name)));
    let full = spec.map_or(name.to_string(), |p| p.name.clone());
    if let Some(p) = spec
        && !p.values.is_empty()
    {
        return p
            .values
            .iter()
            .filter(|v| starts_ci(v, word))
            .map(|v| suggestion(v.clone(), None, span, true))
            .collect();
    }
    if takes_file(cmd, &full) {
        return files(&snap.cwd, word, span);
    }
    let bare = word.trim_start_matches(['\'', '"']);
    identities(snap, cmd, &full)
        .into_iter()
        .filter(|(v, desc)| {
            starts_ci(v, bare) || desc.as_deref().is_some_and(|d| starts_ci(d, bare))
        })
        .map(|(v, desc)| suggestion(quote(&v), desc, span, true))
        .collect()
}

/// Names from the store for `-PolicyName` of Grant-*, `-Identity` of user
/// cmdlets and `-Identity` of configuration cmdlets.
fn identities(snap: &Snapshot, cmd: &str, param: &str) -> Vec<(String, Option<String>)> {
    let families = &schema().families;
    let verb_noun = cmd.split_once('-');
    let is_user_cmd = verb_noun.is_some_and(|(v, n)| {
        n.eq_ignore_ascii_case("CsUser")
            || n.eq_ignore_ascii_case("CsEffectivePolicy")
            || v.eq_ignore_ascii_case("Grant")
    });
    let Ok(engine) = Engine::open(&snap.store, "completion") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if param.eq_ignore_ascii_case("PolicyName") {
        if let Some(f) = families.iter().find(|f| {
            f.command("Grant")
                .is_some_and(|g| g.eq_ignore_ascii_case(cmd))
        }) && let Ok(list) = engine.list(f)
        {
            for o in list {
                if let Some(tag) = o
                    .identity
                    .strip_prefix("Tag:")
                    .or_else(|| o.identity.strip_prefix("tag:"))
                {
                    out.push((tag.to_string(), Some(f.noun.clone())));
                }
            }
        }
    } else if param.eq_ignore_ascii_case("Identity") {
        if is_user_cmd {
            if let Ok(list) = users::page(&engine, &users::Where::all(), 0, 500) {
                for u in list {
                    let id = u.sip.clone().unwrap_or_else(|| u.sam.clone());
                    out.push((id, Some(u.display_name.clone())));
                }
            }
        } else if let Some(f) = families.iter().find(|f| {
            f.commands
                .iter()
                .any(|(_, n, _)| n.eq_ignore_ascii_case(cmd))
        }) && let Ok(list) = engine.list(f)
        {
            out.extend(list.into_iter().map(|o| (o.identity, None)));
        }
    }
    engine.rollback();
    out
}

fn variables(snap: &Snapshot, text: &str, span: Span) -> Vec<Suggestion> {
    if let Some((var, member)) = text.split_once('.') {
        let Some((_, members)) = snap
            .variables
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(var))
        else {
            return Vec::new();
        };
        return members
            .iter()
            .filter(|m| starts_ci(m, member))
            .map(|m| suggestion(format!("${var}.{m}"), None, span, false))
            .collect();
    }
    snap.variables
        .iter()
        .filter(|(n, _)| starts_ci(n, text))
        .map(|(n, _)| suggestion(format!("${n}"), None, span, false))
        .collect()
}

fn files(cwd: &Path, word: &str, span: Span) -> Vec<Suggestion> {
    let bare = word.trim_matches(['\'', '"']);
    let (dir_part, file_part) = match bare.rfind(['/', '\\']) {
        Some(i) => (&bare[..=i], &bare[i + 1..]),
        None => ("", bare),
    };
    let dir: PathBuf = if dir_part.is_empty() {
        cwd.to_path_buf()
    } else if let Some(rest) = dir_part.strip_prefix("~/") {
        dirs::home_dir().unwrap_or_default().join(rest)
    } else {
        cwd.join(dir_part)
    };
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
        out.push(suggestion(quote(&value), None, span, !is_dir));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_finds_command_and_parameter() {
        assert_eq!(
            context("Get-CsUser -Identity "),
            (Some("Get-CsUser".into()), Some("-Identity".into()))
        );
        assert_eq!(context("Get-Date | "), (None, None));
        assert_eq!(
            context("Get-Date -Format x "),
            (Some("Get-Date".into()), None)
        );
    }

    #[test]
    fn completes_commands_and_parameters() {
        let shared = Snapshot::shared_for_tests(&["Get-CsUser", "Get-Date"]);
        let mut c = ScriptCompleter { shared };
        let s = c.complete("get-csu", 7);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].value, "Get-CsUser");
        let s = c.complete("Get-CsUser -Iden", 16);
        assert!(s.iter().any(|s| s.value == "-Identity"), "{s:?}");
    }
}
