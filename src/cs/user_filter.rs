//! `-Filter` and `-LdapFilter` of Get-CsUser and Get-CsAdUser.
//!
//! `-Filter` takes PowerShell filter syntax with bare property names:
//! `{ConferencingPolicy -eq $null}`, `{Department -eq 'Sales' -and Enabled
//! -eq $true}`. A filter made only of comparisons (`-eq`, `-ne`, `-like`,
//! `-notlike`) of a property with a constant or a simple variable, joined
//! by `-and`/`-or` (with parentheses and `-not`), becomes a SQL WHERE
//! clause and runs in the store. Anything else is evaluated per user: each
//! bare property name is rewritten to `$_.<Name>` and the block runs with
//! the user object as `$_`, like Where-Object.
//!
//! `-LdapFilter` takes `attr=value` (with `*` wildcards), combined with
//! `&(..)(..)`, `|(..)(..)` and `!(..)`, over the common AD attribute names.

use std::rc::Rc;

use rusqlite::types::Value as Sql;

use crate::config::users::{OTHER_POLICIES, User, Where, like_pattern};
use crate::runtime::value::Value;
use crate::runtime::wildcard::Wildcard;

/// The properties a user object has, for the rewrite of bare names.
pub const USER_PROPS: &[&str] = &[
    "Identity",
    "DisplayName",
    "SamAccountName",
    "UserPrincipalName",
    "Domain",
    "SipAddress",
    "Enabled",
    "RegistrarPool",
    "EnterpriseVoiceEnabled",
    "HostedVoiceMail",
    "LineURI",
    "LineServerURI",
    "PrivateLine",
    "AudioVideoDisabled",
    "RemoteCallControlTelephonyEnabled",
    "ExchangeArchivingPolicy",
    "ConferencingPolicy",
    "ExternalAccessPolicy",
    "ClientPolicy",
    "Department",
    "Office",
    "Title",
    "City",
    "Company",
    "Site",
    "WindowsEmailAddress",
];

/// The canonical name of a user property, in any letter case.
pub fn property(name: &str) -> Option<&'static str> {
    USER_PROPS
        .iter()
        .chain(OTHER_POLICIES)
        .find(|p| p.eq_ignore_ascii_case(name))
        .copied()
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Op(String),
    Var(String),
    Str(String),
    Num(i64),
    Open,
    Close,
}

/// A constant on the right of a comparison.
#[derive(Clone, Debug)]
pub enum Const {
    Null,
    Bool(bool),
    Text(String),
    Num(i64),
}

/// A quoted string whose body starts at `i`: its text and the index after
/// the closing quote. In single quotes `''` stands for one quote; double
/// quotes that would need expanding (`$`, `` ` ``) are left to PowerShell.
fn quoted(chars: &[char], mut i: usize, q: char) -> Option<(String, usize)> {
    let mut s = String::new();
    loop {
        match chars.get(i) {
            None => return None,
            Some('$' | '`') if q == '"' => return None,
            Some('\'') if q == '\'' && chars.get(i + 1) == Some(&'\'') => {
                s.push('\'');
                i += 2;
            }
            Some(&c) if c == q => return Some((s, i + 1)),
            Some(&c) => {
                s.push(c);
                i += 1;
            }
        }
    }
}

fn tokenize(text: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let word_char = |c: char| c.is_alphanumeric() || c == '_';
    while let Some(&c) = chars.get(i) {
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            '-' => {
                let start = i + 1;
                i = start;
                while chars.get(i).is_some_and(|c| c.is_alphabetic()) {
                    i += 1;
                }
                let op: String = chars.get(start..i)?.iter().collect();
                if op.is_empty() {
                    return None;
                }
                out.push(Tok::Op(op.to_ascii_lowercase()));
            }
            '$' => {
                let start = i + 1;
                i = start;
                while chars.get(i).is_some_and(|&c| word_char(c)) {
                    i += 1;
                }
                let name: String = chars.get(start..i)?.iter().collect();
                if name.is_empty() {
                    return None;
                }
                out.push(Tok::Var(name));
            }
            q @ ('\'' | '"') => {
                let (body, next) = quoted(&chars, i + 1, q)?;
                out.push(Tok::Str(body));
                i = next;
            }
            c if c.is_ascii_digit() => {
                let start = i;
                while chars.get(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
                let n: String = chars.get(start..i)?.iter().collect();
                out.push(Tok::Num(n.parse().ok()?));
            }
            c if word_char(c) => {
                let start = i;
                while chars.get(i).is_some_and(|&c| word_char(c)) {
                    i += 1;
                }
                out.push(Tok::Word(chars.get(start..i)?.iter().collect()));
            }
            _ => return None,
        }
    }
    Some(out)
}

