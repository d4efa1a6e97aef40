//! The router and the state every request shares, on one screen.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use axum::http::HeaderName;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;

use super::auth::Auth;
use super::catalog::Source;
use super::decision_log;
use super::history::History;
use super::metrics::Metrics;
use super::problem::Problem;
use super::routes;
use super::store::Store;
use super::Limits;
use super::{cross_site, page, workbench};

/// The header naming the ruleset version that answered.
pub const HASH_HEADER: HeaderName = HeaderName::from_static("callassign-ruleset-hash");

/// What every request shares.
pub struct State {
    pub source: Source,
    pub store: Store,
    pub auth: Auth,
    pub metrics: Arc<Metrics>,
    pub log: Option<decision_log::Writer>,
    pub limits: Limits,
    /// `--history FILE`, what the workbench's impact is measured on.
    pub history: Option<Arc<History>>,
    /// Reload outcomes, for `/v1/status`.
    pub book: Mutex<Book>,
    /// False once shutting down: `/readyz` then says 503.
    pub ready: AtomicBool,
    /// Set when the shutdown grace is over: streams end.
    pub stop_streams: watch::Sender<bool>,
    pub started_at: String,
    /// The live loop from CloudTalk, with `--store`.
    #[cfg(feature = "live")]
    pub live: std::sync::OnceLock<Arc<crate::live::Live>>,
}

/// What `/v1/status` reports besides the versions served.
#[derive(Debug, Default)]
pub struct Book {
    /// The last reload attempt of each ruleset served.
    pub last_reload: BTreeMap<String, LastReload>,
    /// Rule files found that are not served, by name.
    pub not_served: BTreeMap<String, NotServed>,
    /// The last change of the token file that was refused, if any.
    pub token: Option<LastReload>,
}

/// One reload attempt.
#[derive(Debug, Clone, Serialize)]
pub struct LastReload {
    pub at: String,
    /// `applied` or `refused`.
    pub result: &'static str,
    /// As `check --format json` writes them; a refused context or an
    /// unreadable file in the same shape.
    pub findings: Vec<StatusFinding>,
}

/// A finding as the status routes show it: a rule file's as `check
/// --format json` writes it, keys in the same order; a refused context,
/// an unreadable file or token file with the keys that apply.
#[derive(Debug, Clone, Serialize)]
pub struct StatusFinding {
    pub code: String,
    pub severity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_column: Option<usize>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub help: Option<String>,
}

impl From<callassign::diagnostics::report::JsonFinding<'_>> for StatusFinding {
    fn from(finding: callassign::diagnostics::report::JsonFinding<'_>) -> Self {
        StatusFinding {
            code: finding.code.to_string(),
            severity: finding.severity.to_string(),
            file: Some(finding.file.to_string()),
            line: Some(finding.line),
            column: Some(finding.column),
            end_line: Some(finding.end_line),
            end_column: Some(finding.end_column),
            message: finding.message.to_string(),
            label: Some(finding.label.to_string()),
            help: finding.help.map(str::to_string),
        }
    }
}

/// A rule file that is not served, and why.
#[derive(Debug, Clone, Serialize)]
pub struct NotServed {
    pub name: String,
    pub rules: PathBuf,
    pub reason: String,
    pub findings: Vec<StatusFinding>,
}

impl State {
    pub fn new(
        source: Source,
        auth: Auth,
        metrics: Arc<Metrics>,
        log: Option<decision_log::Writer>,
        limits: Limits,
        history: Option<Arc<History>>,
    ) -> State {
        State {
            source,
            store: Store::default(),
            auth,
            metrics,
            log,
            limits,
            history,
            book: Mutex::new(Book::default()),
            ready: AtomicBool::new(true),
            stop_streams: watch::channel(false).0,
            started_at: super::clock::now(),
            #[cfg(feature = "live")]
            live: std::sync::OnceLock::new(),
        }
    }

    pub fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Every route. Handlers are thin: they resolve the ruleset, call the
/// library, and shape the answer.
pub fn router(state: Arc<State>) -> Router {
    let mut router = Router::new();
    for path in page::paths() {
        router = router.route(path, get(page::file));
    }
    let router = router
        .route("/v1/rulesets/{name}/source", get(workbench::source))
        .route("/v1/plan", post(workbench::plan))
        .route("/v1/decide", post(workbench::decide))
        .route("/v1/diff", post(workbench::diff))
        .route("/v1/history", get(workbench::history))
        .route("/v1/rulesets/{name}/assign", post(routes::assign))
        .route("/v1/rulesets", get(routes::rulesets))
        .route("/v1/rulesets/{name}/plan", get(routes::plan))
        .route("/v1/check", post(routes::check))
        .route("/v1/status", get(routes::status))
        .route("/healthz", get(routes::healthz))
        .route("/readyz", get(routes::readyz))
        .route("/metrics", get(routes::metrics));
    // The live loop's routes (they answer 404 without `--store`).
    #[cfg(feature = "live")]
    let router = crate::live::routes::add(router);
    router
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(axum::middleware::from_fn(cross_site::refuse))
        .layer(CatchPanicLayer::custom(|_| {
            Problem::internal("the request could not be answered").into_response()
        }))
        .with_state(state)
}
