//! Report: findings rendered for people (miette), for programs (JSON) and
//! for GitHub Actions (workflow annotations).

use std::fmt::{self, Write as _};

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};
use serde::Serialize;

use crate::diagnostics::finding::{Finding, Severity};

/// How findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Github,
}

/// Options for the human report.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

impl Style {
    /// No colour and a fixed width: what tests snapshot.
    pub const PLAIN: Style = Style {
        color: false,
        width: 100,
    };
}

/// A finding as miette sees it.
struct Report<'a> {
    finding: &'a Finding,
    /// `None` when the lines around the span are too long to show.
    source: Option<NamedSource<std::sync::Arc<str>>>,
}

/// Longest line shown under a finding, in characters. miette cannot draw a
/// label past column 65,535 (it panics), and nobody reads such a line on a
/// terminal anyway.
const MAX_SHOWN_LINE: usize = 4096;

/// The longest line, in characters, from the line before the span to the
/// line after it: the lines miette would draw.
fn longest_shown_line(finding: &Finding) -> usize {
    let source = &finding.source;
    let first = source.line(finding.span.start).saturating_sub(1).max(1);
    let last = source.line(finding.span.end) + 1;
    (first..=last)
        .filter_map(|line| source.line_text(line))
        .map(|text| text.chars().count())
        .max()
        .unwrap_or(0)
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl std::error::Error for Report<'_> {}

impl Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.finding.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.finding
            .help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|source| source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let label = (!self.finding.label.is_empty()).then(|| self.finding.label.clone());
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            label,
            self.finding.span,
        ))))
    }
}

/// One finding as a miette report: the message, the source around the span
/// with its label, and the help line.
pub fn human(finding: &Finding, style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let too_long = longest_shown_line(finding) > MAX_SHOWN_LINE;
    let report = Report {
        finding,
        source: (!too_long).then(|| {
            NamedSource::new(
                &finding.source.name,
                std::sync::Arc::clone(&finding.source.text),
            )
        }),
    };
    let mut out = String::new();
    handler
        .render_report(&mut out, &report)
        .expect("rendering to a String cannot fail");
    if too_long {
        let (line, column) = finding.line_col();
        let _ = writeln!(
            out,
            "  at {}:{line}:{column} (the line is too long to show)",
            finding.file()
        );
    }
    out
}

/// A finding as JSON reports carry it.
#[derive(Debug, Serialize)]
pub struct JsonFinding<'a> {
    pub code: &'static str,
    pub severity: &'static str,
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub message: &'a str,
    pub label: &'a str,
    pub help: Option<&'a str>,
}

impl<'a> From<&'a Finding> for JsonFinding<'a> {
    fn from(finding: &'a Finding) -> Self {
        let (line, column) = finding.line_col();
        let (end_line, end_column) = finding.source.line_col(finding.span.end);
        JsonFinding {
            code: finding.code.as_str(),
            severity: finding.severity.as_str(),
            file: finding.file(),
            line,
            column,
            end_line,
            end_column,
            message: &finding.message,
            label: &finding.label,
            help: finding.help.as_deref(),
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
    let (end_line, end_column) = finding.source.line_col(finding.span.end);
    let command = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut message = finding.message.clone();
    if let Some(help) = &finding.help {
        let _ = write!(message, "\nhelp: {help}");
    }
    format!(
        "::{command} file={},line={line},col={column},endLine={end_line},endColumn={end_column},title={}::{}",
        escape_property(finding.file()),
        escape_property(finding.code.as_str()),
        escape_data(&message)
    )
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
