//! `POST /v1/plan`: rule text the page sends, checked and planned as
//! `check` and `plan` do, each finding in the sent text with its place in
//! UTF-16 offsets (what a browser counts) and its quick fixes.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State as Shared};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use callassign::diagnostics::finding::Finding;
use callassign::diagnostics::report::JsonFinding;
use callassign::semantics::plan::{render_json, JsonPlan};

use super::{compile_text_at, json_body, rule_path, App, Edited, TextRequest, JSON};
use crate::serve::app::HASH_HEADER;
use crate::serve::metrics::Route;
use crate::serve::problem::Problem;
use crate::serve::work::Work;

/// `POST /v1/plan`: the findings and the plan of sent rule text, as
/// `check --format json` and `plan --format json` give them. Findings in
/// the sent text also carry their place as UTF-16 offsets (`from`, `to`,
/// what a browser's text counts) and their quick fixes (`fixes`).
pub async fn plan(Shared(state): App, request: Request) -> Response {
    let _timer = state.metrics.time(Route::PlanText);
    let answer = async {
        state.auth.check(request.headers())?;
        let sent: TextRequest = json_body(
            &state,
            request,
            r#"{"ruleset":"hubspot","text":"ruleset hubspot extends default\n"}"#,
        )
        .await?;
        let work = Work::new("the plan", state.limits.request_timeout);
        let path = rule_path(&state.source.rules_folder(), &sent.ruleset)?;
        // The text may be a ruleset not served yet; when it is served, the
        // answer says which version the edit is compared with.
        let entry = state.store.entry(&sent.ruleset);
        let served = entry.as_ref().map(|entry| entry.hash_header.clone());
        let body = work
            .run(move |_| {
                // Checked against the served ruleset's context too, as
                // `check --context` does: a fixed user who is not in it
                // would never decide, and the file would read as clean.
                let context = entry
                    .as_ref()
                    .map(|entry| (entry.engine.context(), entry.context.display().to_string()));
                let edited = compile_text_at(
                    &path,
                    &sent.text,
                    context
                        .as_ref()
                        .map(|(context, name)| (&**context, name.as_str())),
                )?;
                let answer = PlanAnswer {
                    ruleset: &sent.ruleset,
                    findings: plan_findings(&edited, &sent.text),
                    plan: edited.compiled.plan.as_ref().map(render_json),
                };
                let mut body = serde_json::to_vec(&answer).expect("an answer serializes");
                body.push(b'\n');
                Ok(body)
            })
            .await?;
        let mut response = Response::new(Body::from(body));
        response.headers_mut().insert(header::CONTENT_TYPE, JSON);
        if let Some(hash) = served {
            response.headers_mut().insert(HASH_HEADER, hash);
        }
        Ok::<_, Problem>(response)
    };
    answer.await.unwrap_or_else(IntoResponse::into_response)
}

/// The answer of `/v1/plan`.
#[derive(Serialize)]
struct PlanAnswer<'a> {
    ruleset: &'a str,
    findings: Vec<PlanFinding<'a>>,
    plan: Option<JsonPlan>,
}

/// A finding as `check --format json` writes it, and for a finding in the
/// sent text, its span in UTF-16 offsets and its quick fixes.
#[derive(Serialize)]
struct PlanFinding<'a> {
    #[serde(flatten)]
    finding: JsonFinding<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fixes: Option<Vec<Fix<'a>>>,
}

/// An edit that applies a finding's help.
#[derive(Serialize)]
struct Fix<'a> {
    title: &'a str,
    from: usize,
    to: usize,
    replacement: &'a str,
}

fn plan_findings<'a>(edited: &'a Edited, text: &str) -> Vec<PlanFinding<'a>> {
    let own = |finding: &Finding| {
        edited
            .source
            .as_ref()
            .is_some_and(|source| Arc::ptr_eq(source, finding.source()) && *source.text == *text)
    };
    let mut offsets: Vec<usize> = Vec::new();
    for finding in edited.compiled.findings.iter().filter(|f| own(f)) {
        offsets.extend([finding.span().start, finding.span().end]);
        for suggestion in finding.suggestions() {
            offsets.extend([suggestion.span.start, suggestion.span.end]);
        }
    }
    let utf16 = utf16_offsets(text, offsets);
    edited
        .compiled
        .findings
        .iter()
        .map(|finding| {
            let mut shown = PlanFinding {
                finding: JsonFinding::from(finding),
                from: None,
                to: None,
                fixes: None,
            };
            if own(finding) {
                shown.from = Some(utf16[&finding.span().start]);
                shown.to = Some(utf16[&finding.span().end]);
                shown.fixes = Some(
                    finding
                        .suggestions()
                        .iter()
                        .map(|suggestion| Fix {
                            title: &suggestion.title,
                            from: utf16[&suggestion.span.start],
                            to: utf16[&suggestion.span.end],
                            replacement: &suggestion.replacement,
                        })
                        .collect(),
                );
            }
            shown
        })
        .collect()
}

/// Byte offsets of `text` as UTF-16 offsets, in one pass however many.
fn utf16_offsets(text: &str, mut offsets: Vec<usize>) -> BTreeMap<usize, usize> {
    offsets.sort_unstable();
    offsets.dedup();
    let mut found = BTreeMap::new();
    let mut wanted = offsets.into_iter().peekable();
    let mut units = 0;
    for (at, char) in text.char_indices().chain([(text.len(), '\0')]) {
        while let Some(&offset) = wanted.peek() {
            if offset > at {
                break;
            }
            // An offset inside a character (never made by the checker)
            // counts as the next character's start.
            found.insert(offset, units);
            wanted.next();
        }
        units += char.len_utf16();
    }
    for offset in wanted {
        found.insert(offset, units);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_offsets_count_what_a_browser_counts() {
        let text = "a é 😀 b";
        // Bytes: a 0, é 2..4, 😀 5..9, b 10; UTF-16: é one unit, 😀 two.
        let offsets = utf16_offsets(text, vec![0, 2, 3, 4, 5, 9, text.len()]);
        assert_eq!(offsets[&0], 0);
        assert_eq!(offsets[&2], 2);
        assert_eq!(offsets[&4], 3);
        assert_eq!(offsets[&5], 4);
        assert_eq!(offsets[&9], 6);
        assert_eq!(offsets[&text.len()], 8);
        assert_eq!(offsets[&3], 3); // inside é: the next character's start
    }
}
