//! The workbench's routes: a served ruleset's own text, and rule text the
//! page sends, compiled in the served rules folder (so `extends` finds the
//! served files), planned, decided with the ruleset's context and compared
//! with the served version over the history. Each is one library call; the
//! page never writes anything, here or in the folder.

mod history;
mod plan;

use std::path::{Path as FilePath, PathBuf};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State as Shared};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use callassign::diagnostics::finding::{sort_and_dedup, Finding};
use callassign::diagnostics::source::Source;
use callassign::impact::diff::{self, Names};
use callassign::semantics::compile::{compile, Compiled};
use callassign::semantics::load::{FileSystem, Loader, Overlay};
use callassign::{DocumentFormat, Engine, InputFormat, NotOneCall, Options, ProblemCode};

use super::app::{State, HASH_HEADER};
use super::metrics::Route;
use super::problem::Problem;
use super::routes::{bad_path, read_body_up_to, refuse_encoded};
use super::store::Entry;
use super::work::{Spending, Work};
pub use history::history;
pub use plan::plan;

type App = Shared<Arc<State>>;

const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// How many assignee moves a diff lists unless asked for another number,
/// as `diff --top`.
const DEFAULT_TOP: usize = 10;

/// `GET /v1/rulesets/{name}/source`: the served version's rule file, byte
/// for byte.
pub async fn source(
    Shared(state): App,
    name: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    let _timer = state.metrics.time(Route::Source);
    let answer = || -> Result<Response, Problem> {
        state.auth.check(&headers)?;
        let Path(name) = name.map_err(bad_path)?;
        let entry = state.store.get(&name)?;
        let mut response = Response::new(Body::from(entry.text.to_string()));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        headers.insert(HASH_HEADER, entry.hash_header.clone());
        Ok(response)
    };
    answer().unwrap_or_else(IntoResponse::into_response)
}

/// The body of `/v1/plan` and `/v1/diff`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextRequest {
    /// The rule file the text stands for: `NAME.rules` in the rules folder.
    ruleset: String,
    text: String,
    /// `/v1/diff` only: how many assignee moves to list.
    #[serde(default)]
    top: Option<usize>,
}

/// The body of `/v1/decide`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideRequest {
    ruleset: String,
    /// The rule text to decide with; the served version when left out.
    #[serde(default)]
    text: Option<String>,
    call: String,
    #[serde(default)]
    input: InputChoice,
}

/// What the sent call is.
#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum InputChoice {
    /// A CloudTalk record when it looks like one ([`InputFormat::detect`]).
    #[default]
    Auto,
    Native,
    #[serde(rename = "cloudtalk")]
    CloudTalk,
}

/// The largest body a workbench route reads.
const MAX_EDIT_BODY_BYTES: usize = 3 << 20;

/// Reads a JSON body of the shape `T`; `example` shows one in the help.
async fn json_body<T: for<'de> Deserialize<'de>>(
    state: &State,
    request: Request,
    example: &str,
) -> Result<T, Problem> {
    let bad = |message: String| {
        Problem::new(StatusCode::BAD_REQUEST, "callassign::bad_request", message)
            .help(format!("send JSON such as `{example}`"))
    };
    if let Some(value) = request.headers().get(header::CONTENT_TYPE) {
        let media = value.to_str().unwrap_or("").split(';').next().unwrap_or("");
        if !media.trim().eq_ignore_ascii_case("application/json") {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "callassign::unsupported_media_type",
                format!(
                    "a body of type `{}` cannot be read",
                    crate::serve::problem::echo(&String::from_utf8_lossy(value.as_bytes()))
                ),
            )
            .help(format!("send `application/json` such as `{example}`")));
        }
    }
    refuse_encoded(request.headers())?;
    // Rule text of up to 1 MiB, written as JSON (a line break is two
    // bytes there, a control character six): the body may be larger than
    // the text. Text over 1 MiB reaches the loader, which says
    // `file_too_large` as `check` does, instead of a 413 about bodies.
    let body: Bytes = read_body_up_to(state, request, None, MAX_EDIT_BODY_BYTES).await?;
    serde_json::from_slice(&body).map_err(|error| bad(format!("the body cannot be read: {error}")))
}

/// A ruleset name the page may send: a plain file name in the rules folder.
fn rule_path(folder: &FilePath, name: &str) -> Result<PathBuf, Problem> {
    // A name the grammar takes for a ruleset (so never a path, and never a
    // name whose file could not be served under it).
    let plain = name.len() <= 128 && callassign::syntax::parse::is_name(name);
    if !plain {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "callassign::bad_request",
            format!(
                "`{}` is not a ruleset name",
                crate::serve::problem::echo(name)
            ),
        )
        .help("name a ruleset of the served folder, as `/v1/rulesets` lists them: `hubspot`"));
    }
    Ok(folder.join(format!("{name}.rules")))
}

