//! Requests a browser sends for a page of another site. Any web page can
//! make its visitor's browser send a POST without a content type to
//! `http://127.0.0.1:8080/v1/rulesets/NAME/assign` (it cannot read the
//! answer, but the call is decided, counted and written to the decision
//! log), or ask for rule text to be compiled; an HTML form can POST
//! `text/plain` to `/v1/check` and navigate there. No page of another
//! origin has a reason to ask this service (it allows no cross-origin
//! reading), so what a browser marks `Sec-Fetch-Site: cross-site` or
//! `same-site` (another port of `localhost` is the same site) is refused,
//! except opening a link with `GET` (a shared workbench link in a support
//! ticket). Programs (curl, services) send no such header and are not
//! concerned.

use axum::extract::Request;
use axum::http::{HeaderName, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::problem::Problem;

const FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");
const FETCH_MODE: HeaderName = HeaderName::from_static("sec-fetch-mode");

/// Refuses (403) a request a browser sent for another site's page.
pub async fn refuse(request: Request, next: Next) -> Response {
    let other_origin =
        is(&request, &FETCH_SITE, b"cross-site") || is(&request, &FETCH_SITE, b"same-site");
    let opens_a_link = is(&request, &FETCH_MODE, b"navigate")
        && matches!(*request.method(), Method::GET | Method::HEAD);
    if other_origin && !opens_a_link {
        return Problem::new(
            StatusCode::FORBIDDEN,
            "callassign::cross_site",
            "a page of another site cannot ask this service",
        )
        .help("open the workbench at this service's own address, or ask from a program (which sends no `Sec-Fetch-Site`)")
        .into_response();
    }
    next.run(request).await
}

fn is(request: &Request, name: &HeaderName, value: &[u8]) -> bool {
    request
        .headers()
        .get(name)
        .is_some_and(|found| found.as_bytes().eq_ignore_ascii_case(value))
}
