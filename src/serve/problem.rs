//! Error answers: every 4xx and 5xx body is
//! `{"error":{"code","message","help"}}`, `help` null when the message
//! says it all.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// How many characters of a piece of client input an error message
/// quotes at most.
pub const ECHO_CHARS: usize = 64;

/// A piece of what a client sent (a name, a query value, a key, a header)
/// as an error message quotes it: escaped as a terminal shows it, and cut
/// after its first [`ECHO_CHARS`] characters with `…`, so that a 60 KB
/// name does not come back as a 60 KB message.
pub fn echo(text: &str) -> String {
    let shown = callassign::diagnostics::terminal::printable(text);
    match shown.char_indices().nth(ECHO_CHARS) {
        None => shown.into_owned(),
        Some((end, _)) => format!("{}…", &shown[..end]),
    }
}

/// An answer that refuses a request.
#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
    /// The version of the ruleset that was resolved, if one was.
    pub hash: Option<HeaderValue>,
}

#[derive(Serialize)]
struct Body_<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    help: Option<&'a str>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            status,
            code,
            message: message.into(),
            help: None,
            hash: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }

    /// Names the ruleset version the request was resolved to.
    pub fn hash(mut self, hash: &HeaderValue) -> Problem {
        self.hash = Some(hash.clone());
        self
    }

    /// The JSON body.
    pub fn body(&self) -> Vec<u8> {
        let mut body = serde_json::to_vec(&Body_ {
            error: Inner {
                code: self.code,
                message: &self.message,
                help: self.help.as_deref(),
            },
        })
        .expect("an error body serializes");
        body.push(b'\n');
        body
    }

    pub fn unauthorized(message: &str) -> Problem {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "callassign::unauthorized",
            message,
        )
        .help("send `Authorization: Bearer TOKEN`, TOKEN being the content of the service's `--token-file`")
    }

    pub fn not_found(path: &str) -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "callassign::not_found",
            format!("no route `{}`", echo(path)),
        )
        .help("the routes are /v1/rulesets, /v1/rulesets/NAME/assign, /v1/rulesets/NAME/plan, /v1/rulesets/NAME/source, /v1/check, /v1/plan, /v1/decide, /v1/diff, /v1/history, /v1/status, /healthz, /readyz and /metrics; the workbench is at /; with --store, /v1/cloudtalk/NAME/events and /v1/decisions/CALL_ID")
    }

    pub fn method_not_allowed(method: &str, path: &str) -> Problem {
        let allowed = if path.ends_with("/assign")
            || path.ends_with("/events")
            || matches!(path, "/v1/check" | "/v1/plan" | "/v1/decide" | "/v1/diff")
        {
            "POST"
        } else {
            "GET"
        };
        Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "callassign::method_not_allowed",
            format!("`{}` does not answer {}", echo(path), echo(method)),
        )
        .help(format!("use {allowed}"))
    }

    pub fn internal(message: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "callassign::internal",
            message,
        )
        .help("this is a bug in callassign: please report it with the request that caused it")
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.body()));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(hash) = self.hash {
            headers.insert(crate::serve::app::HASH_HEADER, hash);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_has_code_message_and_help() {
        let problem = Problem::new(StatusCode::NOT_FOUND, "callassign::x", "no `a\"b`");
        assert_eq!(
            String::from_utf8(problem.body()).unwrap(),
            "{\"error\":{\"code\":\"callassign::x\",\"message\":\"no `a\\\"b`\",\"help\":null}}\n"
        );
    }

    #[test]
    fn echoes_are_escaped_then_cut_at_a_character_boundary() {
        assert_eq!(echo("hubspot"), "hubspot");
        assert_eq!(echo(&"x".repeat(64)), "x".repeat(64));
        assert_eq!(echo(&"x".repeat(65)), format!("{}…", "x".repeat(64)));
        assert_eq!(echo(&"é".repeat(100)), format!("{}…", "é".repeat(64)));
        assert_eq!(echo("a\nb"), r"a\nb");
        // Escaped first: a control character counts as what is shown.
        assert_eq!(echo(&"\n".repeat(40)), format!("{}…", r"\n".repeat(32)));
    }
}
