//! Command texts parsed once: a remote client that polls, or an admin who
//! runs the same line again, sends identical text, and for a short
//! command the parse costs about as much as running it. pwsh keeps a cache
//! of compiled script blocks by their text for the same reason.

use std::num::NonZeroUsize;
use std::rc::Rc;

use lru::LruCache;

use super::ast::ScriptBlockAst;
use super::{ParseError, Source, parse_script};

/// Texts kept at most; the least recently run goes first.
const ENTRIES: NonZeroUsize = NonZeroUsize::new(64).expect("non-zero");
/// Longer texts (whole scripts pasted in) are parsed each time: they are
/// rarely sent twice, and their trees are large.
const MAX_TEXT: usize = 4 << 10;

pub struct ParseCache(LruCache<String, (Rc<Source>, Rc<ScriptBlockAst>)>);

impl Default for ParseCache {
    fn default() -> ParseCache {
        ParseCache(LruCache::new(ENTRIES))
    }
}

impl ParseCache {
    /// The tree of `source`, and the source its positions refer to: the
    /// one parsed earlier when the same text came before. Texts of files
    /// are not kept (their path is part of what they mean), nor failures.
    pub fn parse(
        &mut self,
        source: Rc<Source>,
    ) -> Result<(Rc<Source>, Rc<ScriptBlockAst>), ParseError> {
        let keep = source.path.is_none() && source.text.len() <= MAX_TEXT;
        if keep && let Some((src, ast)) = self.0.get(source.text.as_str()) {
            return Ok((src.clone(), ast.clone()));
        }
        let ast = parse_script(source.clone())?;
        if keep {
            self.0
                .put(source.text.clone(), (source.clone(), ast.clone()));
        }
        Ok((source, ast))
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use crate::host::CaptureHost;
    use crate::runtime::Interp;
    use crate::syntax::Source;

    /// Runs each text as a command of one session; what it printed, and
    /// its errors.
    fn session(texts: &[&str]) -> (String, String) {
        let mut it = Interp::new(Box::new(CaptureHost::default()));
        for t in texts {
            let _ = it.run_text(Rc::new(Source::new(None, t.to_string())), Vec::new());
        }
        let host = std::mem::replace(&mut it.host, Box::new(CaptureHost::default()));
        match crate::host::into_any(host).downcast::<CaptureHost>() {
            Ok(h) => (h.stdout, h.stderr),
            Err(_) => Default::default(),
        }
    }

    #[test]
    fn a_command_sent_again_runs_again_and_reports_where_it_failed() {
        let line = "$n += 1; $n\n$n.Nope()";
        let (out, err) = session(&[line]);
        assert_eq!(out, "1\n");
        assert!(
            err.starts_with("InvalidOperation: \nLine |\n   2 |  $n.Nope()\n"),
            "{err}"
        );
        // The second run is the same tree: the state it changes moves on,
        // and its error points at the same place in the same text.
        assert_eq!(
            session(&[line, line]),
            ("1\n2\n".into(), format!("{err}{err}"))
        );
    }

    #[test]
    fn texts_that_differ_are_not_confused() {
        assert_eq!(session(&["1 + 1", "1 + 2", "1 + 1"]).0, "2\n3\n2\n");
    }
}
