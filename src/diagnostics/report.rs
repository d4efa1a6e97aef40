//! Report: findings rendered for people (miette's graphical report, with
//! the `fancy` feature), for programs (JSON), for GitHub Actions (workflow
//! annotations) and for code-scanning tools (SARIF).

use std::fmt::Write as _;

use serde::Serialize;

use crate::diagnostics::finding::{Finding, Severity};

/// Options for the human report.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Whether to colour the output (a terminal that wants it).
    pub color: bool,
    /// The width to wrap at, in columns.
    pub width: usize,
}

impl Style {
    /// No colour and a fixed width: what tests snapshot.
    pub const PLAIN: Style = Style {
        color: false,
        width: 100,
    };
}

/// One finding as a miette report: the message, the source around the span
/// with its label, and the help line. A finding on a line too long to draw
/// is reported with its position instead of the source.
#[cfg(feature = "fancy")]
pub fn human(finding: &Finding, style: Style) -> String {
    use miette::{GraphicalReportHandler, GraphicalTheme};

    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let mut out = String::new();
    handler
        .render_report(&mut out, finding)
        .expect("rendering to a String cannot fail");
    if !finding.source_is_showable() {
        let (line, column) = finding.line_col();
        let _ = writeln!(
            out,
            "  at {}:{line}:{column} (the line is too long to show)",
            finding.file()
        );
    }
    out
}

/// How many findings of one code are rendered in full per file; the rest
/// are counted in one line. Past that, more of the same teaches nothing,
/// and 40,000 boxed reports scroll the first one away.
pub const SHOWN_PER_CODE: usize = 10;

/// The findings as human reports, in order, with at most
/// [`SHOWN_PER_CODE`] of one code per file, then one `… and N more` line
/// per code and file it cut. `findings` are sorted.
#[cfg(feature = "fancy")]
pub fn human_capped(findings: &[Finding], style: Style) -> Vec<String> {
    use std::collections::HashMap;

    use crate::diagnostics::finding::Code;
    use crate::diagnostics::terminal::printable;
    use crate::diagnostics::terminal::thousands;

    let mut seen: HashMap<(&str, Code), u64> = HashMap::new();
    let mut blocks = Vec::new();
    for finding in findings {
        let count = seen.entry((finding.file(), finding.code())).or_default();
        *count += 1;
        if *count <= SHOWN_PER_CODE as u64 {
            blocks.push(human(finding, style));
        }
    }
    let mut cut: Vec<((&str, Code), u64)> = seen
        .into_iter()
        .filter(|(_, count)| *count > SHOWN_PER_CODE as u64)
        .collect();
    cut.sort();
    for ((file, code), count) in cut {
        blocks.push(format!(
            "… and {} more `{code}` in `{}`\n",
            thousands(count - SHOWN_PER_CODE as u64),
            printable(file)
        ));
    }
    blocks
}

/// A finding as JSON reports carry it.
#[derive(Debug, Serialize)]
pub struct JsonFinding<'a> {
    /// The finding's code (`callassign::unknown_step`).
    pub code: &'static str,
    /// `error` or `warning`.
    pub severity: &'static str,
    /// The file, as reports name it.
    pub file: &'a str,
    /// 1-based line of the span's start.
    pub line: usize,
    /// 1-based column (in characters) of the span's start.
    pub column: usize,
    /// 1-based line of the span's end.
    pub end_line: usize,
    /// 1-based column of the span's end.
    pub end_column: usize,
    /// One line, lowercase.
    pub message: &'a str,
    /// What the span is.
    pub label: &'a str,
    /// How to fix it.
    pub help: Option<&'a str>,
}

impl<'a> From<&'a Finding> for JsonFinding<'a> {
    fn from(finding: &'a Finding) -> Self {
        let (line, column) = finding.line_col();
        let (end_line, end_column) = finding.source().line_col(finding.span().end);
        JsonFinding {
            code: finding.code().as_str(),
            severity: finding.severity().as_str(),
            file: finding.file(),
            line,
            column,
            end_line,
            end_column,
            message: finding.message(),
            label: finding.label(),
            help: finding.help(),
        }
    }
}

/// All findings as one JSON array.
pub fn json(findings: &[Finding]) -> String {
    let findings: Vec<JsonFinding<'_>> = findings.iter().map(JsonFinding::from).collect();
    serde_json::to_string_pretty(&findings).expect("findings serialize")
}

/// One GitHub Actions workflow command per finding:
/// `::error file=…,line=…,col=…,title=…::message`.
pub fn github(finding: &Finding) -> String {
    let (line, column) = finding.line_col();
    let (end_line, end_column) = finding.source().line_col(finding.span().end);
    let command = match finding.severity() {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut message = finding.message().to_string();
    if let Some(help) = finding.help() {
        let _ = write!(message, "\nhelp: {help}");
    }
    format!(
        "::{command} file={},line={line},col={column},endLine={end_line},endColumn={end_column},title={}::{}",
        escape_property(finding.file()),
        escape_property(finding.code().as_str()),
        escape_data(&message)
    )
}

/// All findings as one SARIF 2.1.0 log, for code-scanning upload
/// (`github/codeql-action/upload-sarif`). Every code is listed as a rule,
/// so a viewer can show the rules a clean run checked too.
pub fn sarif(findings: &[Finding]) -> String {
    use crate::diagnostics::finding::Code;
    let level = |severity: Severity| match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let rules: Vec<serde_json::Value> = Code::ALL
        .iter()
        .map(|code| {
            serde_json::json!({
                "id": code.as_str(),
                "name": code.as_str().trim_start_matches("callassign::"),
                "defaultConfiguration": {"level": level(code.severity())},
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|finding| {
            let (line, column) = finding.line_col();
            let (end_line, end_column) = finding.source().line_col(finding.span().end);
            let mut text = finding.message().to_string();
            if let Some(help) = finding.help() {
                let _ = write!(text, "\nhelp: {help}");
            }
            serde_json::json!({
                "ruleId": finding.code().as_str(),
                "ruleIndex": Code::ALL.iter().position(|code| *code == finding.code()),
                "level": level(finding.severity()),
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": file_uri(finding.file())},
                        "region": {
                            "startLine": line,
                            "startColumn": column,
                            "endLine": end_line,
                            "endColumn": end_column,
                        },
                    },
                }],
            })
        })
        .collect();
    let log = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "callassign",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            // Columns count characters, as in every other report.
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&log).expect("a SARIF log serializes")
}

/// A file path as a relative URI reference: forward slashes, and the
/// characters a URI cannot hold percent-encoded.
fn file_uri(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for byte in path.replace('\\', "/").bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/:@!$&'()*+,;=".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            let _ = write!(uri, "%{byte:02X}");
        }
    }
    uri
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// `2 errors, 1 warning` (or `no problems`).
pub fn summary(findings: &[Finding]) -> String {
    let errors = findings.iter().filter(|f| f.is_error()).count();
    let warnings = findings.len() - errors;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, 0) => "no problems".to_string(),
        (e, 0) => plural(e, "error"),
        (0, w) => plural(w, "warning"),
        (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    }
}
