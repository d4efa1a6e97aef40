//! A plan checked against the context it will run with (`check --context`):
//! fixed users who are not active users of the integration, so their steps
//! can never decide, and rules written for another integration than the
//! context's; and, in the context file itself, `user_map` links to users
//! who match nothing. All are warnings: the context may be a stale export.

use std::sync::Arc;

use crate::diagnostics::finding::Finding;
use crate::diagnostics::kind::FindingKind;
use crate::diagnostics::source::{Source, Span};
use crate::model::context::{ContextWarning, Directory, Lookup};
use crate::model::Context;
use crate::semantics::load::Chain;
use crate::semantics::plan::{Fallback, Plan, StepId};

/// Rule files meant to be extended rather than run for one integration.
const SHARED_BASE: &str = "default";

/// Findings for `plan`, compiled from `chain`, run with `context`.
/// `context_name` names the context in messages (its file).
pub fn context_findings(
    chain: &Chain,
    plan: &Plan,
    context: &Context,
    context_name: &str,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let directory = Directory::for_context(context);
    let fixed_users = plan
        .steps
        .iter()
        .chain(&plan.unreachable)
        .filter_map(|step| match &step.step {
            StepId::User(email) => Some((email, &step.origin, false)),
            StepId::Builtin(_) => None,
        })
        .chain(match &plan.fallback.fallback {
            Fallback::User(email) => Some((email, &plan.fallback.origin, true)),
            _ => None,
        });
    for (email, origin, is_fallback) in fixed_users {
        let inactive = match directory.by_email(email) {
            Lookup::Active(_) => continue,
            Lookup::Inactive(user) => Some(user.id.clone()),
            Lookup::Unknown => None,
        };
        findings.push(Finding::new(
            FindingKind::UserNotInContext {
                email: email.clone(),
                context: context_name.to_string(),
                inactive,
                is_fallback,
            },
            &origin.source,
            origin.span,
        ));
    }

    if let Some(checked) = chain.files.last().and_then(|file| file.checked.as_ref()) {
        let name = &checked.name.node;
        let integration = context.integration.trim();
        if name != SHARED_BASE && !name.eq_ignore_ascii_case(integration) {
            findings.push(Finding::new(
                FindingKind::IntegrationMismatch {
                    ruleset: name.clone(),
                    context: context_name.to_string(),
                    integration: integration.to_string(),
                },
                &checked.source,
                checked.name.span,
            ));
        }
    }
    // `# callassign: allow user_not_in_context` accepts them line by line.
    let sources: Vec<_> = chain.files.iter().map(|file| file.source.clone()).collect();
    crate::semantics::allow::apply(
        &sources,
        &mut findings,
        crate::semantics::allow::Scope::Context,
    );
    findings
}

/// Findings in the context file for its `user_map` links that match
/// nothing (among [`Context::warnings`]), at the line of each link.
pub fn context_file_findings(context: &Context, source: &Arc<Source>) -> Vec<Finding> {
    context
        .warnings()
        .into_iter()
        .filter_map(|warning| match warning {
            ContextWarning::UserMapTarget {
                from,
                to,
                integration,
                inactive,
            } => {
                let span = link_span(&source.text, &from);
                Some(Finding::new(
                    FindingKind::UserMapTargetNotInContext {
                        from,
                        to,
                        integration,
                        inactive,
                    },
                    source,
                    span,
                ))
            }
            ContextWarning::Installer { .. } | ContextWarning::UnreliableAddresses { .. } => None,
        })
        .collect()
}

/// Where the link from `from` is written: the rest of the first line
/// after `user_map` that names it, up to a comment (YAML or JSON alike), else the
/// `user_map` key, else the start of the file. Contexts are read without
/// positions, so the text is searched.
fn link_span(text: &str, from: &str) -> Span {
    let Some(key) = text.find("user_map") else {
        return Span::new(0, 0);
    };
    let Some(found) = text[key..].find(from.trim()).map(|at| key + at) else {
        return Span::new(key, key + "user_map".len());
    };
    let line_end = text[found..]
        .find('\n')
        .map_or(text.len(), |end| found + end);
    let line = &text[found..line_end];
    // A YAML comment after the link is not part of it.
    let line = line.find(" #").map_or(line, |comment| &line[..comment]);
    let link = line.trim_end().trim_end_matches(',');
    Span::new(found, found + link.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spanned<'t>(text: &'t str, from: &str) -> &'t str {
        let span = link_span(text, from);
        &text[span.start..span.end]
    }

    #[test]
    fn a_link_is_found_in_yaml_blocks_flow_mappings_and_json() {
        assert_eq!(
            spanned("users: []\nuser_map:\n  a@x.com: '1'  # note\n", "a@x.com"),
            "a@x.com: '1'"
        );
        assert_eq!(
            spanned("user_map: {a@x.com: '1', b@x.com: '2'}\n", "b@x.com"),
            "b@x.com: '2'}"
        );
        assert_eq!(
            spanned(
                "{\"user_map\": {\n  \"17\": \"hs-1\",\n  \"18\": \"hs-2\"\n}}",
                "18"
            ),
            "18\": \"hs-2\""
        );
    }

    #[test]
    fn a_link_that_cannot_be_found_points_at_user_map_or_the_start() {
        // The e-mail above `user_map` is not the link.
        assert_eq!(
            spanned("users: [{email: a@x.com}]\nuser_map: {}\n", "a@x.com"),
            "user_map"
        );
        assert_eq!(link_span("integration: x\n", "a@x.com"), Span::new(0, 0));
    }
}