enum ColKind {
    Text(String),
    Bool(String),
}

/// The SQL expression of a property, for Get-CsUser (`ad` false) or
/// Get-CsAdUser (`ad` true, where Enabled means enabled for Lync).
fn column(prop: &str, ad: bool) -> Option<ColKind> {
    let canon = property(prop)?;
    let json = |name: &str| format!("json_extract(data, '$.{name}')");
    Some(match canon {
        "SamAccountName" => ColKind::Text("sam".into()),
        "UserPrincipalName" => ColKind::Text("upn".into()),
        "DisplayName" => ColKind::Text("display_name".into()),
        "SipAddress" => ColKind::Text("sip".into()),
        "ConferencingPolicy" => ColKind::Text("conferencing_policy".into()),
        "ExternalAccessPolicy" => ColKind::Text("external_access_policy".into()),
        "ClientPolicy" => ColKind::Text("client_policy".into()),
        "Enabled" if ad => ColKind::Bool("lync_enabled".into()),
        "Enabled"
        | "EnterpriseVoiceEnabled"
        | "HostedVoiceMail"
        | "AudioVideoDisabled"
        | "RemoteCallControlTelephonyEnabled" => ColKind::Bool(json(canon)),
        // Identity is stored; ExchangeArchivingPolicy shows a default
        // when unset, so it is left to PowerShell.
        "ExchangeArchivingPolicy" => return None,
        other => ColKind::Text(json(other)),
    })
}

/// Deepest nesting of parentheses (or `!`) a filter may use: the parsers
/// recurse once per level.
const MAX_NESTING: usize = 100;

struct Translator<'a> {
    toks: &'a [Tok],
    pos: usize,
    /// Parentheses and `-not`s open around the current term.
    depth: usize,
    ad: bool,
    var: &'a dyn Fn(&str) -> Option<Const>,
    params: Vec<Sql>,
}

