//! Format: a rule file in one canonical layout, comments kept.
//!
//! The layout:
//!
//! * the header (`ruleset NAME [extends NAME]`) on the first line of code,
//!   then one statement per line, each printed from the syntax tree with one
//!   space between words (conditions as [`Expr`]'s `Display` prints them);
//! * a blank line wherever the file had one or more between two statements
//!   or comments, none at the start or the end of the file, none inside a
//!   statement; the file ends with one line break;
//! * a comment on a line of its own stays on a line of its own, above the
//!   statement it precedes; a comment after code stays after that code.
//!   Trailing comments on consecutive lines are aligned, two spaces after the
//!   longest line of code that is at most [`MAX_WIDTH`] characters; a longer
//!   line keeps its comment two spaces after its code (aligning to it would
//!   pad every other line by as much, so the output could grow with the
//!   square of the input);
//! * a condition whose statement is longer than [`MAX_WIDTH`] characters,
//!   or that carries comments between its parts, is wrapped before each
//!   top-level `and`/`or`, each part on its own line indented by four spaces.
//!   A comment inside a part that cannot be wrapped moves to a line of its
//!   own above that part (above the statement, when the part is its first).
//!
//! Formatting is idempotent and never changes what the file means: the
//! formatted text is parsed again and compared with the original tree before
//! it is returned. A file that does not parse is refused rather than
//! formatted, since its broken statements would be lost.
//!
//! ```
//! use callassign::syntax::format::format_text;
//!
//! let messy = "ruleset demo   # the demo\nstep  call_agent unless direction==incoming\n\n\n\nfallback   integration\n";
//! let formatted = format_text("demo.rules", messy).unwrap();
//! assert_eq!(formatted, "ruleset demo  # the demo\nstep call_agent unless direction == incoming\n\nfallback integration\n");
//! assert_eq!(format_text("demo.rules", &formatted).unwrap(), formatted);
//! ```

use std::sync::Arc;

use crate::diagnostics::finding::Finding;
use crate::diagnostics::source::{Source, Span};
use crate::syntax::ast::{Anchor, Comment, Expr, Placement, RuleFile, Statement, StatementKind};
use crate::syntax::parse::parse;

/// Statements longer than this (in characters) have their condition wrapped.
pub const MAX_WIDTH: usize = 100;

/// Indentation of the continuation lines of a wrapped condition.
const CONTINUATION_INDENT: &str = "    ";

/// Why a file was not formatted.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The file does not parse; the findings say where.
    #[error("the file does not parse ({} findings)", .0.len())]
    Unparsable(Vec<Finding>),
    /// The formatted text would not read back as the same rules. A bug in
    /// the formatter; the file is left as it is.
    #[error("formatting would change the rules; this is a bug in callassign")]
    ChangedMeaning,
}

/// Formats rule text that is not in a file. `name` is what findings call it.
pub fn format_text(name: &str, text: &str) -> Result<String, FormatError> {
    format_source(&Arc::new(Source::new(name, text)))
}

/// Formats a rule file: its text in canonical layout.
pub fn format_source(source: &Arc<Source>) -> Result<String, FormatError> {
    let parsed = parse(source);
    let file = match parsed.file {
        Some(file) if parsed.findings.is_empty() => file,
        _ => return Err(FormatError::Unparsable(parsed.findings)),
    };
    let formatted = Layout::new(&source.text, &file).render();

    // The formatter proves itself: its output must read back as the same
    // tree with the same comments.
    let again = parse(&Arc::new(Source::new(
        source.name.clone(),
        formatted.as_str(),
    )));
    match again.file {
        Some(reformatted) if again.findings.is_empty() && same_rules(&file, &reformatted) => {
            Ok(formatted)
        }
        _ => Err(FormatError::ChangedMeaning),
    }
}

