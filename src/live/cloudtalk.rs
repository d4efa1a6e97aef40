//! CloudTalk's two APIs, as the loop asks them about one call:
//!
//! - `GET {api}/calls/index.json?call_id=ID`: the call-history item;
//! - `GET {analytics}/calls/ID`: the call-detail record, with the steps.
//!
//! Both with HTTP Basic auth, the account's API key id and secret, read
//! from the environment (`CLOUDTALK_API_KEY_ID`, `CLOUDTALK_API_KEY_SECRET`)
//! and never written anywhere. A call is decided only once both records
//! are there: CloudTalk writes them after the call's wrap-up, so a call
//! not found yet is a reason to wait, not to decide on half of it.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use reqwest::{StatusCode, Url};
use serde_json::Value;

use super::metrics::LiveMetrics;

/// The API key's environment variables.
pub const KEY_ID_VAR: &str = "CLOUDTALK_API_KEY_ID";
pub const KEY_SECRET_VAR: &str = "CLOUDTALK_API_KEY_SECRET";

/// CloudTalk's public addresses, with their `/api` prefix.
pub const DEFAULT_API: &str = "https://my.cloudtalk.io/api";
pub const DEFAULT_ANALYTICS: &str = "https://analytics-api.cloudtalk.io/api";

/// A record bigger than this is refused rather than read into memory.
const MAX_BODY: usize = 4 << 20;

/// How long a request may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A 429 without `Retry-After` waits this long. One asking for more than
/// five minutes is held to five (CloudTalk's limits are per minute; a
/// wait of a day would be a fault, and it is stored with the call, so it
/// would outlast a restart), and one asking for less than a second (`0`, a
/// date gone by) waits a second, not a loop of requests.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(30);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
const MIN_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The secret, kept out of `Debug`.
struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// What the APIs said about a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    /// Both records, combined into the one record `eval --input cloudtalk`
    /// reads (see `callassign::cloudtalk_combined`).
    Found(Value),
    /// CloudTalk does not have the call (or one of its records) yet.
    NotYet(String),
}

/// Why a fetch failed; each is retried on its own schedule.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchError {
    /// 429: wait as long as CloudTalk asked.
    RateLimited { wait: Duration, message: String },
    /// 401 or 403: the API key is wrong or lacks rights.
    Refused(String),
    /// 5xx, a timeout, a refused connection, a body that is not a record.
    Transient(String),
}

impl FetchError {
    pub fn message(&self) -> &str {
        match self {
            FetchError::RateLimited { message, .. }
            | FetchError::Refused(message)
            | FetchError::Transient(message) => message,
        }
    }

    /// The metric label.
    pub fn outcome(&self) -> &'static str {
        match self {
            FetchError::RateLimited { .. } => "rate_limited",
            FetchError::Refused(_) => "refused",
            FetchError::Transient(_) => "error",
        }
    }
}

/// Which API a request went to, for messages and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    History,
    Detail,
}

impl Api {
    pub fn name(self) -> &'static str {
        match self {
            Api::History => "history",
            Api::Detail => "detail",
        }
    }
}

/// A client of both APIs for one account.
#[derive(Debug)]
pub struct CloudTalk {
    http: reqwest::Client,
    api: Url,
    analytics: Url,
    key_id: String,
    secret: Secret,
    /// After a 429, no request until then: the limit is the account's.
    paused_until: Mutex<Option<Instant>>,
}

impl CloudTalk {
    /// A client of the APIs at `api` and `analytics` (base URLs with their
    /// `/api` prefix), with the key from the environment.
    pub fn from_env(api: &str, analytics: &str) -> Result<CloudTalk, String> {
        let key_id = std::env::var(KEY_ID_VAR).unwrap_or_default();
        let secret = std::env::var(KEY_SECRET_VAR).unwrap_or_default();
        if key_id.trim().is_empty() || secret.trim().is_empty() {
            return Err(format!(
                "`{KEY_ID_VAR}` and `{KEY_SECRET_VAR}` must be set: the CloudTalk API key (Account → Settings → API keys) that reads calls"
            ));
        }
        CloudTalk::new(api, analytics, key_id.trim(), secret.trim())
    }