/// Sent rule text compiled as `path`, over the files of the rules folder.
struct Edited {
    compiled: Compiled,
    /// The sent text as the loader read it: findings in it point into it.
    source: Option<Arc<Source>>,
}

/// Sent rule text compiled as `path`, over the files of the rules folder;
/// with `context` (the served ruleset's, and the name reports give it)
/// also the findings of the plan against it, as `check --context` gives
/// them: a fixed user who is not in the context, say.
fn compile_text_at(
    path: &FilePath,
    text: &str,
    context: Option<(&callassign::Context, &str)>,
) -> Result<Edited, Problem> {
    let mut documents = Overlay::new(FileSystem);
    documents.open(path, text);
    let chain = Loader::with_source(documents)
        .load_chain(path)
        .map_err(|error| Problem::internal(format!("the rule text cannot be loaded: {error}")))?;
    let source = chain.files.last().map(|file| Arc::clone(&file.source));
    let mut compiled = compile(&chain);
    if let (Some(plan), Some((context, name))) = (&compiled.plan, context) {
        compiled
            .findings
            .extend(callassign::semantics::fit::context_findings(
                &chain, plan, context, name,
            ));
    }
    sort_and_dedup(&mut compiled.findings);
    Ok(Edited { compiled, source })
}

/// The text compiled into an engine with the served ruleset's context, or
/// 422 when it has errors.
fn edited_engine(entry: &Entry, path: &FilePath, text: &str) -> Result<Engine, Problem> {
    let edited = compile_text_at(path, text, None)?;
    match edited.compiled.plan {
        Some(plan) => Ok(entry.engine.with_plan(plan)),
        None => {
            let errors: Vec<&Finding> = edited
                .compiled
                .findings
                .iter()
                .filter(|finding| finding.is_error())
                .collect();
            let first = errors.first().map_or_else(String::new, |finding| {
                let (line, column) = finding.line_col();
                format!(
                    "; the first, at {}:{line}:{column}: {}",
                    finding.file(),
                    finding.message()
                )
            });
            Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "callassign::rules_have_errors",
                format!(
                    "the rule text has {} {}{first}",
                    errors.len(),
                    if errors.len() == 1 { "error" } else { "errors" }
                ),
            )
            .help("fix the findings first (`POST /v1/plan` lists them)")
            .hash(&entry.hash_header))
        }
    }
}

/// `POST /v1/decide`: one call decided with sent rule text (or the served
/// version) and the ruleset's context, with the trace: the line `eval
/// --explain` writes, under `assignment`.
pub async fn decide(Shared(state): App, request: Request) -> Response {
    let _timer = state.metrics.time(Route::Decide);
    let answer = async {
        state.auth.check(request.headers())?;
        let sent: DecideRequest = json_body(
            &state,
            request,
            r#"{"ruleset":"hubspot","text":"…","call":"{\"id\":\"c-1\",…}","input":"auto"}"#,
        )
        .await?;
        let work = Work::new("the decision", state.limits.request_timeout);
        let entry = state.store.get(&sent.ruleset)?;
        let path = rule_path(&state.source.rules_folder(), &sent.ruleset)?;
        let hash = entry.hash_header.clone();
        let body = work
            .run(move |_| {
                let engine = match &sent.text {
                    Some(text) => edited_engine(&entry, &path, text)?,
                    None => entry.engine.clone(),
                };
                decide_one(&engine, &sent.call, sent.input).map_err(|p| p.hash(&entry.hash_header))
            })
            .await?;
        let mut response = Response::new(Body::from(body));
        response.headers_mut().insert(header::CONTENT_TYPE, JSON);
        response.headers_mut().insert(HASH_HEADER, hash);
        Ok::<_, Problem>(response)
    };
    answer.await.unwrap_or_else(IntoResponse::into_response)
}