/// Same header, same statements, same comments (spans aside).
fn same_rules(a: &RuleFile, b: &RuleFile) -> bool {
    let comment_texts = |file: &RuleFile| {
        let mut texts: Vec<String> = file
            .comments
            .iter()
            .map(|comment| comment.text.trim_end().to_string())
            .collect();
        texts.sort();
        texts
    };
    a.name == b.name
        && a.extends == b.extends
        && a.statements == b.statements
        && comment_texts(a) == comment_texts(b)
}

/// One printed line of a statement: the header, a statement, or one part
/// of a wrapped condition.
#[derive(Debug)]
struct Part {
    /// Where the part is written in the original text.
    span: Span,
    text: String,
    /// Comments printed on lines of their own above this part.
    leading: Vec<Comment>,
    /// Comments written after code of this part, on the same line.
    trailing: Vec<Comment>,
}

/// The header or a statement.
#[derive(Debug)]
struct Item {
    span: Span,
    /// Whether a blank line separated it from what came before.
    blank_before: bool,
    /// Comments on lines of their own above it, each with its blank line flag.
    leading: Vec<(Comment, bool)>,
    /// Its first part starts with the keyword; more than one part only
    /// for a condition that can be wrapped at a top-level `and`/`or`.
    parts: Vec<Part>,
}

struct Layout<'a> {
    text: &'a str,
    items: Vec<Item>,
    /// Comments after the last statement.
    closing: Vec<(Comment, bool)>,
}

/// One line of output.
enum Line {
    Blank,
    Comment {
        indent: &'static str,
        text: String,
    },
    Code {
        text: String,
        comment: Option<String>,
    },
}

impl<'a> Layout<'a> {
    fn new(text: &'a str, file: &RuleFile) -> Layout<'a> {
        let mut items = Vec::with_capacity(file.statements.len() + 1);
        items.push(Item {
            span: file.header_span,
            blank_before: blank_line_before(text, file.header_span.start),
            leading: Vec::new(),
            parts: vec![Part::new(file.header_span, header_text(file))],
        });
        for statement in &file.statements {
            items.push(Item {
                span: statement.span,
                blank_before: blank_line_before(text, statement.span.start),
                leading: Vec::new(),
                parts: statement_parts(statement),
            });
        }
        let mut layout = Layout {
            text,
            items,
            closing: Vec::new(),
        };
        for comment in &file.comments {
            layout.place(comment.clone());
        }
        layout
    }

    /// Attaches a comment to the item and part it belongs to.
    fn place(&mut self, comment: Comment) {
        let at = comment.span.start;
        let blank = blank_line_before(self.text, at);
        // Items are in file order: the last one starting before the comment.
        let found = self.items.partition_point(|item| item.span.start <= at);
        let Some(index) = found.checked_sub(1) else {
            // Above the header.
            self.items[0].leading.push((comment, blank));
            return;
        };
        let own_line = self.text[..at]
            .rsplit('\n')
            .next()
            .is_none_or(|line| line.trim().is_empty());
        let item = &mut self.items[index];
        if !own_line {
            let part = item
                .parts
                .iter()
                .rposition(|part| part.span.start < at)
                .unwrap_or(0);
            item.parts[part].trailing.push(comment);
        } else if at >= item.span.end {
            match self.items.get_mut(index + 1) {
                Some(next) => next.leading.push((comment, blank)),
                None => self.closing.push((comment, blank)),
            }
        } else {
            let last = item.parts.len() - 1;
            let part = item
                .parts
                .iter()
                .position(|part| part.span.end > at)
                .unwrap_or(last);
            item.parts[part].leading.push(comment);
        }
    }

    fn render(mut self) -> String {
        let mut lines: Vec<Line> = Vec::new();
        let push_comment = |lines: &mut Vec<Line>, indent, comment: &Comment, blank: bool| {
            if blank && !lines.is_empty() {
                lines.push(Line::Blank);
            }
            lines.push(Line::Comment {
                indent,
                text: comment_text(comment),
            });
        };
        for item in &mut self.items {
            for part in &mut item.parts {
                part.settle_comments();
            }
            for (comment, blank) in &item.leading {
                push_comment(&mut lines, "", comment, *blank);
            }
            if item.blank_before && !lines.is_empty() {
                lines.push(Line::Blank);
            }
            let one_line: usize = item
                .parts
                .iter()
                .map(|part| part.text.chars().count() + 1)
                .sum::<usize>()
                - 1;
            let last = item.parts.len() - 1;
            let wrap = item.parts.len() > 1
                && (one_line > MAX_WIDTH
                    || item.parts[1..].iter().any(|part| !part.leading.is_empty())
                    || item.parts[..last]
                        .iter()
                        .any(|part| !part.trailing.is_empty()));
            if wrap {
                for (index, part) in item.parts.iter().enumerate() {
                    let indent = if index == 0 { "" } else { CONTINUATION_INDENT };
                    for comment in &part.leading {
                        push_comment(&mut lines, indent, comment, false);
                    }
                    lines.push(Line::Code {
                        text: format!("{indent}{}", part.text),
                        comment: part.trailing.last().map(comment_text),
                    });
                }
            } else {
                // Not wrapped: only the first part can have comments above
                // it, and only the last one a comment after it.
                for comment in &item.parts[0].leading {
                    push_comment(&mut lines, "", comment, false);
                }
                let text: Vec<&str> = item.parts.iter().map(|part| part.text.as_str()).collect();
                lines.push(Line::Code {
                    text: text.join(" "),
                    comment: item.parts[last].trailing.last().map(comment_text),
                });
            }
        }
        for (comment, blank) in &self.closing {
            push_comment(&mut lines, "", comment, *blank);
        }
        print_lines(&lines)
    }
}

impl Part {
    fn new(span: Span, text: String) -> Part {
        Part {
            span,
            text,
            leading: Vec::new(),
            trailing: Vec::new(),
        }
    }

