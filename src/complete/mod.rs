//! Tab completion, for the local REPL and for remote sessions alike:
//! command names and aliases, `-Parameter` names of the command under the
//! cursor, enum values, identities from the store (per-user policies,
//! users, instances), variables, members after `$x.`, and file paths.
//!
//! Everything works on a [`Snapshot`] of the session, never on the
//! interpreter, and answers in byte offsets of the line; each front door
//! turns the answer into its own shape (reedline suggestions, protocol
//! JSON in characters).

mod files;
mod identities;
mod snapshot;

pub use snapshot::{CommandEntry, ParamEntry, Snapshot, members};

use crate::syntax::tokens::{TokenKind, tokens};

/// One candidate for the word under the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The text that replaces the word.
    pub value: String,
    /// What it is: `Cmdlet`, `[string]`, a policy's noun, a user's name.
    pub description: Option<String>,
    /// Whether a space should follow it (not after a directory or a
    /// variable, where typing goes on).
    pub space: bool,
    pub kind: Kind,
}

/// What sort of thing a candidate is, in the terms of pwsh's
/// `CompletionResultType` (its numbers, for remote clients).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    /// Text from elsewhere (a remote session's answer).
    #[default]
    Text = 0,
    Command = 2,
    ProviderItem = 3,
    ProviderContainer = 4,
    Property = 5,
    ParameterName = 7,
    ParameterValue = 8,
    Variable = 9,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Text => "Text",
            Kind::Command => "Command",
            Kind::ProviderItem => "ProviderItem",
            Kind::ProviderContainer => "ProviderContainer",
            Kind::Property => "Property",
            Kind::ParameterName => "ParameterName",
            Kind::ParameterValue => "ParameterValue",
            Kind::Variable => "Variable",
        }
    }
}

/// What may replace `line[start..end]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Completion {
    pub start: usize,
    pub end: usize,
    /// Sorted case-insensitively, without duplicates.
    pub items: Vec<Item>,
}

/// Completes the word that ends at byte `pos` of `line`.
pub fn complete(snap: &Snapshot, line: &str, pos: usize) -> Completion {
    let pos = pos.min(line.len());
    if !line.is_char_boundary(pos) {
        return Completion {
            start: pos,
            end: pos,
            items: Vec::new(),
        };
    }
    let start = word_start(line, pos);
    let word = &line[start..pos];
    let mut items = if let Some(var) = word.strip_prefix('$') {
        variables(snap, var)
    } else {
        let (cmd, param) = context(&line[..start]);
        let cmd = cmd.map(|c| snap.resolve(&c));
        match (cmd, param) {
            (None, _) if !word.contains(['\\', '/']) && !word.starts_with('.') => {
                commands(snap, word)
            }
            (Some(c), _) if word.starts_with('-') => parameters(snap, &c, word),
            (Some(c), Some(p)) => values(snap, &c, &p, word),
            _ => files::files(snap, word),
        }
    };
    items.sort_by_key(|s| s.value.to_lowercase());
    items.dedup_by(|a, b| a.value.eq_ignore_ascii_case(&b.value));
    Completion {
        start,
        end: pos,
        items,
    }
}

