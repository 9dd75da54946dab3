//! PowerShell wildcard patterns (`*`, `?`, `[a-z]`, `` ` `` escapes), used by
//! `-like`, `switch -wildcard`, `Where-Object -Like` and `-Filter`.

#[derive(Debug, Clone)]
enum Tok {
    Any,
    One,
    Set(Vec<(char, char)>),
    Lit(char),
}

#[derive(Debug, Clone)]
pub struct Wildcard {
    toks: Vec<Tok>,
    case_sensitive: bool,
}

impl Wildcard {
    pub fn new(pattern: &str, case_sensitive: bool) -> Wildcard {
        let fold = |c: char| {
            if case_sensitive {
                c
            } else {
                c.to_lowercase().next().unwrap_or(c)
            }
        };
        let mut toks = Vec::new();
        let mut it = pattern.chars().peekable();
        while let Some(c) = it.next() {
            match c {
                '*' => {
                    if !matches!(toks.last(), Some(Tok::Any)) {
                        toks.push(Tok::Any)
                    }
                }
                '?' => toks.push(Tok::One),
                '`' => toks.push(Tok::Lit(fold(it.next().unwrap_or('`')))),
                '[' => {
                    let mut set = Vec::new();
                    let mut closed = false;
                    let mut raw = vec!['['];
                    while let Some(s) = it.next() {
                        raw.push(s);
                        if s == ']' {
                            closed = true;
                            break;
                        }
                        let lo = if s == '`' {
                            it.next().unwrap_or('`')
                        } else {
                            s
                        };
                        if it.peek() == Some(&'-') {
                            it.next();
                            raw.push('-');
                            match it.next() {
                                Some(']') => {
                                    set.push((fold(lo), fold(lo)));
                                    set.push(('-', '-'));
                                    closed = true;
                                    break;
                                }
                                Some(hi) => {
                                    raw.push(hi);
                                    set.push((fold(lo), fold(hi)));
                                }
                                None => break,
                            }
                        } else {
                            set.push((fold(lo), fold(lo)));
                        }
                    }
                    if closed {
                        toks.push(Tok::Set(set));
                    } else {
                        toks.extend(raw.into_iter().map(|c| Tok::Lit(fold(c))));
                    }
                }
                c => toks.push(Tok::Lit(fold(c))),
            }
        }
        Wildcard {
            toks,
            case_sensitive,
        }
    }

    pub fn has_wildcards(s: &str) -> bool {
        s.contains(['*', '?', '['])
    }

    pub fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = if self.case_sensitive {
            text.chars().collect()
        } else {
            text.chars()
                .map(|c| c.to_lowercase().next().unwrap_or(c))
                .collect()
        };
        // Iterative matcher with single backtrack point for `*`: linear in
        // practice, never exponential.
        let (mut t, mut p) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while t < chars.len() {
            let ok = match self.toks.get(p) {
                Some(Tok::One) => true,
                Some(Tok::Lit(c)) => *c == chars[t],
                Some(Tok::Set(set)) => set.iter().any(|&(lo, hi)| lo <= chars[t] && chars[t] <= hi),
                Some(Tok::Any) => {
                    star = Some((p, t));
                    p += 1;
                    continue;
                }
                None => false,
            };
            if ok {
                t += 1;
                p += 1;
            } else if let Some((sp, st)) = star {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            } else {
                return false;
            }
        }
        self.toks[p..].iter().all(|t| matches!(t, Tok::Any))
    }
}

pub fn like(text: &str, pattern: &str, case_sensitive: bool) -> bool {
    Wildcard::new(pattern, case_sensitive).is_match(text)
}

#[cfg(test)]
mod tests {
    use super::like;

    #[test]
    fn patterns() {
        assert!(like("Global", "g*", false));
        assert!(!like("Global", "g*", true));
        assert!(like("site:Redmond", "site:*", false));
        assert!(like("abc", "a?c", false));
        assert!(like("rbc", "[rg]*", false));
        assert!(!like("xbc", "[rg]*", false));
        assert!(like("a*b", "a`*b", false));
        assert!(like("fabrikam.net", "*.net", false));
        assert!(!like("fabrikam.com", "*.net", false));
        assert!(like("", "*", false));
    }
}
