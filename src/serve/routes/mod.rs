//! The handlers, one file per group of routes. Each resolves what it
//! needs, calls the library and shapes the answer; no decision logic
//! lives here.

mod assign;
mod check;
mod info;

pub use assign::assign;
pub use check::check;
pub use info::{healthz, method_not_allowed, metrics, not_found, plan, readyz, rulesets, status};

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Request, State as Shared};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Serialize;

use callassign::MAX_LINE_BYTES;

use super::app::State;
use super::problem::Problem;

type App = Shared<Arc<State>>;

/// The largest body read: one call, or the rule files sent to `/v1/check`.
const MAX_BODY_BYTES: usize = MAX_LINE_BYTES;

const JSON: HeaderValue = HeaderValue::from_static("application/json");
const NDJSON: HeaderValue = HeaderValue::from_static("application/x-ndjson");

pub(super) fn bad_path(rejection: PathRejection) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "callassign::bad_path",
        format!("the ruleset name cannot be read: {}", rejection.body_text()),
    )
    .help("name a served ruleset as `/v1/rulesets` lists it (percent-encoded, the bytes must be UTF-8)")
}

/// `key=value` pairs of a query, percent-decoded, each key once: a key
/// given twice (`?explain=true&explain=false`) is refused rather than one
/// of its values picked in silence. The keys seen go in a set: a query of
/// sixteen thousand keys (what a 64 KiB target holds) costs no more than
/// reading it.
pub(super) fn unique_query_pairs(query: Option<&str>) -> Result<Vec<(String, String)>, Problem> {
    let pairs = query_pairs(query);
    let mut seen = std::collections::HashSet::with_capacity(pairs.len());
    for (key, _) in &pairs {
        if !seen.insert(key.as_str()) {
            return Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "callassign::bad_query",
                format!(
                    "`{}` is given twice in the query",
                    crate::serve::problem::echo(key)
                ),
            )
            .help("give each query parameter once"));
        }
    }
    Ok(pairs)
}

/// [`unique_query_pairs`] of a route that reads only the keys `known`: any
/// other key is refused with a guess at the one meant, never ignored (a
/// misspelt `?nmae=` would otherwise fall back to a default in silence).
pub(crate) fn known_query_pairs(
    query: Option<&str>,
    known: &[&str],
) -> Result<Vec<(String, String)>, Problem> {
    let pairs = unique_query_pairs(query)?;
    if let Some((key, _)) = pairs.iter().find(|(key, _)| !known.contains(&key.as_str())) {
        let help = match callassign::diagnostics::suggest::did_you_mean(key, known.iter().copied())
        {
            Some(meant) => format!("did you mean `{meant}`?"),
            None if known.is_empty() => "this route takes no query parameters".to_owned(),
            None => format!(
                "the parameters here are {}",
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "callassign::bad_query",
            format!(
                "unknown query parameter `{}`",
                crate::serve::problem::echo(key)
            ),
        )
        .help(help));
    }
    Ok(pairs)
}

/// `key=value` pairs of a query, percent-decoded.
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        let hex = |b: u8| (b as char).to_digit(16);
        match byte {
            b'%' => match (
                bytes.get(at + 1).and_then(|&b| hex(b)),
                bytes.get(at + 2).and_then(|&b| hex(b)),
            ) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    at += 3;
                }
                _ => {
                    out.push(byte);
                    at += 1;
                }
            },
            b'+' => {
                out.push(b' ');
                at += 1;
            }
            _ => {
                out.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads a whole body of at most [`MAX_BODY_BYTES`] within the request
/// timeout.
pub(crate) async fn read_body(
    state: &State,
    request: Request,
    hash: Option<&HeaderValue>,
) -> Result<Bytes, Problem> {
    read_body_up_to(state, request, hash, MAX_BODY_BYTES).await
}

/// [`read_body`] with another limit than one call's.
pub(crate) async fn read_body_up_to(
    state: &State,
    request: Request,
    hash: Option<&HeaderValue>,
    limit: usize,
) -> Result<Bytes, Problem> {
    let with_hash = |problem: Problem| match hash {
        Some(hash) => problem.hash(hash),
        None => problem,
    };
    let too_large = || {
        with_hash(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "callassign::body_too_large",
            format!("the body is larger than {limit} bytes"),
        )
        .help("a body holds one call or one edit; send many calls as a stream (`Content-Type: application/x-ndjson`), whose lines may each be up to 1 MiB"))
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    let body = Limited::new(request.into_body(), limit);
    let timed_out = || {
        with_hash(
            Problem::new(
                StatusCode::REQUEST_TIMEOUT,
                "callassign::request_timeout",
                format!(
                    "the body did not arrive within {} s",
                    state.limits.request_timeout.as_secs_f64()
                ),
            )
            .help("send the whole request at once; for many calls, stream them as `application/x-ndjson`"),
        )
    };
    let mut collect = std::pin::pin!(body.collect());
    // Most bodies came with their headers: then no timer is made (making
    // one touches the runtime's shared handle).
    let first = std::future::poll_fn(|cx| Poll::Ready(collect.as_mut().poll(cx))).await;
    let collected = match first {
        Poll::Ready(collected) => Ok(collected),
        Poll::Pending => tokio::time::timeout(state.limits.request_timeout, collect).await,
    };
    match collected {
        Err(_) => Err(timed_out()),
        Ok(Err(error)) if error.is::<LengthLimitError>() => Err(too_large()),
        // The connection's own clock ran out first (no byte for
        // `--request-timeout`): the same 408.
        Ok(Err(error)) if caused_by_timeout(&*error) => Err(timed_out()),
        Ok(Err(error)) => Err(with_hash(Problem::new(
            StatusCode::BAD_REQUEST,
            "callassign::unreadable_body",
            format!("the body could not be read: {error}"),
        ))),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// A body sent compressed (`Content-Encoding: gzip`) is refused, rather
/// than read as text and refused byte by byte as not UTF-8.
pub(crate) fn refuse_encoded(headers: &axum::http::HeaderMap) -> Result<(), Problem> {
    let Some(value) = headers.get(header::CONTENT_ENCODING) else {
        return Ok(());
    };
    let encoding = String::from_utf8_lossy(value.as_bytes());
    if encoding.trim().eq_ignore_ascii_case("identity") {
        return Ok(());
    }
    Err(Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "callassign::unsupported_media_type",
        format!(
            "a body encoded as `{}` cannot be read",
            crate::serve::problem::echo(encoding.trim())
        ),
    )
    .help("send the body uncompressed, without `Content-Encoding`"))
}

/// Whether reading a body failed because the connection's clock ran out
/// (see `server::Timed`), rather than because the bytes were wrong.
pub(super) fn caused_by_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error
            .downcast_ref::<std::io::Error>()
            .is_some_and(|error| error.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        cause = error.source();
    }
    false
}

/// A JSON answer, pretty-printed as the command line prints it.
fn json_answer(value: &impl Serialize) -> Response {
    let mut body = serde_json::to_vec_pretty(value).expect("an answer serializes");
    body.push(b'\n');
    let mut response = Response::new(Body::from(body));
    response.headers_mut().insert(header::CONTENT_TYPE, JSON);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_is_lenient() {
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