    /// A printed part has one trailing comment at most: the others (from a
    /// part written over several lines) go on lines of their own above it.
    fn settle_comments(&mut self) {
        self.trailing.sort_by_key(|comment| comment.span.start);
        if self.trailing.len() > 1 {
            let keep = self.trailing.split_off(self.trailing.len() - 1);
            self.leading.append(&mut self.trailing);
            self.trailing = keep;
        }
        self.leading.sort_by_key(|comment| comment.span.start);
    }
}

/// Joins lines, aligning the trailing comments of consecutive lines.
fn print_lines(lines: &[Line]) -> String {
    let mut out = String::new();
    let mut index = 0;
    while index < lines.len() {
        match &lines[index] {
            Line::Blank => out.push('\n'),
            Line::Comment { indent, text } => {
                out.push_str(indent);
                out.push_str(text);
                out.push('\n');
            }
            Line::Code {
                text,
                comment: None,
            } => {
                out.push_str(text);
                out.push('\n');
            }
            Line::Code {
                comment: Some(_), ..
            } => {
                let run_end = lines[index..]
                    .iter()
                    .position(|line| {
                        !matches!(
                            line,
                            Line::Code {
                                comment: Some(_),
                                ..
                            }
                        )
                    })
                    .map_or(lines.len(), |offset| index + offset);
                let run = &lines[index..run_end];
                let width = run
                    .iter()
                    .map(|line| match line {
                        Line::Code { text, .. } => text.chars().count(),
                        _ => 0,
                    })
                    .filter(|&width| width <= MAX_WIDTH)
                    .max()
                    .unwrap_or(0);
                for line in run {
                    if let Line::Code {
                        text,
                        comment: Some(comment),
                    } = line
                    {
                        let pad = width.saturating_sub(text.chars().count()) + 2;
                        out.push_str(text);
                        out.push_str(&" ".repeat(pad));
                        out.push_str(comment);
                        out.push('\n');
                    }
                }
                index = run_end;
                continue;
            }
        }
        index += 1;
    }
    out
}

fn comment_text(comment: &Comment) -> String {
    format!("#{}", comment.text.trim_end())
}

/// Whether the white space right before `at` holds a blank line.
fn blank_line_before(text: &str, at: usize) -> bool {
    let before = &text[..at];
    let code_end = before.trim_end().len();
    code_end > 0 && before[code_end..].matches('\n').count() >= 2
}

fn header_text(file: &RuleFile) -> String {
    match &file.extends {
        Some(extends) => format!("ruleset {} extends {}", file.name.node, extends.node),
        None => format!("ruleset {}", file.name.node),
    }
}

/// A statement as printed: one part, or one per top-level `and`/`or`
/// operand of its condition.
fn statement_parts(statement: &Statement) -> Vec<Part> {
    let span = statement.span;
    let text = match &statement.kind {
        StatementKind::Step { step, guard: None } => format!("step {}", step.node),
        StatementKind::Step {
            step,
            guard: Some(guard),
        } => {
            let keyword = guard.kind.keyword();
            let (joiner, operands) = match &guard.condition.node {
                Expr::Or(operands) => ("or", operands),
                Expr::And(operands) => ("and", operands),
                condition => {
                    return vec![Part::new(
                        span,
                        format!("step {} {keyword} {condition}", step.node),
                    )]
                }
            };
            let Some((first, rest)) = operands.split_first() else {
                return vec![Part::new(span, format!("step {} {keyword}", step.node))];
            };
            let mut parts = vec![Part::new(
                Span::new(span.start, first.span.end),
                format!("step {} {keyword} {}", step.node, first.node),
            )];
            parts.extend(
                rest.iter()
                    .map(|operand| Part::new(operand.span, format!("{joiner} {}", operand.node))),
            );
            return parts;
        }
        StatementKind::Disable { step } => format!("disable {}", step.node),
        StatementKind::Move { step, placement } => {
            let anchor = |anchor: &Anchor| match anchor {
                Anchor::Step(step) => step.node.to_string(),
                Anchor::Fallback(_) => "fallback".to_string(),
            };
            let placement = match &placement.node {
                Placement::Before(target) => format!("before {}", anchor(target)),
                Placement::After(target) => format!("after {}", anchor(target)),
                Placement::First => "first".to_string(),
                Placement::Last => "last".to_string(),
            };
            format!("move {} {placement}", step.node)
        }
        StatementKind::Fallback { target } => format!("fallback {}", target.node),
    };
    vec![Part::new(span, text)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(text: &str) -> String {
        match format_text("t.rules", text) {
            Ok(formatted) => formatted,
            Err(error) => panic!("{error}: {text:?}"),
        }
    }

    /// Formats, and checks that formatting again changes nothing.
    fn format_stable(text: &str) -> String {
        let once = format(text);
        assert_eq!(format(&once), once, "not idempotent for {text:?}");
        once
    }

    #[test]
    fn canonical_layout_table() {
        let cases: &[(&str, &str)] = &[
            // One space between words, one statement per line.
            (
                "ruleset   a extends\n  default step call_agent disable favorite_agent\n",
                "ruleset a extends default\nstep call_agent\ndisable favorite_agent\n",
            ),
            // Conditions printed canonically; `not not` cancels out.
            (
                "ruleset a\nstep call_agent when not  not status in[missed,voicemail,]and(tags==[ ])\n",
                "ruleset a\nstep call_agent when status in [missed, voicemail] and (tags == [])\n",
            ),
            // Runs of blank lines collapse to one; none at the ends.
            (
                "\n\n# top\n\n\n\nruleset a\n\n\n\nstep call_agent\nfallback integration\n\n\n",
                "# top\n\nruleset a\n\nstep call_agent\nfallback integration\n",
            ),
            // Moves, fallbacks and users, strings re-escaped.
            (
                "ruleset a\nmove   user  \"x\\\"y@acme.com\"   before  fallback\nmove contact_owner after last_step_agent\nmove favorite_agent last\nfallback user \"ops@acme.com\"\n",
                "ruleset a\nmove user \"x\\\"y@acme.com\" before fallback\nmove contact_owner after last_step_agent\nmove favorite_agent last\nfallback user \"ops@acme.com\"\n",
            ),
            // Trailing comments on consecutive lines are aligned; trailing
            // white space inside comments is dropped; CRLF becomes LF.
            (
                "ruleset a\r\nstep last_step_agent # one   \r\nstep voicemail_email    # two\r\n\r\nstep contact_owner # three\r\n",
                "ruleset a\nstep last_step_agent  # one\nstep voicemail_email  # two\n\nstep contact_owner  # three\n",
            ),
            // Comments between the parts of a condition wrap it.
            (
                "ruleset a\nstep call_agent unless direction == incoming # in\n and status in [missed, voicemail] # not answered\n",
                "ruleset a\nstep call_agent unless direction == incoming  # in\n    and status in [missed, voicemail]         # not answered\n",
            ),
            // A comment inside an unbreakable condition moves above it.
            (
                "ruleset a\nstep call_agent when (status == missed # why\n or tags == []) # after\n",
                "ruleset a\n# why\nstep call_agent when (status == missed or tags == [])  # after\n",
            ),
            // Comments at the end of the file stay there.
            (
                "ruleset a\nfallback integration\n# the end\n\n# really\n",
                "ruleset a\nfallback integration\n# the end\n\n# really\n",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(&format_stable(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn a_line_too_long_to_align_to_keeps_its_comment_and_pads_no_other() {
        // Aligning to a 1,000-character line would pad every other line of
        // the run by as much: the output would grow with lines × longest.
        let long = format!("step user \"{}@acme.com\"", "u".repeat(1_000));
        let mut input = String::from("ruleset a\n");
        input.push_str(&format!("{long} # long\n"));
        for _ in 0..100 {
            input.push_str("step call_agent # short\n");
        }
        input.push_str("step last_step_agent # longer than the others\n");
        let formatted = format_stable(&input);
        let mut expected = String::from("ruleset a\n");
        expected.push_str(&format!("{long}  # long\n"));
        for _ in 0..100 {
            expected.push_str("step call_agent       # short\n");
        }
        expected.push_str("step last_step_agent  # longer than the others\n");
        assert_eq!(formatted, expected);
        assert!(formatted.len() <= input.len() + 102 * (MAX_WIDTH + 2));
    }

    #[test]
    fn long_conditions_wrap_at_the_top_level() {
        let input = "ruleset a\nstep call_agent when tags == [\"aaaaaaaaaaaaaaaa\", \"bbbbbbbbbbbbbbbbbbbb\"] or (status == missed and direction == incoming) or agent == null\n";
        assert_eq!(
            format_stable(input),
            "ruleset a\nstep call_agent when tags == [\"aaaaaaaaaaaaaaaa\", \"bbbbbbbbbbbbbbbbbbbb\"]\n    or (status == missed and direction == incoming)\n    or agent == null\n"
        );
    }

    #[test]
    fn a_file_that_does_not_parse_is_refused() {
        let error = format_text(
            "t.rules",
            "ruleset a\nstep call_agent when\nstep favorite_agent\n",
        )
        .unwrap_err();
        let FormatError::Unparsable(findings) = error else {
            panic!("expected findings, got {error:?}")
        };
        assert_eq!(findings.len(), 1);
        assert!(matches!(
            format_text("t.rules", "step x\n"),
            Err(FormatError::Unparsable(_))
        ));
        // A number too large to keep would be printed as something else.
        assert!(matches!(
            format_text(
                "t.rules",
                "ruleset a\nstep call_agent when duration > 99999999999999999999\n"
            ),
            Err(FormatError::Unparsable(_))
        ));
    }

    #[test]
    fn shipped_rules_are_formatted() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let paths = std::fs::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| {
                path.extension()
                    .is_some_and(|extension| extension == "rules")
            });
        for path in paths {
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(format(&text), text, "{} is not formatted", path.display());
        }
    }
}
