//! `POST /v1/rulesets/{name}/assign`: one call, or a stream of them.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;

use callassign::{DocumentFormat, InputFormat, NotOneCall, Options, ProblemCode};

use super::{bad_path, known_query_pairs, read_body, App, Shared, JSON, NDJSON};
use crate::serve::app::{State, HASH_HEADER};
use crate::serve::metrics::Route;
use crate::serve::observe::Observing;
use crate::serve::problem::Problem;
use crate::serve::store::Entry;
use crate::serve::stream::{AssignStream, UNKNOWN_KEYS};

/// `POST /v1/rulesets/{name}/assign`: one call, or a stream of them.
pub async fn assign(
    Shared(state): App,
    name: Result<Path<String>, PathRejection>,
    request: Request,
) -> Response {
    let timer = state.metrics.time(Route::Assign);
    let answer = async {
        state.auth.check(request.headers())?;
        let Path(name) = name.map_err(bad_path)?;
        let entry = state.store.get(&name)?;
        let options =
            assign_options(request.uri().query()).map_err(|p| p.hash(&entry.hash_header))?;
        super::refuse_encoded(request.headers()).map_err(|p| p.hash(&entry.hash_header))?;
        match body_kind(request.headers()).map_err(|p| p.hash(&entry.hash_header))? {
            BodyKind::One => assign_one(&state, entry, options, request).await,
            BodyKind::Stream => {
                assign_stream(&state, entry, options, request, timer.detach()).await
            }
        }
    };
    answer.await.unwrap_or_else(IntoResponse::into_response)
}

/// What a request body holds, by its `Content-Type`.
enum BodyKind {
    One,
    Stream,
}

fn body_kind(headers: &HeaderMap) -> Result<BodyKind, Problem> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(BodyKind::One);
    };
    // The media type, before any parameter; compared without allocating.
    let media = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .as_bytes();
    if media.eq_ignore_ascii_case(b"application/json") {
        return Ok(BodyKind::One);
    }
    if media.eq_ignore_ascii_case(b"application/x-ndjson")
        || media.eq_ignore_ascii_case(b"application/jsonl")
    {
        return Ok(BodyKind::Stream);
    }
    let help = if media.eq_ignore_ascii_case(b"application/x-www-form-urlencoded") {
        "curl's `-d` sends this type: add `-H 'Content-Type: application/json'` (one call) or `-H 'Content-Type: application/x-ndjson'` (one call per line)"
    } else {
        "send one call as `application/json`, or one call per line as `application/x-ndjson`"
    };
    Err(Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "callassign::unsupported_media_type",
        format!(
            "a body of type `{}` cannot be read",
            crate::serve::problem::echo(&String::from_utf8_lossy(value.as_bytes()))
        ),
    )
    .help(help))
}

/// `?explain=true`, `?input=cloudtalk`.
fn assign_options(query: Option<&str>) -> Result<Options, Problem> {
    let mut options = Options::default();
    if query.is_none_or(str::is_empty) {
        return Ok(options);
    }
    for (key, value) in known_query_pairs(query, &["explain", "input"])? {
        match key.as_str() {
            "explain" => {
                options.explain = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    other => {
                        return Err(bad_query(format!(
                            "`explain` is `true` or `false`, not `{}`",
                            crate::serve::problem::echo(other)
                        )))
                    }
                }
            }
            "input" => {
                options.input = match value.as_str() {
                    "native" => InputFormat::Native,
                    "cloudtalk" => InputFormat::CloudTalk,
                    other => {
                        return Err(bad_query(format!(
                            "`input` is `native` or `cloudtalk`, not `{}`",
                            crate::serve::problem::echo(other)
                        )))
                    }
                }
            }
            // Any other key was refused by `known_query_pairs`.
            _ => {}
        }
    }
    Ok(options)
}

fn bad_query(message: String) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "callassign::bad_query", message)
}

