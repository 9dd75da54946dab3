//! What the report prints: Pester 4's `-Show` flags (which may be
//! combined, `-Show Failed, Summary`) and Pester 5's `-Output` levels,
//! both read into one set of flags.

/// A set of the report's parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Show(u16);

impl Show {
    pub const NONE: Show = Show(0);
    pub const PASSED: Show = Show(1);
    pub const FAILED: Show = Show(1 << 1);
    pub const PENDING: Show = Show(1 << 2);
    pub const SKIPPED: Show = Show(1 << 3);
    pub const INCONCLUSIVE: Show = Show(1 << 4);
    pub const DESCRIBE: Show = Show(1 << 5);
    pub const CONTEXT: Show = Show(1 << 6);
    pub const SUMMARY: Show = Show(1 << 7);
    /// The lines naming the run, its store and each file.
    pub const HEADER: Show = Show(1 << 8);
    pub const ALL: Show = Show(0x1ff);
    /// Everything but the passed tests.
    pub const FAILS: Show = Show(Show::ALL.0 & !Show::PASSED.0);

    pub fn has(self, part: Show) -> bool {
        self.0 & part.0 != 0
    }

    /// Pester 4's `-Show` names.
    const SHOW_NAMES: &[(&str, Show)] = &[
        ("None", Show::NONE),
        ("Default", Show::ALL),
        ("Passed", Show::PASSED),
        ("Failed", Show::FAILED),
        ("Pending", Show::PENDING),
        ("Skipped", Show::SKIPPED),
        ("Inconclusive", Show::INCONCLUSIVE),
        ("Describe", Show::DESCRIBE),
        ("Context", Show::CONTEXT),
        ("Summary", Show::SUMMARY),
        ("Header", Show::HEADER),
        ("Fails", Show::FAILS),
        ("All", Show::ALL),
    ];

    /// Pester 5's `-Output` levels. Normal and Minimal list only the
    /// failed tests, as Pester 5 does.
    const OUTPUT_NAMES: &[(&str, Show)] = &[
        ("None", Show::NONE),
        ("Minimal", Show(Show::FAILED.0 | Show::SUMMARY.0)),
        (
            "Normal",
            Show(Show::FAILED.0 | Show::SUMMARY.0 | Show::HEADER.0),
        ),
        ("Detailed", Show::ALL),
        ("Diagnostic", Show::ALL),
    ];

    /// The union of `-Show` values; the message lists the valid ones.
    pub fn parse_show(values: &[String]) -> Result<Show, String> {
        Show::parse(values, Show::SHOW_NAMES, "Show")
    }

    /// One `-Output` level.
    pub fn parse_output(values: &[String]) -> Result<Show, String> {
        Show::parse(values, Show::OUTPUT_NAMES, "Output")
    }

    fn parse(values: &[String], names: &[(&str, Show)], param: &str) -> Result<Show, String> {
        let mut show = Show::NONE;
        for v in values.iter().flat_map(|v| v.split(',')) {
            let v = v.trim();
            let Some((_, part)) = names.iter().find(|(n, _)| n.eq_ignore_ascii_case(v)) else {
                let valid: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "Cannot validate argument on parameter '{param}'. The argument \"{v}\" does not belong to the set \"{}\".",
                    valid.join(",")
                ));
            };
            show = Show(show.0 | part.0);
        }
        Ok(show)
    }
}
