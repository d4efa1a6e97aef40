//! Parse: rule text → [`RuleFile`] syntax tree, or syntax findings.
//!
//! pest stops at the first error, so a file is parsed in *chunks*: a chunk
//! starts at every line that begins with a statement keyword (`step`,
//! `disable`, `move`, `fallback`). Those words are reserved and a string
//! cannot span lines, so such a line always starts a statement; a syntax
//! error costs only its own chunk and every broken statement is reported.
//!
//! Parentheses are the only recursion in the grammar. Their depth is
//! measured before pest sees a chunk (pest recurses on the machine stack,
//! see pest-parser/pest#1129), and a chunk nested deeper than
//! [`MAX_NESTING`] gets a finding instead of a parse.

mod errors;
mod lower;
mod prescan;

use std::sync::Arc;

use pest::Parser as _;

use crate::diagnostics::finding::Finding;
use crate::diagnostics::kind::FindingKind;
use crate::diagnostics::source::{Source, Span};
use crate::syntax::ast::*;

use errors::syntax_finding;
use lower::Lowering;
use prescan::{chunk_starts, comments, too_deep_at};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/callassign.pest"]
struct Grammar;

/// Whether the grammar takes `text` as a name (a ruleset's, a step
/// kind's): a letter or `_`, then letters, digits, `_` and `-`, and no
/// keyword. Help that suggests a name asks this first.
///
/// ```
/// use callassign::syntax::parse::is_name;
///
/// assert!(is_name("hubspot_v2"));
/// assert!(!is_name("hubspot.v2"));
/// assert!(!is_name("2hubspot"));
/// assert!(!is_name("step"));
/// ```
pub fn is_name(text: &str) -> bool {
    use pest::Parser as _;
    Grammar::parse(Rule::name, text)
        .ok()
        .and_then(|mut pairs| pairs.next())
        .is_some_and(|pair| pair.as_str().len() == text.len())
}

/// Every `#` comment of a rule file's text that is outside a string, in
/// file order, whether or not the rest of the file parses.
pub fn comments_of(text: &str) -> Vec<crate::syntax::ast::Comment> {
    comments(text)
}

/// How deeply parentheses may nest in a condition.
pub const MAX_NESTING: usize = 32;

/// What parsing a file gives: the tree when the header parsed, with the
/// statements that parsed, and a finding for every chunk that did not.
#[derive(Debug)]
pub struct Parsed {
    pub file: Option<RuleFile>,
    pub findings: Vec<Finding>,
}

