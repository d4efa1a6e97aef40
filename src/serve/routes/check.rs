//! `POST /v1/check`: findings for rule text sent in the body.

use std::collections::BTreeMap;
use std::path::{Path as FilePath, PathBuf};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use callassign::diagnostics::finding::{sort_and_dedup, Finding};
use callassign::diagnostics::report;
use callassign::semantics::load::{FileSystem, Loader, Overlay};

use super::{known_query_pairs, read_body, App, Shared, JSON};
use crate::serve::metrics::Route;
use crate::serve::problem::Problem;
use crate::serve::work::Work;

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
        let query = known_query_pairs(request.uri().query(), &["name"])?;
        let media = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(|value| value.trim().to_ascii_lowercase());
        super::refuse_encoded(request.headers())?;
        let body = read_body(&state, request, None).await?;
        let files = match media.as_deref() {
            Some("application/json") | None => {
                if query.iter().any(|(key, _)| key == "name") {
                    return Err(Problem::new(
                        StatusCode::BAD_REQUEST,
                        "callassign::bad_query",
                        "`?name=` names a `text/plain` body; a JSON body names its files by its keys",
                    )
                    .help("drop `?name=`, or send the rule text as `text/plain`"));
                }
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
                    format!(
                        "a body of type `{}` cannot be checked",
                        crate::serve::problem::echo(other)
                    ),
                )
                .help("send `application/json` (`{\"files\":{\"NAME.rules\":\"TEXT\"}}`) or one file as `text/plain`"))
            }
        };
        check_names(&files)?;
        let folder = state.source.rules_folder();
        let findings = Work::new("the check", state.limits.request_timeout)
            .run(move |_| Ok(check_files(&folder, &files)))
            .await?;
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
                crate::serve::problem::echo(name)
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

#[cfg(test)]
mod tests {
    use super::*;

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
