//! Compiled regexes, cached per thread: scripts apply the same `-match`
//! pattern to every object of a pipeline.

use std::cell::RefCell;
use std::collections::HashMap;

use regex::Regex;

use super::error::{ErrorCategory, ErrorRecord};

const CAPACITY: usize = 256;

thread_local! {
    static CACHE: RefCell<HashMap<(String, bool), Regex>> = RefCell::new(HashMap::new());
}

/// A regex with .NET-like defaults: case-insensitive unless asked otherwise.
pub fn get(pattern: &str, case_sensitive: bool) -> Result<Regex, ErrorRecord> {
    let key = (pattern.to_string(), case_sensitive);
    if let Some(r) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(r);
    }
    let built = regex::RegexBuilder::new(pattern)
        .case_insensitive(!case_sensitive)
        .size_limit(1 << 22)
        .build()
        .map_err(|e| {
            ErrorRecord::new(
                format!(
                    "The regular expression pattern {pattern} is not valid: {}",
                    e.to_string()
                        .lines()
                        .last()
                        .unwrap_or("syntax error")
                        .trim()
                ),
                "InvalidRegularExpression",
                ErrorCategory::InvalidArgument,
            )
            .with_exception("System.ArgumentException")
        })?;
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CAPACITY {
            c.clear();
        }
        c.insert(key, built.clone());
    });
    Ok(built)
}

/// Turns a .NET replacement string (`$1`, `${name}`, `$&`, `$$`) into the
/// regex crate's syntax, where `$1a` would name a group "1a".
pub fn dotnet_replacement(rep: &str) -> String {
    let mut out = String::with_capacity(rep.len() + 4);
    let mut it = rep.chars().peekable();
    while let Some(c) = it.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match it.peek().copied() {
            Some('$') => {
                it.next();
                out.push_str("$$");
            }
            Some('&') => {
                it.next();
                out.push_str("${0}");
            }
            Some(d) if d.is_ascii_digit() => {
                let mut n = String::new();
                while let Some(&d) = it.peek() {
                    if d.is_ascii_digit() {
                        n.push(d);
                        it.next();
                    } else {
                        break;
                    }
                }
                out.push_str(&format!("${{{n}}}"));
            }
            Some('{') => out.push('$'),
            _ => out.push_str("$$"),
        }
    }
    out
}
