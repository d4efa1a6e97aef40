//! The handlers. Each resolves what it needs, calls the library and shapes
//! the answer; no decision logic lives here.

use std::collections::BTreeMap;
use std::path::{Path as FilePath, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State as Shared};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Serialize;

use callassign::diagnostics::finding::{sort_and_dedup, Finding};
use callassign::diagnostics::report;
use callassign::semantics::load::{FileSystem, Loader, Overlay};
use callassign::{DocumentFormat, InputFormat, NotOneCall, Options, MAX_LINE_BYTES};

use super::app::{State, HASH_HEADER};
use super::metrics::Route;
use super::observe::Observing;
use super::problem::Problem;
use super::store::Entry;
use super::stream::{AssignStream, UNKNOWN_KEYS};

type App = Shared<Arc<State>>;

/// The largest body read: one call, or the rule files sent to `/v1/check`.
const MAX_BODY_BYTES: usize = MAX_LINE_BYTES;

const JSON: HeaderValue = HeaderValue::from_static("application/json");
const NDJSON: HeaderValue = HeaderValue::from_static("application/x-ndjson");

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
        match body_kind(request.headers()).map_err(|p| p.hash(&entry.hash_header))? {
            BodyKind::One => assign_one(&state, entry, options, request).await,
            BodyKind::Stream => Ok(assign_stream(&state, entry, options, request, timer)),
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
    let media = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/json" => Ok(BodyKind::One),
        "application/x-ndjson" | "application/jsonl" => Ok(BodyKind::Stream),
        _ => Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "callassign::unsupported_media_type",
            format!(
                "a body of type `{}` cannot be read",
                String::from_utf8_lossy(value.as_bytes())
            ),
        )
        .help(if media == "application/x-www-form-urlencoded" {
            "curl's `-d` sends this type: add `-H 'Content-Type: application/json'` (one call) or `-H 'Content-Type: application/x-ndjson'` (one call per line)"
        } else {
            "send one call as `application/json`, or one call per line as `application/x-ndjson`"
        })),
    }
}

/// `?explain=true`, `?input=cloudtalk`.
fn assign_options(query: Option<&str>) -> Result<Options, Problem> {
    let mut options = Options::default();
    for (key, value) in query_pairs(query) {
        match key.as_str() {
            "explain" => {
                options.explain = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    other => {
                        return Err(bad_query(format!(
                            "`explain` is `true` or `false`, not `{other}`"
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
                            "`input` is `native` or `cloudtalk`, not `{other}`"
                        )))
                    }
                }
            }
            other => {
                let mut problem = bad_query(format!("unknown query parameter `{other}`"));
                problem.help = Some(
                    match callassign::diagnostics::suggest::did_you_mean(
                        other,
                        ["explain", "input"],
                    ) {
                        Some(known) => format!("did you mean `{known}`?"),
                        None => "the parameters are `explain=true` and `input=cloudtalk`".into(),
                    },
                );
                return Err(problem);
            }
        }
    }
    Ok(options)
}

fn bad_query(message: String) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "callassign::bad_query", message)
}

fn bad_path(rejection: PathRejection) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "callassign::bad_path",
        format!("the ruleset name cannot be read: {}", rejection.body_text()),
    )
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
    let with_hash = |problem: Problem| match hash {
        Some(hash) => problem.hash(hash),
        None => problem,
    };
    let too_large = || {
        with_hash(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "callassign::body_too_large",
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        ))
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let body = Limited::new(request.into_body(), MAX_BODY_BYTES);
    match tokio::time::timeout(state.limits.request_timeout, body.collect()).await {
        Err(_) => Err(with_hash(
            Problem::new(
                StatusCode::REQUEST_TIMEOUT,
                "callassign::request_timeout",
                format!(
                    "the body did not arrive within {} s",
                    state.limits.request_timeout.as_secs_f64()
                ),
            )
            .help("send the whole request at once; for many calls, stream them as `application/x-ndjson`"),
        )),
        Ok(Err(error)) if error.is::<LengthLimitError>() => Err(too_large()),
        Ok(Err(error)) => Err(with_hash(Problem::new(
            StatusCode::BAD_REQUEST,
            "callassign::unreadable_body",
            format!("the body could not be read: {error}"),
        ))),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
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
            "callassign::unreadable_call",
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
        observer.log_lines(&out, &super::clock::now(), &mut lines);
        log.send(lines);
    }
    if written.lines == 1 && written.unreadable == 1 {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "callassign::unreadable_call",
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
        if let Ok(value) = HeaderValue::from_str(&keys) {
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
        "callassign::not_one_call",
        format!("the body holds {refusal}"),
    )
    .help(help)
}

