//! The equivalent shell command of a Control Panel commit: built from the
//! form's values, shown to the admin, and run as it reads. Every value a
//! form supplies is a single-quoted string literal, with each quote
//! character the grammar knows (`'` and the typographic ones) doubled, so
//! no input can end the literal early.

/// Characters that open or close a single-quoted string (grammar `sq`).
const QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// `text` as a single-quoted literal, or bare when it is a plain word
/// that reads the same either way (`Global`, `Tag:Sales`, `site:Redmond`).
pub fn quote(text: &str) -> String {
    let plain = text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_'));
    if plain {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        if QUOTES.contains(&c) {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// A boolean as a shell literal.
pub fn boolean(b: bool) -> &'static str {
    if b { "$True" } else { "$False" }
}

/// A cmdlet with its parameters, in the order they were added.
pub struct Command {
    pub cmdlet: String,
    text: String,
}

impl Command {
    pub fn new(cmdlet: &str) -> Command {
        Command {
            cmdlet: cmdlet.to_string(),
            text: cmdlet.to_string(),
        }
    }

    /// `-Name value`, the value already a shell literal.
    pub fn raw(mut self, name: &str, literal: &str) -> Command {
        self.text.push_str(&format!(" -{name} {literal}"));
        self
    }

    /// `-Name 'text'`.
    pub fn text(self, name: &str, value: &str) -> Command {
        let q = quote(value);
        self.raw(name, &q)
    }

    pub fn switch(mut self, name: &str) -> Command {
        self.text.push_str(&format!(" -{name}"));
        self
    }

    pub fn line(&self) -> &str {
        &self.text
    }
}