    pub fn new(
        api: &str,
        analytics: &str,
        key_id: &str,
        secret: &str,
    ) -> Result<CloudTalk, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(TIMEOUT)
            .user_agent(concat!("callassign/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| format!("cannot set up the HTTP client: {error}"))?;
        Ok(CloudTalk {
            http,
            api: base_url(api, "--cloudtalk-api")?,
            analytics: base_url(analytics, "--cloudtalk-analytics")?,
            key_id: key_id.to_string(),
            secret: Secret(secret.to_string()),
            paused_until: Mutex::new(None),
        })
    }

    /// Both records of `call`, combined; `NotYet` while either is missing.
    pub async fn records(&self, call: &str, metrics: &LiveMetrics) -> Result<Fetched, FetchError> {
        let history = match self.history(call, metrics).await? {
            Fetched::Found(item) => item,
            not_yet => return Ok(not_yet),
        };
        let detail = match self.detail(call, metrics).await? {
            Fetched::Found(record) => record,
            not_yet => return Ok(not_yet),
        };
        callassign::cloudtalk_combined(&history, &detail)
            .map(Fetched::Found)
            .map_err(FetchError::Transient)
    }

    /// The call-history item of `call`.
    pub async fn history(&self, call: &str, metrics: &LiveMetrics) -> Result<Fetched, FetchError> {
        let mut url = self.api.clone();
        url.path_segments_mut()
            .expect("a base URL")
            .pop_if_empty()
            .extend(["calls", "index.json"]);
        url.query_pairs_mut().append_pair("call_id", call);
        let Some(body) = self.get(Api::History, url, metrics).await? else {
            return Err(FetchError::Transient(
                "the call history answered 404: is `--cloudtalk-api` CloudTalk's API address with its `/api`?".to_string(),
            ));
        };
        let items = body
            .pointer("/responseData/data")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                FetchError::Transient(
                    "the call history's answer has no `responseData.data` list".to_string(),
                )
            })?;
        // The filter is CloudTalk's: the item is still checked to be the call's.
        let item = items
            .iter()
            .find(|item| item.pointer("/Cdr/id").is_some_and(|id| same_id(id, call)));
        Ok(match item {
            Some(item) => Fetched::Found(item.clone()),
            None => Fetched::NotYet(format!(
                "call `{call}` is not in CloudTalk's call history yet"
            )),
        })
    }

    /// The call-detail record of `call`.
    pub async fn detail(&self, call: &str, metrics: &LiveMetrics) -> Result<Fetched, FetchError> {
        let mut url = self.analytics.clone();
        url.path_segments_mut()
            .expect("a base URL")
            .pop_if_empty()
            .extend(["calls", call]);
        let Some(record) = self.get(Api::Detail, url, metrics).await? else {
            // The analytics API answers 404 both for a call it has not yet
            // and for a wrong address: said, for when every call stays so.
            return Ok(Fetched::NotYet(format!(
                "call `{call}` is not in CloudTalk's analytics yet (404; if no call ever is, check that `--cloudtalk-analytics` is the analytics API's address with its `/api`)"
            )));
        };
        match record.get("cdr_id") {
            Some(id) if same_id(id, call) => Ok(Fetched::Found(record)),
            Some(id) => Err(FetchError::Transient(format!(
                "the analytics API answered call `{id}` when asked for `{call}`"
            ))),
            None => Err(FetchError::Transient(
                "the analytics API's answer has no `cdr_id`".to_string(),
            )),
        }
    }

    /// GETs `url`: its JSON, or `None` for a 404; each answer counted.
    async fn get(
        &self,
        api: Api,
        url: Url,
        metrics: &LiveMetrics,
    ) -> Result<Option<Value>, FetchError> {
        let answer = self.get_uncounted(api, url).await;
        let outcome = match &answer {
            Ok(Some(_)) => "answered",
            Ok(None) => "not_found",
            Err(error) => error.outcome(),
        };
        metrics.fetch(api.name(), outcome);
        answer
    }

    async fn get_uncounted(&self, api: Api, url: Url) -> Result<Option<Value>, FetchError> {
        let what = match api {
            Api::History => "the call history",
            Api::Detail => "the analytics API",
        };
        if let Some(wait) = self.paused() {
            return Err(FetchError::RateLimited {
                wait,
                message: format!("waiting {}s for CloudTalk's rate limit", wait.as_secs()),
            });
        }
        let response = self
            .http
            .get(url)
            .basic_auth(&self.key_id, Some(&self.secret.0))
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|error| FetchError::Transient(format!("{what}: {}", transport(&error))))?;
        let status = response.status();
        match status {
            StatusCode::NOT_FOUND => return Ok(None),
            StatusCode::TOO_MANY_REQUESTS => {
                let wait = retry_after(response.headers(), SystemTime::now());
                self.pause(wait);
                return Err(FetchError::RateLimited {
                    wait,
                    message: format!(
                        "{what} answered 429 (rate limit): retrying in {}s",
                        wait.as_secs()
                    ),
                });
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(FetchError::Refused(format!(
                    "{what} answered {}: check `{KEY_ID_VAR}` and `{KEY_SECRET_VAR}`",
                    status.as_u16()
                )))
            }
            status if !status.is_success() => {
                return Err(FetchError::Transient(format!(
                    "{what} answered {}",
                    status.as_u16()
                )))
            }
            _ => {}
        }
        let body = read_body(response)
            .await
            .map_err(|error| FetchError::Transient(format!("{what}: {error}")))?;
        serde_json::from_slice(&body).map(Some).map_err(|error| {
            FetchError::Transient(format!(
                "{what} answered with JSON that cannot be read: {error}"
            ))
        })
    }

    fn paused(&self) -> Option<Duration> {
        let until = (*self.paused_until.lock().unwrap_or_else(|p| p.into_inner()))?;
        until.checked_duration_since(Instant::now())
    }

    fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if paused.is_none_or(|paused| paused < until) {
            *paused = Some(until);
        }
    }
}

