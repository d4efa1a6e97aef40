//! The workbench page at `/`: the files `web/` builds into `web/dist/`,
//! embedded in the binary (building callassign never needs Node). The page
//! asks only this service: its Content-Security-Policy allows nothing from
//! any other origin.

use axum::body::Body;
use axum::extract::State as Shared;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use std::sync::Arc;

use super::app::State;
use super::metrics::Route;

/// What the page may load and send: its own files and this service's
/// routes, nothing from another origin, no framing, no inline script or
/// style sheet. Style attributes are the one inline thing allowed: typing
/// over a selection in the editor (a `contenteditable`), Chrome's own
/// editing wraps the new text in a `<span style>` that keeps its colour
/// until the editor redraws the line; what such an attribute could load
/// (`url(…)`) stays bound to this origin by `default-src`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; style-src-attr 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

/// One embedded file.
struct File {
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const FILES: [File; 5] = [
    File {
        path: "/",
        content_type: "text/html; charset=utf-8",
        bytes: include_bytes!("../../web/dist/index.html"),
    },
    File {
        path: "/workbench.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../web/dist/workbench.js"),
    },
    File {
        path: "/workbench.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../web/dist/workbench.css"),
    },
    File {
        path: "/favicon.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("../../web/dist/favicon.svg"),
    },
    File {
        path: "/licenses.txt",
        content_type: "text/plain; charset=utf-8",
        bytes: include_bytes!("../../web/dist/licenses.txt"),
    },
];

/// The paths the page is served at, for the router.
pub fn paths() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|file| file.path)
}

/// `GET /` and the page's files. Open without the token: they hold no
/// data; the page asks for the token when the routes it calls want one.
pub async fn file(Shared(state): Shared<Arc<State>>, uri: axum::http::Uri) -> Response {
    let _timer = state.metrics.time(Route::Page);
    let file = FILES
        .iter()
        .find(|file| file.path == uri.path())
        .expect("the router sends only the page's paths here");
    let mut response = Response::new(Body::from(file.bytes));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.content_type),
    );
    secure(headers);
    response
}

/// The headers every page file carries.
pub fn secure(headers: &mut axum::http::HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // The files change with the binary: ask again each time (cheap on
    // loopback, and never an old script against new routes).
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
}