/// Parses one rule file.
///
/// ```
/// use std::sync::Arc;
/// use callassign::{syntax::parse::parse, diagnostics::source::Source};
///
/// let source = Arc::new(Source::new("demo.rules", "ruleset demo\nstep call_agent\nfallback unassigned\n"));
/// let parsed = parse(&source);
/// assert!(parsed.findings.is_empty());
/// assert_eq!(parsed.file.unwrap().statements.len(), 2);
/// ```
pub fn parse(source: &Arc<Source>) -> Parsed {
    let text: &str = &source.text;
    let starts = chunk_starts(text);
    let mut findings = Vec::new();
    let mut file: Option<RuleFile> = None;
    let mut statements = Vec::new();

    for (index, &start) in starts.iter().enumerate() {
        let end = starts.get(index + 1).copied().unwrap_or(text.len());
        let chunk = &text[start..end];
        if let Some(offset) = too_deep_at(chunk) {
            let at = start + offset;
            findings.push(Finding::new(
                FindingKind::NestingTooDeep { limit: MAX_NESTING },
                source,
                Span::new(at, at + 1),
            ));
            continue;
        }
        let rule = if index == 0 {
            Rule::file
        } else {
            Rule::statements
        };
        match Grammar::parse(rule, chunk) {
            Ok(mut pairs) => {
                let root = pairs.next().expect("a successful parse has a root pair");
                let lowering = Lowering {
                    source,
                    offset: start,
                    findings: &mut findings,
                };
                if index == 0 {
                    let (name, extends, header_span, chunk_statements) = lowering.file(root);
                    file = Some(RuleFile {
                        name,
                        extends,
                        header_span,
                        statements: Vec::new(),
                        comments: Vec::new(),
                    });
                    statements.extend(chunk_statements);
                } else {
                    statements.extend(lowering.statements(root));
                }
            }
            Err(error) => findings.push(syntax_finding(source, start, end, &error)),
        }
    }

    let file = file.map(|mut file| {
        file.statements = statements;
        file.comments = comments(text);
        file
    });
    Parsed { file, findings }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Parsed {
        parse(&Arc::new(Source::new("t.rules", text)))
    }

    #[test]
    fn header_and_statements() {
        let parsed = parse_text("ruleset pipedrive extends default\nmove contact_owner before last_step_agent\nstep user \"ops@acme.com\" when \"vip\" in tags\nmove user \"ops@acme.com\" first\n");
        assert!(parsed.findings.is_empty(), "{:?}", parsed.findings);
        let file = parsed.file.unwrap();
        assert_eq!(file.name.node, "pipedrive");
        assert_eq!(file.extends.unwrap().node, "default");
        assert_eq!(file.statements.len(), 3);
    }

    #[test]
    fn conditions_may_wrap_over_lines() {
        let parsed = parse_text("ruleset a\nstep call_agent unless direction == incoming\n   and status in [missed, voicemail]\nfallback integration\n");
        assert!(parsed.findings.is_empty(), "{:?}", parsed.findings);
        assert_eq!(parsed.file.unwrap().statements.len(), 2);
    }

    #[test]
    fn every_broken_statement_is_reported() {
        let parsed = parse_text("ruleset a\nstep call_agent when\nstep favorite_agent when status ==\nfallback integration\n");
        assert_eq!(parsed.findings.len(), 2, "{:?}", parsed.findings);
        // The statements that did parse are kept.
        assert_eq!(parsed.file.unwrap().statements.len(), 1);
    }

    #[test]
    fn even_runs_of_not_cancel_out() {
        let text = format!(
            "ruleset a\nstep call_agent when {} status == missed\n",
            "not ".repeat(10_000)
        );
        let parsed = parse_text(&text);
        let file = parsed.file.unwrap();
        let StatementKind::Step {
            guard: Some(guard), ..
        } = &file.statements[0].kind
        else {
            panic!()
        };
        assert!(matches!(guard.condition.node, Expr::Compare { .. }));
    }

    #[test]
    fn deep_nesting_is_a_finding_not_a_crash() {
        let text = format!(
            "ruleset a\nstep call_agent when {}status == missed{}\nfallback integration\n",
            "(".repeat(100_000),
            ")".repeat(100_000)
        );
        let parsed = parse_text(&text);
        assert_eq!(parsed.findings.len(), 1);
        assert_eq!(
            parsed.findings[0].code(),
            crate::diagnostics::finding::Code::NestingTooDeep
        );
        assert_eq!(parsed.file.unwrap().statements.len(), 1);
    }

    #[test]
    fn statement_spans_end_at_their_last_token() {
        let text = "ruleset a # name\n\nstep call_agent # why\n\nstep favorite_agent when tags == [] # when\nfallback integration\n";
        let parsed = parse_text(text);
        let file = parsed.file.unwrap();
        assert_eq!(&text[file.header_span.range()], "ruleset a");
        let spans: Vec<&str> = file
            .statements
            .iter()
            .map(|statement| &text[statement.span.range()])
            .collect();
        assert_eq!(
            spans,
            [
                "step call_agent",
                "step favorite_agent when tags == []",
                "fallback integration"
            ]
        );
    }

    #[test]
    fn comments_outside_strings_are_collected() {
        let parsed = parse_text("# top\nruleset a # name\nstep user \"a#b@x.com\" # who\n");
        let texts: Vec<_> = parsed
            .file
            .unwrap()
            .comments
            .into_iter()
            .map(|c| c.text)
            .collect();
        assert_eq!(texts, [" top", " name", " who"]);
    }
}