/// `{"input":…,"assignment":LINE}`, LINE being `eval --explain`'s bytes.
fn decide_one(engine: &Engine, call: &str, choice: InputChoice) -> Result<Vec<u8>, Problem> {
    let input = match choice {
        InputChoice::Auto => InputFormat::detect(call),
        InputChoice::Native => InputFormat::Native,
        InputChoice::CloudTalk => InputFormat::CloudTalk,
    };
    let trimmed = call.trim_start_matches('\u{feff}').trim_start();
    let format = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        DocumentFormat::Json
    } else {
        DocumentFormat::Yaml
    };
    let options = Options {
        explain: true,
        input,
        ..Options::default()
    };
    let mut line = Vec::with_capacity(1024);
    let written = engine
        .assign_document(call, format, options, &mut line, &mut ())
        .map_err(not_one_call)?
        .map_err(|error| Problem::internal(format!("cannot write the answer: {error}")))?;
    if written.lines != 1 {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "callassign::not_one_call",
            format!("the call holds {} records", written.lines),
        )
        .help("decide one record at a time"));
    }
    if written.unreadable == 1 {
        let error: serde_json::Value = serde_json::from_slice(&line).unwrap_or_default();
        let message = error
            .get("error")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("the call cannot be read")
            .to_string();
        let help = match input {
            InputFormat::Native if choice_is_auto(choice) => {
                "a native call has `id`, `direction` and `status`; a CloudTalk record has `Cdr` (call history) or `cdr_id` (analytics)"
            }
            InputFormat::Native => "a native call has `id`, `direction` and `status`",
            InputFormat::CloudTalk => {
                "a CloudTalk record is a call-history item (`Cdr`, `Contact`, `Agent`, …) or an analytics call detail (`cdr_id`, `call_steps`)"
            }
        };
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemCode::UnreadableCall.name(),
            message,
        )
        .help(help));
    }
    while line.last() == Some(&b'\n') {
        line.pop();
    }
    let mut body = format!(
        "{{\"input\":\"{}\",\"assignment\":",
        match input {
            InputFormat::Native => "native",
            InputFormat::CloudTalk => "cloudtalk",
        }
    )
    .into_bytes();
    body.extend_from_slice(&line);
    body.extend_from_slice(b"}\n");
    Ok(body)
}

fn choice_is_auto(choice: InputChoice) -> bool {
    matches!(choice, InputChoice::Auto)
}

fn not_one_call(refusal: NotOneCall) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        refusal.code(),
        format!("the call box holds {refusal}"),
    )
    .help(match refusal {
        NotOneCall::CloudTalkYaml => refusal.help(),
        _ => "decide one call at a time",
    })
}

fn no_history() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "callassign::no_history",
        "no history is served",
    )
    .help("start the service with `--history FILE` (JSON Lines of past calls; CloudTalk records with `--history-input cloudtalk`)")
}

/// `POST /v1/diff`: what the sent rule text changes against the served
/// version over the history, as `callassign diff --format json` reports
/// it (the same numbers, moves and examples).
pub async fn diff(Shared(state): App, request: Request) -> Response {
    let _timer = state.metrics.time(Route::Diff);
    let answer = async {
        state.auth.check(request.headers())?;
        let sent: TextRequest = json_body(
            &state,
            request,
            r#"{"ruleset":"hubspot","text":"ruleset hubspot extends default\n"}"#,
        )
        .await?;
        let work = Work::new("the diff", state.limits.request_timeout);
        let entry = state.store.get(&sent.ruleset)?;
        let history = state.history.clone().ok_or_else(no_history)?;
        let path = rule_path(&state.source.rules_folder(), &sent.ruleset)?;
        let hash = entry.hash_header.clone();
        let body = work
            .run(move |budget| {
                let edited = edited_engine(&entry, &path, &sent.text)?;
                let version = history.current();
                let names = Names {
                    old: entry.rules.display().to_string(),
                    new: format!("{} (edited)", entry.rules.display()),
                };
                let mut report = diff::compare(
                    &entry.engine,
                    &edited,
                    Spending::new(&version.bytes, budget),
                    history.input,
                    names,
                )
                .map_err(|error| budget.history_failed(error))?;
                report.keep_top_assignee_moves(sent.top.unwrap_or(DEFAULT_TOP));
                let mut body = serde_json::to_vec(&report).expect("a report serializes");
                body.push(b'\n');
                Ok(body)
            })
            .await?;
        let mut response = Response::new(Body::from(body));
        response.headers_mut().insert(header::CONTENT_TYPE, JSON);
        response.headers_mut().insert(HASH_HEADER, hash);
        Ok::<_, Problem>(response)
    };
    answer.await.unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_paths_stay_in_the_folder() {
        let folder = FilePath::new("rules");
        assert_eq!(
            rule_path(folder, "hubspot").unwrap(),
            folder.join("hubspot.rules")
        );
        for bad in [
            "", "../x", "a/b", ".hidden", "a\\b", "a b", "été", "step", "a.b",
        ] {
            assert!(rule_path(folder, bad).is_err(), "{bad:?}");
        }
    }
}
