//! Local fakes of what the live loop talks to, on loopback ports of
//! their own (each on a runtime thread of its own):
//!
//! - [`FakeCloudTalk`]: both of CloudTalk's APIs (`/api/calls/index.json`
//!   and `/analytics/api/calls/{id}`), with the shapes of CloudTalk's
//!   reference, checking HTTP Basic auth; it can answer 401, 429 (with
//!   `Retry-After`), 5xx, answer slowly, and keep a call's records
//!   missing for a while (CloudTalk writes them after wrap-up);
//! - [`FakeTarget`]: a delivery target that records what it gets and can
//!   be down (nothing listening), slow, answer 5xx, or redirect elsewhere
//!   (a 3xx to `/hooks/moved`, which answers 200 to any method).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

pub const KEY_ID: &str = "fake-key-id";
pub const KEY_SECRET: &str = "fake-secret-Zq9";

/// A runtime thread serving `router` on `addr` (port 0: any) until
/// dropped.
struct Served {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Served {
    fn start(router: Router, addr: SocketAddr) -> Served {
        let (ready, bound) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
                ready.send(listener.local_addr().unwrap()).unwrap();
                axum::serve(listener, router)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
            runtime.shutdown_timeout(Duration::from_millis(100));
        });
        Served {
            addr: bound.recv_timeout(Duration::from_secs(10)).unwrap(),
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One call's two records, as CloudTalk's APIs give them.
#[derive(Debug, Clone)]
pub struct Records {
    pub history: Value,
    pub detail: Value,
}

#[derive(Default)]
struct CloudTalkState {
    calls: HashMap<String, Records>,
    /// Records missing until then.
    missing_until: HashMap<String, Instant>,
    /// Statuses to answer the next requests with instead (401, 429, 500).
    faults: VecDeque<u16>,
    retry_after: Option<String>,
    delay: Duration,
    /// Every request: path and status.
    log: Vec<(String, u16)>,
}

/// Both CloudTalk APIs.
pub struct FakeCloudTalk {
    served: Served,
    state: Arc<Mutex<CloudTalkState>>,
}

impl FakeCloudTalk {
    pub fn start() -> FakeCloudTalk {
        let state = Arc::new(Mutex::new(CloudTalkState::default()));
        let router = Router::new()
            .route("/api/calls/index.json", get(history))
            .route("/analytics/api/calls/{id}", get(detail))
            .with_state(Arc::clone(&state));
        FakeCloudTalk {
            served: Served::start(router, "127.0.0.1:0".parse().unwrap()),
            state,
        }
    }

    /// `--cloudtalk-api`.
    pub fn api(&self) -> String {
        format!("http://{}/api", self.served.addr)
    }

    /// `--cloudtalk-analytics`.
    pub fn analytics(&self) -> String {
        format!("http://{}/analytics/api", self.served.addr)
    }

    pub fn add(&self, call: &str, records: Records) {
        self.state().calls.insert(call.to_string(), records);
    }

    /// The call's records appear only after `after`.
    pub fn missing_for(&self, call: &str, after: Duration) {
        self.state()
            .missing_until
            .insert(call.to_string(), Instant::now() + after);
    }

    /// The next requests get these statuses (429 with `retry_after`).
    pub fn fail_next(&self, statuses: &[u16], retry_after: Option<&str>) {
        let mut state = self.state();
        state.faults.extend(statuses);
        state.retry_after = retry_after.map(str::to_string);
    }

    pub fn slow(&self, delay: Duration) {
        self.state().delay = delay;
    }

    /// Requests answered so far: path and status.
    pub fn log(&self) -> Vec<(String, u16)> {
        self.state().log.clone()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, CloudTalkState> {
        self.state.lock().unwrap()
    }
}

type Shared = State<Arc<Mutex<CloudTalkState>>>;

/// Auth, faults and delay, common to both APIs: an answer to give
/// instead, if any.
async fn gate(
    state: &Arc<Mutex<CloudTalkState>>,
    headers: &HeaderMap,
    path: &str,
) -> Option<Response> {
    let delay = state.lock().unwrap().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let expected = format!("Basic {}", base64(&format!("{KEY_ID}:{KEY_SECRET}")));
    let mut state = state.lock().unwrap();
    let authorized = headers
        .get("authorization")
        .is_some_and(|value| value.as_bytes() == expected.as_bytes());
    let fault = state.faults.pop_front();
    let answer = if !authorized {
        Some((
            401,
            json!({"responseData": {"status": 401, "message": "Unauthorized"}}),
        ))
    } else {
        fault.map(|status| {
            (
                status,
                json!({"statusCode": status, "message": "fault", "error": "Fake"}),
            )
        })
    };
    let status = answer.as_ref().map_or(200, |(status, _)| *status);
    state.log.push((path.to_string(), status));
    let (status, body) = answer?;
    let mut response = (StatusCode::from_u16(status).unwrap(), body.to_string()).into_response();
    if status == 429 {
        if let Some(after) = &state.retry_after {
            response
                .headers_mut()
                .insert("retry-after", after.parse().unwrap());
        }
    }
    Some(response)
}

fn visible<'a>(state: &'a CloudTalkState, call: &str) -> Option<&'a Records> {
    let missing = state
        .missing_until
        .get(call)
        .is_some_and(|until| Instant::now() < *until);
    state.calls.get(call).filter(|_| !missing)
}

async fn history(State(state): Shared, headers: HeaderMap, uri: Uri) -> Response {
    let call = uri
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("call_id="))
        .unwrap_or("")
        .to_string();
    if let Some(refused) = gate(&state, &headers, uri.path()).await {
        return refused;
    }
    let state = state.lock().unwrap();
    let data: Vec<Value> = visible(&state, &call)
        .map(|records| records.history.clone())
        .into_iter()
        .collect();
    let body = json!({"responseData": {"itemsCount": data.len(), "pageCount": 1, "pageNumber": 1, "limit": 1000, "data": data}});
    ([("content-type", "application/json")], body.to_string()).into_response()
}

