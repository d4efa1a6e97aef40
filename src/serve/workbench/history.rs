//! `GET /v1/history`: a few calls of the served history to try in the
//! workbench, read with the ruleset's context, each with its line number
//! and its text as it is in the file.

use axum::body::Body;
use axum::extract::State as Shared;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use callassign::model::cloudtalk::Provenance;
use callassign::runtime::batch::{for_each_line, read_input};
use callassign::InputFormat;

use super::{no_history, App, JSON};
use crate::serve::app::HASH_HEADER;
use crate::serve::metrics::Route;
use crate::serve::problem::Problem;
use crate::serve::routes::known_query_pairs;
use crate::serve::work::{Spending, Work};

/// How many history calls `/v1/history` lists unless asked, and at most.
const DEFAULT_HISTORY_CALLS: usize = 20;
const MAX_HISTORY_CALLS: usize = 200;

/// `GET /v1/history?ruleset=NAME[&limit=N][&id=ID]`: a few calls of the
/// history to try, read with the ruleset's context, each with its line
/// number and its text as it is in the file.
pub async fn history(Shared(state): App, uri: Uri, headers: HeaderMap) -> Response {
    let _timer = state.metrics.time(Route::History);
    let answer = async {
        state.auth.check(&headers)?;
        let mut ruleset = None;
        let mut limit = DEFAULT_HISTORY_CALLS;
        let mut wanted_id = None;
        for (key, value) in known_query_pairs(uri.query(), &["ruleset", "id", "limit"])? {
            match key.as_str() {
                "ruleset" => ruleset = Some(value),
                "id" => wanted_id = Some(value),
                "limit" => {
                    limit = value
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_HISTORY_CALLS).contains(n))
                        .ok_or_else(|| {
                            Problem::new(
                                StatusCode::BAD_REQUEST,
                                "callassign::bad_query",
                                format!(
                                    "`limit` is a number from 1 to {MAX_HISTORY_CALLS}, not `{}`",
                                    crate::serve::problem::echo(&value)
                                ),
                            )
                        })?
                }
                // Any other key was refused by `known_query_pairs`.
                _ => {}
            }
        }
        let ruleset = ruleset.ok_or_else(|| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "callassign::bad_query",
                "which ruleset's context reads the history?",
            )
            .help("add `?ruleset=NAME`")
        })?;
        let entry = state.store.get(&ruleset)?;
        let history = state.history.clone().ok_or_else(no_history)?;
        let hash = entry.hash_header.clone();
        let work = Work::new("reading the history", state.limits.request_timeout);
        let body = work
            .run(move |budget| {
                let version = history.current();
                let context = entry.engine.context();
                let mut calls = Vec::new();
                let lines = for_each_line(Spending::new(&version.bytes, budget), |number, line| {
                    if calls.len() >= limit {
                        return Ok(());
                    }
                    let read = read_input(line, history.input, context, Provenance::Skip);
                    let Some(call) = read.call() else {
                        return Ok(());
                    };
                    if wanted_id
                        .as_deref()
                        .is_some_and(|id| id != call.id.as_ref())
                    {
                        return Ok(());
                    }
                    calls.push(serde_json::json!({
                        "line": number,
                        "id": call.id.as_ref(),
                        "direction": call.direction.name(),
                        "status": call.status.name(),
                        "text": String::from_utf8_lossy(line.unwrap_or_default()),
                    }));
                    Ok(())
                })
                .map_err(|error| budget.history_failed(error))?;
                if wanted_id.is_some() && calls.is_empty() {
                    return Err(Problem::new(
                        StatusCode::NOT_FOUND,
                        "callassign::unknown_call",
                        format!(
                            "no call `{}` in the history",
                            crate::serve::problem::echo(wanted_id.as_deref().unwrap_or(""))
                        ),
                    ));
                }
                Ok(serde_json::json!({
                    "file": history.path,
                    "input": match history.input {
                        InputFormat::Native => "native",
                        InputFormat::CloudTalk => "cloudtalk",
                    },
                    "read_at": version.read_at,
                    "problem": history.problem(),
                    "lines": lines,
                    "calls": calls,
                }))
            })
            .await
            .map_err(|p| p.hash(&hash))?;
        let mut response = json_answer(&body);
        response.headers_mut().insert(HASH_HEADER, hash);
        Ok::<_, Problem>(response)
    };
    answer.await.unwrap_or_else(IntoResponse::into_response)
}

fn json_answer(value: &serde_json::Value) -> Response {
    let mut body = serde_json::to_vec(value).expect("an answer serializes");
    body.push(b'\n');
    let mut response = Response::new(Body::from(body));
    response.headers_mut().insert(header::CONTENT_TYPE, JSON);
    response
}
