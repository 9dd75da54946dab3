//! Tables: columns sized to their content, numbers right-aligned, headers
//! underlined with dashes as long as the header text.

use unicode_width::UnicodeWidthStr;

use super::text::{cell_text, right_aligned};
use crate::runtime::value::Value;

pub struct Column {
    pub header: String,
    /// A fixed width (the hashtable view's Name column is 30).
    pub width: Option<usize>,
    /// Forced alignment; by default the first row's value decides.
    pub right: Option<bool>,
}

pub struct TableSpec {
    pub columns: Vec<Column>,
    pub autosize: bool,
    /// The output width; columns that do not fit are cut with `…`.
    pub width: usize,
    /// Widths decided by an earlier batch of the same table.
    pub fixed: Option<Vec<usize>>,
    pub headers: bool,
}

/// Truncates text to a display width, marking the cut with `…`.
pub fn fit(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw + 1 > width {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

fn pad(s: &str, width: usize, right: bool) -> String {
    let n = width.saturating_sub(s.width());
    if right {
        format!("{}{s}", " ".repeat(n))
    } else {
        format!("{s}{}", " ".repeat(n))
    }
}

/// Lays out rows; returns the lines and the column widths used.
pub fn render_table(spec: &TableSpec, rows: &[Vec<Value>]) -> (Vec<String>, Vec<usize>) {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| cell_text(v).lines().next().unwrap_or("").to_string())
                .collect()
        })
        .collect();
    let ncols = spec.columns.len();
    let right: Vec<bool> = (0..ncols)
        .map(|i| {
            // As pwsh: the first object decides, numbers, Booleans,
            // dates and characters to the right, the rest to the left.
            spec.columns[i].right.unwrap_or_else(|| {
                rows.first()
                    .and_then(|r| r.get(i))
                    .is_some_and(right_aligned)
            })
        })
        .collect();
    let mut widths: Vec<usize> = match &spec.fixed {
        Some(w) => w.clone(),
        None => (0..ncols)
            .map(|i| {
                spec.columns[i].width.unwrap_or_else(|| {
                    let content = cells
                        .iter()
                        .map(|r| r.get(i).map(|c| c.width()).unwrap_or(0))
                        .max()
                        .unwrap_or(0);
                    content.max(spec.columns[i].header.width())
                })
            })
            .collect(),
    };
    // Fit the table into the output width: shrink from the right.
    let total = |w: &[usize]| w.iter().sum::<usize>() + w.len().saturating_sub(1);
    if spec.fixed.is_none() {
        while total(&widths) > spec.width.saturating_sub(1) && !widths.is_empty() {
            let overflow = total(&widths) - spec.width.saturating_sub(1);
            let last = widths.len() - 1;
            let min = spec.columns[last].header.width().clamp(1, 10);
            if widths[last] > min {
                let cut = overflow.min(widths[last] - min);
                widths[last] -= cut;
            } else if widths.len() > 1 {
                widths.pop();
            } else {
                break;
            }
        }
    }
    let shown = widths.len();
    let mut lines = Vec::new();
    let join = |parts: Vec<String>| parts.join(" ").trim_end().to_string();
    if spec.headers {
        lines.push(join(
            (0..shown)
                .map(|i| {
                    pad(
                        &fit(&spec.columns[i].header, widths[i]),
                        widths[i],
                        right[i],
                    )
                })
                .collect(),
        ));
        lines.push(join(
            (0..shown)
                .map(|i| {
                    let dashes = "-".repeat(spec.columns[i].header.width().min(widths[i]));
                    pad(&dashes, widths[i], right[i])
                })
                .collect(),
        ));
    }
    for r in &cells {
        lines.push(join(
            (0..shown)
                .map(|i| {
                    let c = r.get(i).map(|s| s.as_str()).unwrap_or("");
                    pad(&fit(c, widths[i]), widths[i], right[i])
                })
                .collect(),
        ));
    }
    (lines, widths)
}