async fn detail(
    State(state): Shared,
    Path(call): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    if let Some(refused) = gate(&state, &headers, uri.path()).await {
        return refused;
    }
    let state = state.lock().unwrap();
    match visible(&state, &call) {
        Some(records) => (
            [("content-type", "application/json")],
            records.detail.to_string(),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            json!({"statusCode": 404, "message": "Call not found", "error": "Not Found"})
                .to_string(),
        )
            .into_response(),
    }
}

/// Call `n`'s two records: one of four kinds of call, by `n % 4`.
pub fn records(n: u64) -> Records {
    let id = 1_000_000 + n;
    // Ids come as numbers and as strings, as in CloudTalk's examples.
    let cdr_id = if n % 2 == 0 {
        json!(id)
    } else {
        json!(id.to_string())
    };
    let (history, detail) = match n % 4 {
        // Missed after the IVR sent it to Ola (agent 1237, linked to 104).
        0 => (
            json!({"Cdr": {"id": cdr_id, "type": "incoming", "started_at": "2026-11-23T10:00:00Z", "talking_time": 0,
                    "public_external": "+421905111222", "public_internal": "+442012345678"}}),
            json!({"cdr_id": id, "direction": "incoming", "status": "missed",
                   "call_steps": [{"type": "ivr", "id": 1, "option": "2"}, {"type": "agent", "id": 1237, "status": "missed", "reason": "not_picked_up"}]}),
        ),
        // A voicemail on the Bratislava number: support@acme.com (103).
        1 => (
            json!({"Cdr": {"id": cdr_id, "type": "incoming", "is_voicemail": true, "started_at": "2026-11-23T10:00:00Z",
                    "public_internal": "+421221291400"}}),
            json!({"cdr_id": id, "direction": "incoming", "status": "missed",
                   "call_steps": [{"type": "queue", "id": 10, "status": "missed", "agent_calls": []}]}),
        ),
        // Answered by Max (max.yellow@acme.sk, linked to 101).
        2 => (
            json!({"Cdr": {"id": cdr_id, "type": "outgoing", "answered_at": "2026-11-23T10:00:05Z", "started_at": "2026-11-23T10:00:00Z",
                    "talking_time": "42"}, "Agent": {"id": "1234", "email": "max.yellow@acme.sk"}}),
            json!({"cdr_id": id, "direction": "outgoing", "status": "answered", "call_steps": []}),
        ),
        // Missed with no flow, from contact 1234 (owned by 102).
        _ => (
            json!({"Cdr": {"id": cdr_id, "type": "incoming", "started_at": "2026-11-23T10:00:00Z"}, "Contact": {"id": 1234}}),
            json!({"cdr_id": id, "direction": "incoming", "status": "missed", "call_steps": [{"type": "playback", "id": 3}]}),
        ),
    };
    Records { history, detail }
}

/// The owner and step call `n` must get, as the tests know it.
pub fn expected(n: u64) -> (&'static str, &'static str) {
    match n % 4 {
        0 => ("104", "last_step_agent"),
        1 => ("103", "voicemail_email"),
        2 => ("101", "call_agent"),
        _ => ("102", "contact_owner"),
    }
}

pub fn call_id(n: u64) -> String {
    (1_000_000 + n).to_string()
}

/// The body CloudTalk's *Call ended → API Request* sends (real captures
/// hold numbers without `+`, and keys the admin chose).
pub fn event(n: u64) -> Vec<u8> {
    json!({"call_id": 1_000_000 + n, "call_uuid": format!("44fe27cd-{n}"), "internal_number": 40312296109u64,
           "external_number": 393513416607u64, "agent_id": null})
    .to_string()
    .into_bytes()
}