impl Translator<'_> {
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn expr(&mut self) -> Option<String> {
        let mut left = self.term()?;
        while let Some(Tok::Op(op)) = self.peek() {
            let joiner = match op.as_str() {
                "and" => "AND",
                "or" => "OR",
                _ => return None,
            };
            self.pos += 1;
            let right = self.term()?;
            // -and and -or have equal precedence in PowerShell, left to right.
            left = format!("({left}) {joiner} ({right})");
        }
        Some(left)
    }

    fn term(&mut self) -> Option<String> {
        match self.next()? {
            Tok::Open => {
                let e = self.nested(Self::expr)?;
                (self.next()? == Tok::Close).then_some(e)
            }
            Tok::Op(op) if op == "not" => Some(format!("NOT ({})", self.nested(Self::term)?)),
            Tok::Word(prop) => {
                let Tok::Op(op) = self.next()? else {
                    return None;
                };
                let value = match self.next()? {
                    Tok::Str(s) => Const::Text(s),
                    Tok::Num(n) => Const::Num(n),
                    Tok::Var(v) => match v.to_ascii_lowercase().as_str() {
                        "null" => Const::Null,
                        "true" => Const::Bool(true),
                        "false" => Const::Bool(false),
                        _ => (self.var)(&v)?,
                    },
                    _ => return None,
                };
                self.compare(&prop, &op, value)
            }
            _ => None,
        }
    }

    /// Parses one level further in; too deep is not a filter it translates.
    fn nested(&mut self, f: fn(&mut Self) -> Option<String>) -> Option<String> {
        if self.depth >= MAX_NESTING {
            return None;
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn compare(&mut self, prop: &str, op: &str, value: Const) -> Option<String> {
        let op = op.strip_prefix('i').unwrap_or(op);
        let value = match value {
            Const::Num(n) => Const::Text(n.to_string()),
            other => other,
        };
        match column(prop, self.ad)? {
            ColKind::Text(e) => match (op, value) {
                ("eq", Const::Null) => Some(format!("{e} IS NULL")),
                ("ne", Const::Null) => Some(format!("{e} IS NOT NULL")),
                ("eq", Const::Text(s)) => {
                    self.params.push(Sql::Text(s));
                    Some(format!("{e} = ? COLLATE NOCASE"))
                }
                ("ne", Const::Text(s)) => {
                    self.params.push(Sql::Text(s));
                    Some(format!("({e} IS NULL OR {e} <> ? COLLATE NOCASE)"))
                }
                ("like" | "notlike", Const::Text(s)) if !s.contains('[') => {
                    self.params.push(Sql::Text(like_pattern(&s)));
                    let test = format!("COALESCE({e}, '') LIKE ? ESCAPE '\\'");
                    Some(if op == "like" {
                        test
                    } else {
                        format!("NOT ({test})")
                    })
                }
                _ => None,
            },
            ColKind::Bool(e) => match (op, value) {
                ("eq", Const::Bool(b)) => Some(format!("COALESCE({e}, 0) = {}", b as i64)),
                ("ne", Const::Bool(b)) => Some(format!("COALESCE({e}, 0) <> {}", b as i64)),
                // A Boolean property is never $null.
                ("eq", Const::Null) => Some("0".into()),
                ("ne", Const::Null) => Some("1".into()),
                _ => None,
            },
        }
    }
}

/// The filter as a WHERE clause, when it is simple enough.
pub fn to_sql(text: &str, ad: bool, var: &dyn Fn(&str) -> Option<Const>) -> Option<Where> {
    let toks = tokenize(text)?;
    if toks.is_empty() {
        return None;
    }
    let mut t = Translator {
        toks: &toks,
        pos: 0,
        depth: 0,
        ad,
        var,
        params: Vec::new(),
    };
    let sql = t.expr()?;
    if t.pos != toks.len() {
        return None;
    }
    Some(Where::new(sql, t.params))
}

/// A variable's value as a filter constant, when it is a plain one.
pub fn constant(v: &Value) -> Option<Const> {
    match v {
        Value::Null => Some(Const::Null),
        Value::Bool(b) => Some(Const::Bool(*b)),
        Value::Int(n) => Some(Const::Num(i64::from(*n))),
        Value::Long(n) => Some(Const::Num(*n)),
        Value::String(s) => Some(Const::Text(s.to_string())),
        _ => None,
    }
}

/// Rewrites bare property names to `$_.<Name>` (outside quoted text and
/// not after `$`, `-`, `.` or `:`), for evaluation per user. A bare word
/// compared with something (`Foo -eq 1`) that is no user property is the
/// error: it names that word, once, rather than failing for every user.
pub fn rewrite(text: &str) -> Result<String, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    let mut prev: Option<char> = None;
    while let Some(&c) = chars.get(i) {
        if c == '\'' || c == '"' {
            // Copy the quoted text as it is.
            out.push(c);
            i += 1;
            while let Some(&d) = chars.get(i) {
                out.push(d);
                i += 1;
                if d == c {
                    break;
                }
            }
            prev = Some(c);
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|c| c.is_alphanumeric() || *c == '_')
            {
                i += 1;
            }
            let word: String = chars.get(start..i).unwrap_or_default().iter().collect();
            let after_sigil = matches!(prev, Some('$' | '-' | '.' | ':' | '_'))
                || prev.is_some_and(|p| p.is_alphanumeric());
            match property(&word) {
                Some(p) if !after_sigil => {
                    out.push_str("$_.");
                    out.push_str(p);
                }
                None if !after_sigil && compared(chars.get(i..).unwrap_or_default()) => {
                    return Err(word);
                }
                _ => out.push_str(&word),
            }
            prev = word.chars().last();
            continue;
        }
        out.push(c);
        prev = Some(c);
        i += 1;
    }
    Ok(out)
}

