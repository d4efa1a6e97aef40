//! Accepting a warning on one line, as `# noqa` does for ruff and
//! `# regal ignore` for Regal: a comment `# callassign: allow CODE` after
//! a statement accepts that warning on its line; on a line of its own, on
//! the next line that holds a statement. Several codes are separated by
//! commas; `callassign::` may be left out; text after ` -- ` is a reason
//! for the reader.
//!
//! ```text
//! step user "pаypal@acme.com"   # callassign: allow mixed_script_address -- the vendor's own spelling
//! ```
//!
//! Only warnings can be accepted (a rule file with errors has no plan). An
//! allow comment that names no warning is itself a warning
//! (`callassign::unknown_allow`), and so is one that accepts nothing on its
//! line (`callassign::unused_allow`), so they do not outlive their reason.

use std::sync::Arc;

use crate::diagnostics::finding::{Code, Finding, Severity};
use crate::diagnostics::kind::FindingKind;
use crate::diagnostics::source::{Source, Span};
use crate::diagnostics::suggest::did_you_mean;

/// What starts an allow comment, after `#`.
pub const DIRECTIVE: &str = "callassign:";

/// Which findings a run could give, so that an allow comment for a code
/// the run could not have found is neither used nor unused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Findings of the rule files alone: every code but those found
    /// against a context. Also reports allow comments that name no
    /// warning.
    Rules,
    /// Findings against a context (`check --context`).
    Context,
}

impl Scope {
    fn covers(self, code: Code) -> bool {
        let context = matches!(code, Code::UserNotInContext | Code::IntegrationMismatch);
        match self {
            Scope::Rules => !context,
            Scope::Context => context,
        }
    }
}

/// One code of an allow comment.
#[derive(Debug, Clone)]
struct Allowed {
    code: Code,
    /// The code as written, in the comment.
    span: Span,
    /// The 1-based line whose warning it accepts.
    line: usize,
    used: bool,
    /// What deletes the whole comment, when this is its only code.
    whole: Option<Span>,
}

/// The allow comments of a source: the codes they accept, and findings
/// for what they name that is no warning.
fn read(source: &Arc<Source>) -> (Vec<Allowed>, Vec<Finding>) {
    let text: &str = &source.text;
    let mut allowed = Vec::new();
    let mut problems = Vec::new();
    if !text.contains(DIRECTIVE) {
        return (allowed, problems);
    }
    for comment in crate::syntax::parse::comments_of(text) {
        let body = comment.text.trim_start();
        let Some(rest) = body.strip_prefix(DIRECTIVE) else {
            continue;
        };
        // Where `rest` starts in the file: after `#` and the directive.
        let rest_at = comment.span.start + 1 + (comment.text.len() - body.len()) + DIRECTIVE.len();
        let line = target_line(source, comment.span.start);
        let trimmed = rest.trim_start();
        let words_at = rest_at + (rest.len() - trimmed.len());
        let Some(codes) = trimmed
            .strip_prefix("allow")
            .filter(|codes| codes.is_empty() || codes.starts_with(char::is_whitespace))
        else {
            let written = trimmed.split_whitespace().next().unwrap_or("").to_string();
            let span = Span::new(words_at, words_at + written.len());
            problems.push(Finding::new(
                FindingKind::UnknownAllow {
                    written: format!("{DIRECTIVE} {written}"),
                    suggestion: None,
                    error: false,
                },
                source,
                span,
            ));
            continue;
        };
        let codes_at = words_at + "allow".len();
        let first_allowed = allowed.len();
        // A reason after ` -- ` is for the reader.
        let codes = codes.split(" -- ").next().unwrap_or("");
        let mut offset = 0;
        for piece in codes.split(',') {
            let start = codes_at + offset + (piece.len() - piece.trim_start().len());
            offset += piece.len() + 1;
            for word in piece.split_whitespace() {
                let at = start + piece.trim_start().find(word).unwrap_or(0);
                let span = Span::new(at, at + word.len());
                match Code::from_written(word) {
                    Some(code) if Code::allowable().any(|allowable| allowable == code) => allowed
                        .push(Allowed {
                            code,
                            span,
                            line,
                            used: false,
                            whole: None,
                        }),
                    found => {
                        let error = found.is_some_and(|code| code.severity() == Severity::Error);
                        let suggestion = (!error)
                            .then(|| {
                                did_you_mean(
                                    word.strip_prefix("callassign::").unwrap_or(word),
                                    Code::allowable().map(Code::short),
                                )
                            })
                            .flatten();
                        problems.push(Finding::new(
                            FindingKind::UnknownAllow {
                                written: word.to_string(),
                                suggestion,
                                error,
                            },
                            source,
                            span,
                        ));
                    }
                }
            }
        }
        if allowed.len() == first_allowed + 1 {
            allowed[first_allowed].whole = Some(comment_removal(text, comment.span));
        }
    }
    (allowed, problems)
}

