//! Fixes: the edits findings suggest, applied to a file's text, as an
//! editor's quick fixes apply them one at a time (`check --fix`).
//!
//! Only a finding with exactly one suggestion is fixed: one suggestion is
//! the fix, several are choices (two steps that a misspelt name is as near
//! to) that a person makes. Edits that overlap are left for the next round.

use crate::diagnostics::finding::Finding;
use crate::diagnostics::source::Span;

/// The text with the fixes of `findings` applied (those about this text,
/// with exactly one suggestion, that do not overlap an earlier one), and
/// how many were applied. `findings` about other files are skipped.
///
/// ```
/// use callassign::diagnostics::fix::apply;
///
/// let text = "ruleset demo\nstep favourite_agent\nstep user \"a@b.c\" when status = missed\nfallback integration\n";
/// let findings = callassign::compile_text("demo.rules", text).findings;
/// let (fixed, count) = apply(text, "demo.rules", &findings);
/// assert_eq!(count, 2);
/// assert_eq!(fixed, "ruleset demo\nstep favorite_agent\nstep user \"a@b.c\" when status == missed\nfallback integration\n");
/// assert!(callassign::compile_text("demo.rules", &fixed).findings.is_empty());
/// ```
pub fn apply(text: &str, name: &str, findings: &[Finding]) -> (String, usize) {
    let mut edits: Vec<(Span, &str)> = findings
        .iter()
        .filter(|finding| finding.source().name == name && *finding.source().text == *text)
        .filter_map(|finding| match finding.suggestions() {
            [only] => Some((only.span, only.replacement.as_str())),
            _ => None,
        })
        .filter(|(span, _)| span.start <= span.end && span.end <= text.len())
        .filter(|(span, _)| text.is_char_boundary(span.start) && text.is_char_boundary(span.end))
        .collect();
    edits.sort_by_key(|(span, _)| (span.start, span.end));
    edits.dedup();
    let mut fixed = String::with_capacity(text.len());
    let mut at = 0;
    let mut applied = 0;
    for (span, replacement) in edits {
        if span.start < at {
            // Overlaps the previous edit: the next round sees it anew.
            continue;
        }
        fixed.push_str(&text[at..span.start]);
        fixed.push_str(replacement);
        at = span.end;
        applied += 1;
    }
    fixed.push_str(&text[at..]);
    (fixed, applied)
}