/// What a target received.
#[derive(Debug, Clone)]
pub struct Received {
    pub key: String,
    pub body: Value,
    pub raw: String,
    pub authorization: Option<String>,
    pub status: u16,
}

#[derive(Default)]
struct TargetState {
    received: Vec<Received>,
    faults: VecDeque<u16>,
    delay: Duration,
    /// Requests that followed a redirect to `/hooks/moved`: method and body.
    moved: Vec<(String, String)>,
}

/// A delivery target.
pub struct FakeTarget {
    served: Option<Served>,
    addr: SocketAddr,
    state: Arc<Mutex<TargetState>>,
}

impl FakeTarget {
    pub fn start() -> FakeTarget {
        let state = Arc::new(Mutex::new(TargetState::default()));
        let served = Served::start(target_router(&state), "127.0.0.1:0".parse().unwrap());
        FakeTarget {
            addr: served.addr,
            served: Some(served),
            state,
        }
    }

    /// A target on `addr` (a port another fake left).
    pub fn start_at(addr: SocketAddr) -> FakeTarget {
        let state = Arc::new(Mutex::new(TargetState::default()));
        let served = Served::start(target_router(&state), addr);
        FakeTarget {
            addr: served.addr,
            served: Some(served),
            state,
        }
    }

    /// A target whose port is taken but nothing listens yet: down.
    pub fn down() -> FakeTarget {
        let mut target = FakeTarget::start();
        target.stop();
        target
    }

    /// Down: nothing listens on its port.
    pub fn stop(&mut self) {
        self.served = None;
    }

    /// Up again, on the same port.
    pub fn resume(&mut self) {
        self.served = Some(Served::start(target_router(&self.state), self.addr));
    }

    /// `--deliver`.
    pub fn url(&self) -> String {
        format!("http://{}/hooks/calls", self.addr)
    }

    pub fn fail_next(&self, statuses: &[u16]) {
        self.state.lock().unwrap().faults.extend(statuses);
    }

    pub fn slow(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }

    /// Every request received, in order.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// What reached `/hooks/moved`, where a 3xx answer points: method and
    /// body.
    pub fn moved(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().moved.clone()
    }

    /// The decisions accepted (2xx), in order.
    pub fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|received| received.status < 300)
            .collect()
    }
}

fn target_router(state: &Arc<Mutex<TargetState>>) -> Router {
    Router::new()
        .route("/hooks/calls", post(receive))
        .route("/hooks/moved", axum::routing::any(moved))
        .with_state(Arc::clone(state))
}

/// Where a 3xx answer of the target points: takes anything with a 200.
async fn moved(
    State(state): State<Arc<Mutex<TargetState>>>,
    method: axum::http::Method,
    body: Bytes,
) -> StatusCode {
    let body = String::from_utf8_lossy(&body).into_owned();
    state.lock().unwrap().moved.push((method.to_string(), body));
    StatusCode::OK
}

async fn receive(
    State(state): State<Arc<Mutex<TargetState>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Recorded on arrival: a request whose answer never reaches the
    // sender (killed meanwhile) was still received.
    let (status, delay) = {
        let mut state = state.lock().unwrap();
        let status = state.faults.pop_front().unwrap_or(200);
        let raw = String::from_utf8_lossy(&body).into_owned();
        state.received.push(Received {
            key: headers
                .get("idempotency-key")
                .map(|value| value.to_str().unwrap().to_string())
                .unwrap_or_default(),
            body: serde_json::from_str(&raw).unwrap_or(Value::Null),
            raw,
            authorization: headers
                .get("authorization")
                .map(|value| value.to_str().unwrap().to_string()),
            status,
        });
        (status, state.delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let status = StatusCode::from_u16(status).unwrap();
    if status.is_redirection() {
        return (status, [(axum::http::header::LOCATION, "/hooks/moved")], "").into_response();
    }
    (status, "").into_response()
}

/// Standard base64, for the expected `Authorization` header.
fn base64(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .fold(0u32, |n, byte| (n << 8) | u32::from(*byte))
            << (8 * (3 - chunk.len()));
        for index in 0..4 {
            if index <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * index) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn base64_is_standard() {
    assert_eq!(base64("a:b"), "YTpi");
    assert_eq!(base64("ab"), "YWI=");
    assert_eq!(base64("abcd"), "YWJjZA==");
}

/// A server that accepts connections and never answers: a delivery
/// target or a CloudTalk API that hangs. Holds what it accepted until
/// dropped.
pub struct BlackHole {
    addr: SocketAddr,
    accepted: Arc<std::sync::atomic::AtomicUsize>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BlackHole {
    pub fn start() -> BlackHole {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = {
            let (accepted, stop) = (Arc::clone(&accepted), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut held = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            held.push(stream);
                            accepted.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            })
        };
        BlackHole {
            addr,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` and `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