/// A base URL, checked: `http` or `https`, and a path to append to.
fn base_url(text: &str, flag: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|error| format!("`{flag} {text}`: {error}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(format!(
            "`{flag} {text}` should be an http(s) address, such as `{}`",
            if flag == "--cloudtalk-api" {
                DEFAULT_API
            } else {
                DEFAULT_ANALYTICS
            }
        ));
    }
    Ok(url)
}

/// Whether an id in a record (a number or a string) is `call`.
fn same_id(id: &Value, call: &str) -> bool {
    match id {
        Value::String(id) => id.trim() == call,
        Value::Number(id) => id.to_string() == call,
        _ => false,
    }
}

/// A transport error in a few words, without the URL's query.
pub fn transport(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "no answer within 10 s".to_string()
    } else if error.is_connect() {
        "cannot connect".to_string()
    } else {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            message = format!("{message}: {cause}");
            source = cause.source();
        }
        message
    }
}

/// A body, at most [`MAX_BODY`] bytes.
pub async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| transport(&error))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(format!("the answer is over {} MiB", MAX_BODY >> 20));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// How long a 429 asks to wait: `Retry-After` in seconds or as an HTTP
/// date, else [`DEFAULT_RETRY_AFTER`]; at most [`MAX_RETRY_AFTER`].
pub fn retry_after(headers: &reqwest::header::HeaderMap, now: SystemTime) -> Duration {
    let Some(value) = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
    else {
        return DEFAULT_RETRY_AFTER;
    };
    let value = value.trim();
    let wait = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else if let Ok(at) = httpdate::parse_http_date(value) {
        at.duration_since(now).unwrap_or(Duration::ZERO)
    } else {
        DEFAULT_RETRY_AFTER
    };
    wait.clamp(MIN_RETRY_AFTER, MAX_RETRY_AFTER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    #[test]
    fn retry_after_is_read_in_seconds_or_as_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let wait = |value: Option<&str>| {
            let mut headers = HeaderMap::new();
            if let Some(value) = value {
                headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
            }
            retry_after(&headers, now).as_secs()
        };
        assert_eq!(wait(Some("7")), 7);
        // Less than a second waits a second: not a loop of requests.
        assert_eq!(wait(Some(" 0 ")), 1);
        assert_eq!(
            wait(Some(&httpdate::fmt_http_date(
                now + Duration::from_secs(90)
            ))),
            90
        );
        assert_eq!(
            wait(Some(&httpdate::fmt_http_date(
                now - Duration::from_secs(90)
            ))),
            1
        );
        assert_eq!(wait(Some("soon")), 30);
        assert_eq!(wait(None), 30);
        // A day is held to five minutes (it is stored with the call).
        assert_eq!(wait(Some("999999")), 300);
    }

    #[test]
    fn paths_are_appended_to_the_base_with_the_id_escaped() {
        let client = CloudTalk::new(
            "http://127.0.0.1:9/api/",
            "http://127.0.0.1:9/x/api",
            "id",
            "s3cr3t-value",
        )
        .unwrap();
        let mut url = client.analytics.clone();
        url.path_segments_mut()
            .unwrap()
            .pop_if_empty()
            .extend(["calls", "1/../2"]);
        assert_eq!(url.as_str(), "http://127.0.0.1:9/x/api/calls/1%2F..%2F2");
        let mut url = client.api.clone();
        url.path_segments_mut()
            .unwrap()
            .pop_if_empty()
            .extend(["calls", "index.json"]);
        url.query_pairs_mut().append_pair("call_id", "7&x=1");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/api/calls/index.json?call_id=7%26x%3D1"
        );
        assert!(!format!("{client:?}").contains("s3cr3t"));
    }

    #[test]
    fn base_urls_must_be_http() {
        assert!(CloudTalk::new("ftp://x/api", DEFAULT_ANALYTICS, "a", "b")
            .unwrap_err()
            .contains("http(s)"));
        assert!(CloudTalk::new("not a url", DEFAULT_ANALYTICS, "a", "b").is_err());
    }
}