/// Whether the text after a word starts with a comparison operator.
fn compared(rest: &[char]) -> bool {
    const OPS: &[&str] = &[
        "eq", "ne", "gt", "ge", "lt", "le", "like", "notlike", "match", "notmatch",
    ];
    let mut it = rest.iter().skip_while(|c| c.is_whitespace());
    if it.next() != Some(&'-') {
        return false;
    }
    let op: String = it
        .take_while(|c| c.is_alphabetic())
        .collect::<String>()
        .to_ascii_lowercase();
    // -ceq and -ieq are -eq with the case rule spelled out.
    let base = op.strip_prefix(['c', 'i']).unwrap_or(&op);
    OPS.contains(&op.as_str()) || OPS.contains(&base)
}

// ------------------------------------------------------------ LDAP

#[derive(Debug)]
pub enum Ldap {
    And(Vec<Ldap>),
    Or(Vec<Ldap>),
    Not(Box<Ldap>),
    /// attribute, pattern (None: `attr=*`, present).
    Eq(String, Rc<str>),
}

/// Parses `attr=value`, `(attr=value)`, `&(..)(..)`, `|(..)(..)`, `!(..)`.
pub fn parse_ldap(text: &str) -> Result<Ldap, String> {
    let t = text.trim();
    let mut p = LdapParser {
        chars: t.chars().collect(),
        pos: 0,
        depth: 0,
    };
    let f = if t.starts_with('(') {
        p.item()?
    } else {
        p.body()?
    };
    if p.pos != p.chars.len() {
        return Err(format!("unexpected text at position {}", p.pos + 1));
    }
    Ok(f)
}

struct LdapParser {
    chars: Vec<char>,
    pos: usize,
    /// Terms open around the current one.
    depth: usize,
}

impl LdapParser {
    fn item(&mut self) -> Result<Ldap, String> {
        if self.chars.get(self.pos) != Some(&'(') {
            return Err(format!("expected '(' at position {}", self.pos + 1));
        }
        self.pos += 1;
        if self.depth >= MAX_NESTING {
            return Err(format!("terms nest deeper than {MAX_NESTING} levels"));
        }
        self.depth += 1;
        let f = self.body();
        self.depth -= 1;
        let f = f?;
        if self.chars.get(self.pos) != Some(&')') {
            return Err(format!("expected ')' at position {}", self.pos + 1));
        }
        self.pos += 1;
        Ok(f)
    }

    fn list(&mut self) -> Result<Vec<Ldap>, String> {
        let mut out = Vec::new();
        while self.chars.get(self.pos) == Some(&'(') {
            out.push(self.item()?);
        }
        if out.is_empty() {
            return Err("'&' and '|' need at least one (attribute=value) term".into());
        }
        Ok(out)
    }

    fn body(&mut self) -> Result<Ldap, String> {
        match self.chars.get(self.pos) {
            Some('&') => {
                self.pos += 1;
                Ok(Ldap::And(self.list()?))
            }
            Some('|') => {
                self.pos += 1;
                Ok(Ldap::Or(self.list()?))
            }
            Some('!') => {
                self.pos += 1;
                Ok(Ldap::Not(Box::new(self.item()?)))
            }
            _ => {
                let start = self.pos;
                while self
                    .chars
                    .get(self.pos)
                    .is_some_and(|c| *c != ')' && *c != '(')
                {
                    self.pos += 1;
                }
                let text: String = self
                    .chars
                    .get(start..self.pos)
                    .unwrap_or_default()
                    .iter()
                    .collect();
                let Some((attr, value)) = text.split_once('=') else {
                    return Err(format!("'{text}' is not of the form attribute=value"));
                };
                let attr = attr.trim();
                if attr.is_empty() {
                    return Err(format!("'{text}' names no attribute"));
                }
                Ok(Ldap::Eq(attr.to_string(), Rc::from(value.trim())))
            }
        }
    }
}

