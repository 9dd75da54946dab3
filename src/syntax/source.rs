//! Script text with a line index, so a byte offset becomes `line:column`.

use std::path::PathBuf;

use super::ast::Span;

#[derive(Debug)]
pub struct Source {
    /// The script's path when it came from a file.
    pub path: Option<PathBuf>,
    pub text: String,
    line_starts: Vec<u32>,
}

impl Source {
    pub fn new(path: Option<PathBuf>, text: String) -> Source {
        // A UTF-8 byte order mark (editors on Windows write one) is not
        // part of the script.
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        };
        let mut line_starts = vec![0];
        let bytes = text.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            // "\r\n" is one break; a lone "\r" is one too.
            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                line_starts.push(i as u32 + 1);
            }
        }
        Source {
            path,
            text,
            line_starts,
        }
    }

    /// The display name used in error headers: the path, or nothing for
    /// commands typed or passed with `-Command`.
    pub fn name(&self) -> Option<String> {
        self.path.as_ref().map(|p| p.display().to_string())
    }

    pub fn slice(&self, span: Span) -> &str {
        let start = (span.start as usize).min(self.text.len());
        let end = (span.end as usize).clamp(start, self.text.len());
        self.text.get(start..end).unwrap_or("")
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(line).copied().unwrap_or(0) as usize;
        let end = (offset as usize).min(self.text.len());
        let col = self
            .text
            .get(start..end)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line + 1, col + 1)
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(&start) = self.line_starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line)
            .map(|&e| e as usize)
            .unwrap_or(self.text.len());
        self.text
            .get(start as usize..end)
            .unwrap_or("")
            .trim_end_matches(['\r', '\n'])
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let s = Source::new(None, "ab\r\ncd\ne".to_string());
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(5), (2, 2));
        assert_eq!(s.line_col(7), (3, 1));
        assert_eq!(s.line_text(2), "cd");
        assert_eq!(s.line_text(9), "");
    }
}