/// A stream: answers flow as the lines arrive.
fn assign_stream(
    state: &State,
    entry: Arc<Entry>,
    options: Options,
    request: Request,
    timer: super::metrics::Timer,
) -> Response {
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
    let stream = AssignStream::new(
        request.into_body(),
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
    response
}

/// A JSON answer, pretty-printed as the command line prints it.
fn json_answer(value: &impl Serialize) -> Response {
    let mut body = serde_json::to_vec_pretty(value).expect("an answer serializes");
    body.push(b'\n');
    let mut response = Response::new(Body::from(body));
    response.headers_mut().insert(header::CONTENT_TYPE, JSON);
    response
}

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
    json_answer(&serde_json::json!({ "rulesets": listed }))
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

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckRequest {
    files: BTreeMap<String, String>,
}

/// The most rule files one `/v1/check` request may send.
const MAX_CHECKED_FILES: usize = 64;

/// `POST /v1/check`: findings for rule text sent in the body, as `check
/// --format json` writes them. The files sent sit in the served rules
/// folder, over the files there: they may extend the served ones.
pub async fn check(Shared(state): App, request: Request) -> Response {
    let _timer = state.metrics.time(Route::Check);
    let answer = async {
        state.auth.check(request.headers())?;
        let query = query_pairs(request.uri().query());
        let media = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(|value| value.trim().to_ascii_lowercase());
        let body = read_body(&state, request, None).await?;
        let files = match media.as_deref() {
            Some("application/json") | None => {
                let sent: CheckRequest = serde_json::from_slice(&body).map_err(|error| {
                    Problem::new(
                        StatusCode::BAD_REQUEST,
                        "callassign::bad_check_request",
                        format!("the body is not `{{\"files\":{{\"NAME.rules\":\"TEXT\"}}}}`: {error}"),
                    )
                    .help("send `{\"files\":{\"team.rules\":\"ruleset team extends default\\n\"}}`, or one file as `text/plain` with `?name=team.rules`")
                })?;
                sent.files
            }
            Some("text/plain") => {
                let text = String::from_utf8(body.to_vec()).map_err(|_| {
                    Problem::new(
                        StatusCode::BAD_REQUEST,
                        "callassign::bad_check_request",
                        "the rule text is not valid UTF-8",
                    )
                })?;
                let name = query
                    .iter()
                    .find(|(key, _)| key == "name")
                    .map(|(_, value)| value.clone())
                    .or_else(|| ruleset_name(&text).map(|name| format!("{name}.rules")))
                    .ok_or_else(|| {
                        Problem::new(
                            StatusCode::BAD_REQUEST,
                            "callassign::bad_check_request",
                            "the rule text has no `ruleset NAME` line to name it by",
                        )
                        .help("name the file: `?name=team.rules`")
                    })?;
                BTreeMap::from([(name, text)])
            }
            Some(other) => {
                return Err(Problem::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "callassign::unsupported_media_type",
                    format!("a body of type `{other}` cannot be checked"),
                )
                .help("send `application/json` (`{\"files\":{\"NAME.rules\":\"TEXT\"}}`) or one file as `text/plain`"))
            }
        };
        check_names(&files)?;
        let folder = state.source.rules_folder();
        let findings = tokio::task::spawn_blocking(move || check_files(&folder, &files))
            .await
            .map_err(|_| Problem::internal("the check did not finish"))?;
        let mut body = report::json(&findings).into_bytes();
        body.push(b'\n');
        let mut response = Response::new(Body::from(body));
        response.headers_mut().insert(header::CONTENT_TYPE, JSON);
        Ok::<_, Problem>(response)
    };
    answer.await.unwrap_or_else(IntoResponse::into_response)
}