/// An LDAP attribute's value on a directory user.
fn ldap_attr(u: &User, attr: &str) -> Option<String> {
    let a = attr.to_ascii_lowercase();
    match a.as_str() {
        "samaccountname" => Some(u.sam.clone()),
        "userprincipalname" => u.upn.clone(),
        "displayname" | "cn" | "name" => Some(u.display_name.clone()),
        "msrtcsip-primaryuseraddress" => u.sip.clone(),
        "distinguishedname" => Some(u.dn()),
        "department" => u.text("Department"),
        "title" => u.text("Title"),
        "l" => u.text("City"),
        "physicaldeliveryofficename" => u.text("Office"),
        "company" => u.text("Company"),
        "mail" => u.text("WindowsEmailAddress"),
        "msrtcsip-userenabled" => Some(if u.lync_enabled && u.flag("Enabled") {
            "TRUE".into()
        } else {
            "FALSE".into()
        }),
        _ => None,
    }
}

pub fn ldap_matches(f: &Ldap, u: &User) -> bool {
    match f {
        Ldap::And(items) => items.iter().all(|i| ldap_matches(i, u)),
        Ldap::Or(items) => items.iter().any(|i| ldap_matches(i, u)),
        Ldap::Not(i) => !ldap_matches(i, u),
        Ldap::Eq(attr, pattern) => match ldap_attr(u, attr) {
            None => false,
            Some(v) if &**pattern == "*" => !v.is_empty(),
            Some(v) if pattern.contains('*') => {
                // Only `*` is a wildcard in LDAP; protect the others.
                let escaped: String = pattern
                    .chars()
                    .flat_map(|c| match c {
                        '?' | '[' | ']' | '`' => vec!['`', c],
                        c => vec![c],
                    })
                    .collect();
                Wildcard::new(&escaped, false).is_match(&v)
            }
            Some(v) => v.eq_ignore_ascii_case(pattern),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<Const> {
        None
    }

    #[test]
    fn simple_filters_become_sql() {
        let w = to_sql("ConferencingPolicy -eq $null", false, &none).map(|w| w.sql);
        assert_eq!(w.as_deref(), Some("conferencing_policy IS NULL"));
        let w = to_sql(
            "Department -eq 'Sales' -and Enabled -eq $true",
            false,
            &none,
        );
        assert!(w.is_some_and(|w| w.params.len() == 1 && w.sql.contains("AND")));
        assert!(to_sql("DisplayName.Length -gt 3", false, &none).is_none());
        assert!(to_sql("Department -eq $dept", false, &none).is_none());
    }

    #[test]
    fn bare_names_are_rewritten() {
        assert_eq!(
            rewrite("Department -eq 'Department' -and $x.Title -ne Title"),
            Ok("$_.Department -eq 'Department' -and $x.Title -ne $_.Title".to_string())
        );
    }

    #[test]
    fn an_unknown_compared_name_is_named() {
        assert_eq!(
            rewrite("(Depatment -like 'S*') -or Title -eq 'x'"),
            Err("Depatment".to_string())
        );
        assert_eq!(
            rewrite("VoicePolicy -ceq $null"),
            Ok("$_.VoicePolicy -ceq $null".to_string())
        );
    }

    #[test]
    fn ldap_forms_parse() {
        assert!(parse_ldap("Department=Finance").is_ok());
        assert!(parse_ldap("&(Department=Finance)(Title=Manager)").is_ok());
        assert!(parse_ldap("(|(Title=Supervisor)(Title=Manager))").is_ok());
        assert!(parse_ldap("Department").is_err());
        assert!(parse_ldap("&(a=b").is_err());
    }

    #[test]
    fn deep_nesting_is_refused_not_recursed() {
        let ldap = format!("{}(a=b){}", "(!".repeat(200_000), ")".repeat(200_000));
        assert!(parse_ldap(&ldap).is_err());
        let ldap = format!("{}(a=b){}", "(!".repeat(50), ")".repeat(50));
        assert!(parse_ldap(&ldap).is_ok());
        let filter = format!(
            "{}Department -eq 'x'{}",
            "(".repeat(200_000),
            ")".repeat(200_000)
        );
        assert!(to_sql(&filter, false, &none).is_none());
        let filter = format!("{}Department -eq 'x'{}", "(".repeat(20), ")".repeat(20));
        assert!(to_sql(&filter, false, &none).is_some());
    }
}