/// What to delete to remove a comment: with the spaces before it after a
/// statement, or its whole line when it stands alone.
fn comment_removal(text: &str, comment: Span) -> Span {
    let line_start = text[..comment.start].rfind('\n').map_or(0, |at| at + 1);
    let before = &text[line_start..comment.start];
    if before.trim().is_empty() {
        let end = text[comment.end..]
            .find('\n')
            .map_or(text.len(), |at| comment.end + at + 1);
        Span::new(line_start, end)
    } else {
        let start = comment.start - (before.len() - before.trim_end().len());
        Span::new(start, comment.end)
    }
}

/// The line a comment starting at `at` speaks of: its own, after a
/// statement; else the next line that is neither blank nor a comment.
fn target_line(source: &Source, at: usize) -> usize {
    let line = source.line(at);
    let before = source
        .line_text(line)
        .map_or("", |text| &text[..text.find('#').unwrap_or(0)]);
    if !before.trim().is_empty() {
        return line;
    }
    let mut next = line + 1;
    while let Some(text) = source.line_text(next) {
        let text = text.trim();
        if !text.is_empty() && !text.starts_with('#') {
            return next;
        }
        next += 1;
    }
    line
}

/// Drops the warnings that an allow comment of their line accepts, among
/// the findings of the codes `scope` covers, and adds a finding for each
/// allow of such a code that accepted nothing (only when no finding is an
/// error: a file in error is not fully checked). With [`Scope::Rules`],
/// allow comments that name no warning are findings too. `sources` are
/// the files checked; findings about other files are left as they are.
pub fn apply(sources: &[Arc<Source>], findings: &mut Vec<Finding>, scope: Scope) {
    let complete = !findings.iter().any(Finding::is_error);
    let mut added = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for source in sources {
        // A base file reached through several chains is read once.
        if seen.contains(&source.name.as_str()) {
            continue;
        }
        seen.push(&source.name);
        let (mut allowed, problems) = read(source);
        if scope == Scope::Rules {
            added.extend(problems);
        }
        allowed.retain(|allow| scope.covers(allow.code));
        if allowed.is_empty() {
            continue;
        }
        findings.retain(|finding| {
            if finding.severity() != Severity::Warning || finding.source().name != source.name {
                return true;
            }
            let line = finding.source().line(finding.span().start);
            let mut accepted = false;
            for allow in allowed
                .iter_mut()
                .filter(|allow| allow.code == finding.code() && allow.line == line)
            {
                allow.used = true;
                accepted = true;
            }
            !accepted
        });
        if complete {
            added.extend(allowed.iter().filter(|allow| !allow.used).map(|allow| {
                let finding = Finding::new(
                    FindingKind::UnusedAllow {
                        code: allow.code.as_str(),
                    },
                    source,
                    allow.span,
                );
                match allow.whole {
                    Some(whole) => finding.suggest(whole, "", "remove the allow comment"),
                    // One code of several: its own removal would leave a
                    // comma; the help says what to do.
                    None => finding,
                }
            }));
        }
    }
    findings.extend(added);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(findings: &[Finding]) -> Vec<(String, usize)> {
        findings
            .iter()
            .map(|finding| {
                (
                    finding.code().short().to_string(),
                    finding.source().line(finding.span().start),
                )
            })
            .collect()
    }

    fn compiled(text: &str) -> Vec<Finding> {
        crate::compile_text("a.rules", text).findings
    }

    #[test]
    fn an_allow_accepts_its_line_or_the_next_statement() {
        let table: &[(&str, &[(&str, usize)])] = &[
            // Not allowed: the warning stays.
            (
                "ruleset a\nfallback unassigned\nstep call_agent\n",
                &[("unreachable_step", 3)],
            ),
            // After the statement.
            (
                "ruleset a\nfallback unassigned\nstep call_agent  # callassign: allow unreachable_step\n",
                &[],
            ),
            // On the line before, a comment line between, full code, reason.
            (
                "ruleset a\nfallback unassigned\n# callassign: allow callassign::unreachable_step -- kept for later\n# why\nstep call_agent\n",
                &[],
            ),
            // Allowing something else: the warning stays, the allow is unused.
            (
                "ruleset a\nfallback unassigned\nstep call_agent  # callassign: allow mixed_script_address\n",
                &[("unreachable_step", 3), ("unused_allow", 3)],
            ),
            // Two codes, one used.
            (
                "ruleset a\nfallback unassigned\nstep call_agent  # callassign: allow unreachable_step, unknown_flow_step_type\n",
                &[("unused_allow", 3)],
            ),
            // Unknown, misspelt, an error code, not `allow`.
            (
                "ruleset a\nfallback unassigned  # callassign: allow unreachable_stp\n",
                &[("unknown_allow", 2)],
            ),
            (
                "ruleset a\nfallback unassigned  # callassign: allow unknown_step\n",
                &[("unknown_allow", 2)],
            ),
            (
                "ruleset a\nfallback unassigned  # callassign: ignore unreachable_step\n",
                &[("unknown_allow", 2)],
            ),
            // Inside a string it is no comment.
            (
                "ruleset a\nfallback unassigned\nstep call_agent when \"# callassign: allow unreachable_step\" in tags\n",
                &[("unreachable_step", 3)],
            ),
        ];
        for (text, expected) in table {
            let found = codes(&compiled(text));
            let expected: Vec<(String, usize)> = expected
                .iter()
                .map(|(code, line)| (code.to_string(), *line))
                .collect();
            assert_eq!(found, expected, "{text}");
        }
        let unused = compiled("ruleset a\nstep call_agent  # callassign: allow unreachable_step\nfallback unassigned\n");
        let fix = &unused[0].suggestions()[0];
        assert_eq!(
            &unused[0].source().text[fix.span.start..fix.span.end],
            "  # callassign: allow unreachable_step"
        );
        let alone = compiled("ruleset a\n# callassign: allow unreachable_step\nstep call_agent\nfallback unassigned\n");
        let fix = &alone[0].suggestions()[0];
        assert_eq!(
            &alone[0].source().text[fix.span.start..fix.span.end],
            "# callassign: allow unreachable_step\n"
        );
        let misspelt =
            compiled("ruleset a\nfallback unassigned  # callassign: allow unreachable_stp\n");
        assert_eq!(misspelt[0].help(), Some("did you mean `unreachable_step`?"));
        assert_eq!(
            &misspelt[0].source().text[misspelt[0].span().start..misspelt[0].span().end],
            "unreachable_stp"
        );
    }

    #[test]
    fn an_unused_allow_is_not_reported_while_the_file_has_errors() {
        let found = compiled("ruleset a\nstep call_agnet  # callassign: allow unreachable_step\n");
        assert!(
            found
                .iter()
                .all(|finding| finding.code() != Code::UnusedAllow),
            "{found:?}"
        );
    }
}