/// The name a rule text's `ruleset NAME` line gives.
fn ruleset_name(text: &str) -> Option<&str> {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))?
        .strip_prefix("ruleset")?
        .split_whitespace()
        .next()
}

/// Names of files sent to `/v1/check`: plain `NAME.rules`, nothing that
/// reaches outside the folder.
fn check_names(files: &BTreeMap<String, String>) -> Result<(), Problem> {
    let bad = |message: String| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "callassign::bad_check_request",
            message,
        )
    };
    if files.is_empty() {
        return Err(bad("no rule file was sent".into())
            .help("send `{\"files\":{\"team.rules\":\"ruleset team extends default\\n\"}}`"));
    }
    if files.len() > MAX_CHECKED_FILES {
        return Err(bad(format!(
            "{} files were sent; at most {MAX_CHECKED_FILES} are checked at once",
            files.len()
        )));
    }
    for name in files.keys() {
        let stem = name.strip_suffix(".rules").unwrap_or("");
        let plain = !stem.is_empty()
            && !stem.starts_with('.')
            && stem
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.');
        if !plain {
            return Err(bad(format!(
                "`{}` is not a rule file name",
                callassign::diagnostics::terminal::printable(name)
            ))
            .help("name each file `NAME.rules`, without folders"));
        }
    }
    Ok(())
}

/// Loads each sent file (with what it extends) over the rules folder and
/// gathers the findings.
fn check_files(folder: &FilePath, files: &BTreeMap<String, String>) -> Vec<Finding> {
    let mut overlay = Overlay::new(FileSystem);
    let paths: Vec<PathBuf> = files.keys().map(|name| folder.join(name)).collect();
    for (path, text) in paths.iter().zip(files.values()) {
        overlay.open(path, text.clone());
    }
    let mut loader = Loader::with_source(overlay);
    let mut findings = Vec::new();
    for path in &paths {
        if let Ok(compiled) = callassign::compile_with(&mut loader, path) {
            findings.extend(compiled.findings);
        }
    }
    sort_and_dedup(&mut findings);
    findings
}

#[derive(Serialize)]
struct StatusEntry<'a> {
    name: &'a str,
    hash: &'a str,
    loaded_at: &'a str,
    rules: &'a FilePath,
    context: &'a FilePath,
    files: &'a [PathBuf],
    last_reload: Option<super::app::LastReload>,
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
        serde_json::json!({
            "path": log.path,
            "written": log.written.get(),
            "lost": log.lost.get(),
            "error": last_error.map(|(at, message)| serde_json::json!({"at": at, "message": message})),
        })
    });
    let token = state.auth.path().map(|path| {
        serde_json::json!({
            "path": path,
            "last_refused": book.token,
        })
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
    not_served: Vec<&'a super::app::NotServed>,
    started_at: &'a str,
    version: &'a str,
    decision_log: Option<serde_json::Value>,
    token_file: Option<serde_json::Value>,
}

/// `GET /healthz`: the process answers.
pub async fn healthz(Shared(state): App) -> Response {
    let _timer = state.metrics.time(Route::Healthz);
    json_answer(&serde_json::json!({"status": "ok"}))
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
    json_answer(&serde_json::json!({"status": "ready", "rulesets": state.store.len()}))
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
    Problem::not_found(&callassign::diagnostics::terminal::printable(uri.path())).into_response()
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
    response
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
    }

    #[test]
    fn percent_decoding_is_lenient() {
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn check_names_stay_in_the_folder() {
        let ok = BTreeMap::from([("team.rules".to_string(), String::new())]);
        assert!(check_names(&ok).is_ok());
        for bad in [
            "../x.rules",
            "a/b.rules",
            "team.txt",
            ".rules",
            ".hidden.rules",
        ] {
            let files = BTreeMap::from([(bad.to_string(), String::new())]);
            assert!(check_names(&files).is_err(), "{bad}");
        }
    }

    #[test]
    fn rule_text_names_itself() {
        assert_eq!(
            ruleset_name("# team\n\nruleset team extends default\n"),
            Some("team")
        );
        assert_eq!(ruleset_name("step x\n"), None);
    }
}
