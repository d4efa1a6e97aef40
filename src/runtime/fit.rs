//! A plan checked against the context it will run with (`check --context`):
//! fixed users who are not active users of the integration, so their steps
//! can never decide, and rules written for another integration than the
//! context's. Both are warnings: the context may be a stale export.

use crate::diagnostics::finding::Finding;
use crate::diagnostics::kind::FindingKind;
use crate::runtime::model::context::{Directory, Lookup};
use crate::runtime::model::Context;
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
    findings
}