fn starts_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn item(value: String, description: Option<String>, space: bool, kind: Kind) -> Item {
    Item {
        value,
        description,
        space,
        kind,
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
        let Some(text) = before.get(span.start as usize..span.end as usize) else {
            continue;
        };
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

fn commands(snap: &Snapshot, word: &str) -> Vec<Item> {
    snap.commands
        .iter()
        .filter(|c| starts_ci(&c.name, word))
        .map(|c| {
            item(
                c.name.clone(),
                Some(c.kind.to_string()),
                true,
                Kind::Command,
            )
        })
        .chain(
            snap.aliases
                .iter()
                .filter(|(a, _)| starts_ci(a, word))
                .map(|(a, t)| item(a.clone(), Some(format!("-> {t}")), true, Kind::Command)),
        )
        .collect()
}

fn parameters(snap: &Snapshot, cmd: &str, word: &str) -> Vec<Item> {
    let Some(c) = snap.command(cmd) else {
        return Vec::new();
    };
    let prefix = &word[1..];
    c.params
        .iter()
        .filter(|p| starts_ci(&p.name, prefix))
        .map(|p| {
            item(
                format!("-{}", p.name),
                Some(p.ty.clone()),
                true,
                Kind::ParameterName,
            )
        })
        .collect()
}

fn values(snap: &Snapshot, cmd: &str, param: &str, word: &str) -> Vec<Item> {
    let name = param.trim_start_matches('-');
    // A command the session may not run offers nothing but file names:
    // its identities are not this session's business.
    let Some(command) = snap.command(cmd) else {
        return if files::takes_file(cmd, name) {
            files::files(snap, word)
        } else {
            Vec::new()
        };
    };
    let spec = command.params.iter().find(|p| starts_ci(&p.name, name));
    let full = spec.map_or(name.to_string(), |p| p.name.clone());
    if let Some(p) = spec
        && !p.values.is_empty()
    {
        return p
            .values
            .iter()
            .filter(|v| starts_ci(v, word))
            .map(|v| item(v.clone(), None, true, Kind::ParameterValue))
            .collect();
    }
    if files::takes_file(cmd, &full) {
        return files::files(snap, word);
    }
    let bare = word.trim_start_matches(['\'', '"']);
    identities::identities(snap, &command.name, &full)
        .into_iter()
        .filter(|(v, desc)| {
            starts_ci(v, bare) || desc.as_deref().is_some_and(|d| starts_ci(d, bare))
        })
        .map(|(v, desc)| item(quote(&v), desc, true, Kind::ParameterValue))
        .collect()
}

fn variables(snap: &Snapshot, text: &str) -> Vec<Item> {
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
            .map(|m| item(format!("${var}.{m}"), None, false, Kind::Property))
            .collect();
    }
    snap.variables
        .iter()
        .filter(|(n, _)| starts_ci(n, text))
        .map(|(n, _)| item(format!("${n}"), None, false, Kind::Variable))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session that knows `names`, each with an `-Identity` parameter.
    fn snapshot(names: &[&str]) -> Snapshot {
        let mut s = Snapshot::default();
        for n in names {
            s.commands.push(CommandEntry {
                name: n.to_string(),
                kind: "Cmdlet",
                params: vec![ParamEntry {
                    name: "Identity".into(),
                    ty: "[string]".into(),
                    values: Vec::new(),
                }],
            });
        }
        s
    }

    fn values_of(c: &Completion) -> Vec<&str> {
        c.items.iter().map(|i| i.value.as_str()).collect()
    }

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
        let snap = snapshot(&["Get-CsUser", "Get-Date"]);
        let c = complete(&snap, "get-csu", 7);
        assert_eq!(
            c,
            Completion {
                start: 0,
                end: 7,
                items: vec![Item {
                    value: "Get-CsUser".into(),
                    description: Some("Cmdlet".into()),
                    space: true,
                    kind: Kind::Command,
                }],
            }
        );
        let c = complete(&snap, "Get-CsUser -Iden", 16);
        assert_eq!((c.start, c.end), (11, 16));
        assert_eq!(values_of(&c), ["-Identity"]);
        assert_eq!(c.items[0].description.as_deref(), Some("[string]"));
    }

    #[test]
    fn completes_variables_and_their_members() {
        let mut snap = snapshot(&[]);
        snap.variables = vec![
            ("abc".into(), vec!["Length".into(), "ToUpper(".into()]),
            ("abd".into(), Vec::new()),
            ("x".into(), Vec::new()),
        ];
        let c = complete(&snap, "'a' + $ab", 9);
        assert_eq!((c.start, c.end), (6, 9));
        assert_eq!(values_of(&c), ["$abc", "$abd"]);
        assert!(!c.items[0].space);
        let c = complete(&snap, "$abc.to", 7);
        assert_eq!(values_of(&c), ["$abc.ToUpper("]);
    }

    #[test]
    fn aliases_complete_and_resolve_to_their_command() {
        let mut snap = snapshot(&["Get-ChildItem"]);
        snap.aliases = vec![("gci".into(), "Get-ChildItem".into())];
        let c = complete(&snap, "gc", 2);
        assert_eq!(values_of(&c), ["gci"]);
        assert_eq!(c.items[0].description.as_deref(), Some("-> Get-ChildItem"));
        let c = complete(&snap, "gci -Id", 7);
        assert_eq!(values_of(&c), ["-Identity"]);
    }

    #[test]
    fn enum_values_of_a_parameter() {
        let mut snap = snapshot(&[]);
        snap.commands.push(CommandEntry {
            name: "Set-CsConferencingPolicy".into(),
            kind: "Cmdlet",
            params: vec![ParamEntry {
                name: "MaxVideoConferenceResolution".into(),
                ty: "[string]".into(),
                values: vec!["CIF".into(), "VGA".into()],
            }],
        });
        let c = complete(
            &snap,
            "Set-CsConferencingPolicy -MaxVideoConferenceResolution v",
            57,
        );
        assert_eq!(values_of(&c), ["VGA"]);
    }

    #[test]
    fn offsets_are_bytes_and_never_split_a_character() {
        let mut snap = snapshot(&[]);
        snap.variables = vec![("größe".into(), Vec::new())];
        let line = "'ä' ; $grö";
        let c = complete(&snap, line, line.len());
        assert_eq!((c.start, c.end), (7, line.len()));
        assert_eq!(values_of(&c), ["$größe"]);
        // Inside the two bytes of `ä`: nothing, and no panic.
        let c = complete(&snap, line, 2);
        assert!(c.items.is_empty());
    }

    #[test]
    fn file_names_only_where_the_session_may_use_files() {
        let dir = std::env::temp_dir().join(format!("lyncsh-complete-{}", std::process::id()));
        let _ = std::fs::create_dir_all(dir.join("reports"));
        let _ = std::fs::write(dir.join("users.csv"), "");
        let mut snap = snapshot(&["Import-Csv"]);
        snap.cwd = dir.clone();
        snap.files = true;
        let c = complete(&snap, "Import-Csv ", 11);
        assert_eq!(values_of(&c), ["reports/", "users.csv"]);
        assert_eq!(
            c.items.iter().map(|i| i.space).collect::<Vec<_>>(),
            [false, true]
        );
        let c = complete(&snap, "./us", 4);
        assert_eq!(values_of(&c), ["./users.csv"]);
        snap.files = false;
        assert!(complete(&snap, "Import-Csv ", 11).items.is_empty());
        assert!(complete(&snap, "./us", 4).items.is_empty());
        // Confined to a directory: nothing from outside it.
        snap.files = true;
        snap.file_root = Some(dir.join("reports"));
        assert!(complete(&snap, "Import-Csv ", 11).items.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