/// One call: the line `eval` writes for it, or 422 with its error line's
/// words.
async fn assign_one(
    state: &State,
    entry: Arc<Entry>,
    options: Options,
    request: Request,
) -> Result<Response, Problem> {
    let hash = &entry.hash_header;
    let body = read_body(state, request, Some(hash)).await?;
    let bytes = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&body);
    let text = std::str::from_utf8(bytes).map_err(|error| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemCode::UnreadableCall.name(),
            format!(
                "the body is not valid UTF-8 (byte {})",
                error.valid_up_to() + 1
            ),
        )
        .help("send the call as UTF-8 JSON")
        .hash(hash)
    })?;
    let mut out = Vec::with_capacity(256);
    let mut observer = Observing::new(&entry, state.log.is_some(), true);
    let written = entry
        .engine
        .assign_document(text, DocumentFormat::Json, options, &mut out, &mut observer)
        .map_err(|refusal| not_one_call(refusal).hash(hash))?
        .map_err(|error| Problem::internal(format!("cannot write the answer: {error}")))?;
    if let Some(log) = &state.log {
        let mut lines = Vec::with_capacity(out.len() + 160);
        observer.log_lines(&out, &crate::serve::clock::now(), &mut lines);
        log.send(lines);
    }
    if written.lines == 1 && written.unreadable == 1 {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemCode::UnreadableCall.name(),
            observer.unreadable.take().unwrap_or_default(),
        )
        .hash(hash));
    }
    let mut response = Response::new(Body::from(out));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        if written.lines == 1 { JSON } else { NDJSON },
    );
    headers.insert(HASH_HEADER, hash.clone());
    if let Some(keys) = observer.keys_header() {
        if let Ok(value) = HeaderValue::try_from(keys) {
            headers.insert(UNKNOWN_KEYS, value);
        }
    }
    Ok(response)
}

fn not_one_call(refusal: NotOneCall) -> Problem {
    let help = match refusal {
        NotOneCall::List | NotOneCall::SeveralValues => {
            "send one call per request; for many, send one call per line with `Content-Type: application/x-ndjson`"
        }
        NotOneCall::CloudTalkYaml => refusal.help(),
    };
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        refusal.code(),
        format!("the body holds {refusal}"),
    )
    .help(help)
}

/// A stream: answers flow as the lines arrive.
///
/// The head is sent once the first piece of the body is in: a client that
/// sent `Expect: 100-continue` (curl does, for large bodies) is asked for
/// the body first, instead of waiting for a `100 Continue` that would
/// never come after a final status.
async fn assign_stream(
    state: &State,
    entry: Arc<Entry>,
    options: Options,
    request: Request,
    timer: crate::serve::metrics::DetachedTimer,
) -> Result<Response, Problem> {
    let trailers = request.headers().get_all(header::TE).iter().any(|value| {
        value
            .to_str()
            .unwrap_or("")
            .split(',')
            .any(|part| part.trim().eq_ignore_ascii_case("trailers"))
    });
    let mut stop = state.stop_streams.subscribe();
    let stop = Box::pin(async move {
        let _ = stop.wait_for(|stop| *stop).await;
    });
    let hash = entry.hash_header.clone();
    let no_call = || {
        Problem::new(
            StatusCode::REQUEST_TIMEOUT,
            "callassign::request_timeout",
            format!(
                "no call arrived within {} s",
                state.limits.request_timeout.as_secs_f64()
            ),
        )
        .help("send the calls with the request")
        .hash(&hash)
    };
    let mut body = request.into_body();
    let first = match tokio::time::timeout(state.limits.request_timeout, body.frame()).await {
        Ok(Some(Err(error))) if super::caused_by_timeout(&error) => return Err(no_call()),
        Err(_) => return Err(no_call()),
        Ok(Some(Err(error))) => {
            return Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "callassign::unreadable_body",
                format!("the body could not be read: {error}"),
            )
            .hash(&hash))
        }
        Ok(Some(Ok(frame))) => frame.into_data().unwrap_or_default(),
        Ok(None) => Bytes::new(),
    };
    let stream = AssignStream::new(
        body,
        first,
        entry,
        options,
        state.log.clone(),
        trailers,
        stop,
        timer,
    );
    let mut response = Response::new(Body::new(stream));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, NDJSON);
    headers.insert(HASH_HEADER, hash);
    if trailers {
        headers.insert(
            header::TRAILER,
            HeaderValue::from_static("callassign-unknown-keys"),
        );
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_read_explain_and_input() {
        let options = assign_options(Some("explain=true&input=cloudtalk")).unwrap();
        assert!(options.explain);
        assert_eq!(options.input, InputFormat::CloudTalk);
        assert!(!assign_options(None).unwrap().explain);
        let problem = assign_options(Some("explian=true")).unwrap_err();
        assert_eq!(problem.help.as_deref(), Some("did you mean `explain`?"));
        assert!(assign_options(Some("explain=yes")).is_err());
        assert!(assign_options(Some("input=CloudTalk")).is_err());
        let twice = assign_options(Some("explain=true&explain=false")).unwrap_err();
        assert_eq!(twice.message, "`explain` is given twice in the query");
        assert!(assign_options(Some("input=cloudtalk&input=native")).is_err());
    }
}
