//! What the service says about itself: the rulesets served and their
//! plans, its status, the probes, the metrics, and unknown routes.

use std::path::{Path as FilePath, PathBuf};
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::{bad_path, json_answer, App, Shared};
use crate::serve::app::HASH_HEADER;
use crate::serve::metrics::Route;
use crate::serve::problem::Problem;

#[derive(Serialize)]
struct Listed<'a> {
    name: &'a str,
    hash: &'a str,
    loaded_at: &'a str,
    rules: &'a FilePath,
    context: &'a FilePath,
}

/// `GET /v1/rulesets`: the rulesets served, with their versions.
pub async fn rulesets(Shared(state): App, headers: HeaderMap) -> Response {
    let _timer = state.metrics.time(Route::Rulesets);
    if let Err(problem) = state.auth.check(&headers) {
        return problem.into_response();
    }
    let entries = state.store.entries();
    let listed: Vec<Listed<'_>> = entries
        .iter()
        .map(|entry| Listed {
            name: &entry.name,
            hash: &entry.hash,
            loaded_at: &entry.loaded_at,
            rules: &entry.rules,
            context: &entry.context,
        })
        .collect();
    // A struct, not `json!`, which would sort the keys.
    #[derive(Serialize)]
    struct Rulesets<'a> {
        rulesets: Vec<Listed<'a>>,
    }
    json_answer(&Rulesets { rulesets: listed })
}

/// `GET /v1/rulesets/{name}/plan`: the plan as `plan --format json`.
pub async fn plan(
    Shared(state): App,
    name: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    let _timer = state.metrics.time(Route::Plan);
    let answer = || -> Result<Response, Problem> {
        state.auth.check(&headers)?;
        let Path(name) = name.map_err(bad_path)?;
        let entry = state.store.get(&name)?;
        let mut response = json_answer(&callassign::semantics::plan::render_json(
            entry.engine.plan(),
        ));
        response
            .headers_mut()
            .insert(HASH_HEADER, entry.hash_header.clone());
        Ok(response)
    };
    answer().unwrap_or_else(IntoResponse::into_response)
}

#[derive(Serialize)]
struct StatusEntry<'a> {
    name: &'a str,
    hash: &'a str,
    loaded_at: &'a str,
    rules: &'a FilePath,
    context: &'a FilePath,
    files: &'a [PathBuf],
    last_reload: Option<crate::serve::app::LastReload>,
}

/// `GET /v1/status`: the version of each ruleset and its last reload.
pub async fn status(Shared(state): App, headers: HeaderMap) -> Response {
    let _timer = state.metrics.time(Route::Status);
    if let Err(problem) = state.auth.check(&headers) {
        return problem.into_response();
    }
    let entries = state.store.entries();
    let book = state.book();
    let rulesets: Vec<StatusEntry<'_>> = entries
        .iter()
        .map(|entry| StatusEntry {
            name: &entry.name,
            hash: &entry.hash,
            loaded_at: &entry.loaded_at,
            rules: &entry.rules,
            context: &entry.context,
            files: &entry.files,
            last_reload: book.last_reload.get(&entry.name).cloned(),
        })
        .collect();
    let not_served: Vec<_> = book.not_served.values().collect();
    let log = state.log.as_ref().map(|log| {
        let log = log.state();
        let last_error = log
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        LogStatus {
            path: log.path.clone(),
            written: log.written.get(),
            lost: log.lost.get(),
            error: last_error.map(|(at, message)| LogError { at, message }),
        }
    });
    let token = state.auth.path().map(|path| TokenStatus {
        path,
        last_refused: book.token.clone(),
    });
    json_answer(&StatusAnswer {
        rulesets,
        not_served,
        started_at: &state.started_at,
        version: env!("CARGO_PKG_VERSION"),
        decision_log: log,
        token_file: token,
    })
}

#[derive(Serialize)]
struct StatusAnswer<'a> {
    rulesets: Vec<StatusEntry<'a>>,
    not_served: Vec<&'a crate::serve::app::NotServed>,
    started_at: &'a str,
    version: &'a str,
    decision_log: Option<LogStatus>,
    token_file: Option<TokenStatus<'a>>,
}

// Structs, not `json!`, which would sort the keys: in the documented order.
#[derive(Serialize)]
struct LogStatus {
    path: std::path::PathBuf,
    written: u64,
    lost: u64,
    error: Option<LogError>,
}

#[derive(Serialize)]
struct LogError {
    at: String,
    message: String,
}

#[derive(Serialize)]
struct TokenStatus<'a> {
    path: &'a std::path::Path,
    last_refused: Option<crate::serve::app::LastReload>,
}

#[derive(Serialize)]
struct Probe {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rulesets: Option<usize>,
}

/// `GET /healthz`: the process answers.
pub async fn healthz(Shared(state): App) -> Response {
    let _timer = state.metrics.time(Route::Healthz);
    json_answer(&Probe {
        status: "ok",
        rulesets: None,
    })
}

/// `GET /readyz`: rules are loaded and the service is not shutting down.
pub async fn readyz(Shared(state): App) -> Response {
    let _timer = state.metrics.time(Route::Readyz);
    if !state.ready.load(Ordering::Relaxed) {
        return Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "callassign::shutting_down",
            "the service is shutting down",
        )
        .into_response();
    }
    json_answer(&Probe {
        status: "ready",
        rulesets: Some(state.store.len()),
    })
}

/// `GET /metrics`: Prometheus text, or OpenMetrics when asked for.
pub async fn metrics(Shared(state): App, headers: HeaderMap) -> Response {
    let _timer = state.metrics.time(Route::Metrics);
    if let Err(problem) = state.auth.check(&headers) {
        return problem.into_response();
    }
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("application/openmetrics-text"));
    let mut response = Response::new(Body::from(state.metrics.render(openmetrics)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if openmetrics {
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        } else {
            "text/plain; version=0.0.4; charset=utf-8"
        }),
    );
    response
}

pub async fn not_found(Shared(state): App, uri: Uri) -> Response {
    let _timer = state.metrics.time(Route::Other);
    Problem::not_found(uri.path()).into_response()
}

pub async fn method_not_allowed(Shared(state): App, method: Method, uri: Uri) -> Response {
    let _timer = state.metrics.time(Route::Other);
    let problem = Problem::method_not_allowed(method.as_str(), uri.path());
    let allow = if problem.help.as_deref() == Some("use POST") {
        "POST"
    } else {
        "GET, HEAD"
    };
    let mut response = problem.into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    // `DELETE /v1/rulesets/hubspot/assign` still named a served ruleset.
    let named = uri
        .path()
        .strip_prefix("/v1/rulesets/")
        .and_then(|rest| rest.split('/').next());
    if let Some(entry) = named.and_then(|name| state.store.entry(name)) {
        response
            .headers_mut()
            .insert(HASH_HEADER, entry.hash_header.clone());
    }
    response
}
