//! `callassign serve`: the real binary on a loopback port, asked over
//! plain TCP by the small HTTP/1.1 client below. Every wait is bounded;
//! every server is killed when its test ends, failed or not.

mod answers;
mod faults;
mod hostile;
mod reload;
mod routes;
mod shutdown;
mod workbench;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::repo;

/// A running `callassign serve`, killed when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `callassign serve ARGS --listen 127.0.0.1:0` in `cwd` and
    /// waits for its listening line.
    pub fn start_in(cwd: &Path, args: &[&str]) -> Server {
        Server::try_start_in(cwd, args).unwrap_or_else(|(code, stderr)| {
            panic!("serve exited ({code:?}) before listening:\n{stderr}")
        })
    }

    /// Like [`Server::start_in`]; a server that exits instead gives its
    /// exit status and stderr.
    pub fn try_start_in(cwd: &Path, args: &[&str]) -> Result<Server, (Option<i32>, String)> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_callassign"))
            .arg("serve")
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .current_dir(cwd)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (found, listening) = std::sync::mpsc::channel();
        {
            let stderr = Arc::clone(&stderr);
            let pipe = child.stderr.take().expect("stderr is piped");
            std::thread::spawn(move || {
                let mut reader = BufReader::new(pipe);
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 {
                    if let Some(at) = line.trim_end().strip_prefix("listening on http://") {
                        let _ = found.send(at.parse::<SocketAddr>().expect("an address"));
                    }
                    stderr.lock().unwrap().push_str(&line);
                    line.clear();
                }
            });
        }
        let mut server = Server {
            child,
            addr: "127.0.0.1:1".parse().unwrap(),
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(addr) = listening.recv_timeout(Duration::from_millis(50)) {
                server.addr = addr;
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                std::thread::sleep(Duration::from_millis(100));
                return Err((status.code(), server.stderr()));
            }
            assert!(
                Instant::now() < deadline,
                "serve did not listen within 30 s:\n{}",
                server.stderr()
            );
        }
    }

    /// Starts it in the repository root.
    pub fn start(args: &[&str]) -> Server {
        Server::start_in(&repo(), args)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until stderr holds `text`.
    pub fn wait_for_stderr(&self, text: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while !self.stderr().contains(text) {
            assert!(
                Instant::now() < deadline,
                "stderr never said {text:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill only sends a signal to the child we started.
        unsafe {
            libc::kill(self.child.id() as i32, signal);
        }
    }

    /// Waits for it to exit; its exit status.
    pub fn wait_exit(&mut self, within: Duration) -> i32 {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                // Let the reader take the last lines.
                std::thread::sleep(Duration::from_millis(50));
                return status.code().expect("exited, not killed");
            }
            assert!(
                Instant::now() < deadline,
                "serve did not exit within {within:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn get(&self, path: &str) -> Answer {
        request(self.addr, "GET", path, &[], b"")
    }

    /// `POST path` with one call as JSON.
    pub fn post_json(&self, path: &str, body: &[u8]) -> Answer {
        request(
            self.addr,
            "POST",
            path,
            &[("Content-Type", "application/json")],
            body,
        )
    }

    /// `POST path` with JSON Lines.
    pub fn post_ndjson(&self, path: &str, body: &[u8]) -> Answer {
        request(
            self.addr,
            "POST",
            path,
            &[("Content-Type", "application/x-ndjson")],
            body,
        )
    }

    /// The status document.
    pub fn status(&self) -> serde_json::Value {
        let answer = self.get("/v1/status");
        assert_eq!(answer.status, 200, "{}", answer.text());
        answer.json()
    }

    /// The served hash of `ruleset`, from `/v1/rulesets`.
    pub fn hash(&self, ruleset: &str) -> Option<String> {
        let listed = self.get("/v1/rulesets").json();
        listed["rulesets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|entry| entry["name"] == ruleset)
            .map(|entry| entry["hash"].as_str().unwrap().to_string())
    }

    /// Waits until `ruleset`'s hash is other than `old`; the new one.
    pub fn wait_for_new_hash(&self, ruleset: &str, old: Option<&str>, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Some(hash) = self.hash(ruleset).filter(|hash| Some(hash.as_str()) != old) {
                return hash;
            }
            assert!(
                Instant::now() < deadline,
                "{ruleset} was not reloaded within {within:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The value of a metric line (`name{labels}`), if present.
    pub fn metric(&self, series: &str) -> Option<f64> {
        let text = self.get("/metrics").text();
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub trailers: Vec<(String, String)>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("a UTF-8 body")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.text()))
    }

    /// Asserts an error answer: its status, `{"error":{"code","message","help"}}`
    /// with `code`; returns the error object.
    pub fn error(&self, status: u16, code: &str) -> serde_json::Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.header("content-type"), Some("application/json"));
        let body = self.json();
        let error = body["error"].clone();
        let keys: Vec<&String> = error.as_object().expect("an object").keys().collect();
        assert_eq!(keys.len(), 3, "{body}");
        assert!(
            error["message"].is_string() && (error["help"].is_string() || error["help"].is_null()),
            "{body}"
        );
        assert_eq!(error["code"], code, "{body}");
        assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
        error
    }
}

/// One request on a connection of its own (`Connection: close`).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut stream = connect(addr);
    write_request(&mut stream, method, path, headers, body, true);
    read_answer(&mut BufReader::new(stream), method)
}

pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
}

/// Writes a request with a `Content-Length` (unless `headers` set a
/// `Transfer-Encoding`).
pub fn write_request(
    stream: &mut TcpStream,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    close: bool,
) {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: test\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("transfer-encoding"))
    {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes).expect("send the request");
}

/// Reads one answer (by its length, chunks, or to the end).
pub fn read_answer(reader: &mut impl BufRead, method: &str) -> Answer {
    let mut line = String::new();
    reader.read_line(&mut line).expect("a status line");
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("a status line, not {line:?}"))
        .parse()
        .expect("a status");
    let headers = read_fields(reader);
    let find = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
    };
    let mut body = Vec::new();
    let mut trailers = Vec::new();
    if method == "HEAD" {
    } else if find("transfer-encoding").is_some_and(|value| value.contains("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).expect("a chunk size");
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap(), 16)
                .unwrap_or_else(|_| panic!("a chunk size, not {size:?}"));
            if size == 0 {
                trailers = read_fields(reader);
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..]).expect("a chunk");
            let mut end = [0u8; 2];
            reader.read_exact(&mut end).expect("a chunk's end");
        }
    } else if let Some(length) = find("content-length") {
        body.resize(length.parse().unwrap(), 0);
        reader.read_exact(&mut body).expect("the body");
    } else {
        reader.read_to_end(&mut body).expect("the body");
    }
    Answer {
        status,
        headers,
        body,
        trailers,
    }
}

fn read_fields(reader: &mut impl BufRead) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a header line");
        let line = line.trim_end();
        if line.is_empty() {
            return fields;
        }
        let (name, value) = line.split_once(':').expect("a header");
        fields.push((name.to_string(), value.trim().to_string()));
    }
}

/// Raises this process's open-file limit to its hard limit (a test that
/// holds a thousand connections needs more than the usual 1,024).
pub fn raise_open_files_limit() {
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        let mut limit = std::mem::zeroed::<libc::rlimit>();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// A folder with `rules/` (the shipped rule files) and `contexts/`
/// (`hubspot.yaml`, the shipped example context).
pub fn served_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    let contexts = dir.path().join("contexts");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::create_dir_all(&contexts).unwrap();
    for entry in std::fs::read_dir(repo().join("rules")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "rules") {
            std::fs::copy(&path, rules.join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::copy(
        repo().join("examples/hubspot.context.yaml"),
        contexts.join("hubspot.yaml"),
    )
    .unwrap();
    dir
}

/// `callassign eval` on `input` (a file name in `cwd`), its stdout.
pub fn eval(cwd: &Path, rules: &str, context: &str, input: &str, extra: &[&str]) -> String {
    let mut args = vec!["eval", "--rules", rules, "--context", context, "-q"];
    args.extend(extra);
    args.push(input);
    crate::common::callassign_in(cwd, &args, b"").stdout
}

/// The keys of every object in JSON `text`, in the order written, objects
/// in the order they open: what `serde_json::Value` cannot show (it sorts
/// them).
pub fn object_keys(text: &str) -> Vec<Vec<String>> {
    let bytes = text.as_bytes();
    let mut objects: Vec<Vec<String>> = Vec::new();
    // Open objects (their index in `objects`) and arrays (None).
    let mut open: Vec<Option<usize>> = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'{' => {
                objects.push(Vec::new());
                open.push(Some(objects.len() - 1));
            }
            b'[' => open.push(None),
            b'}' | b']' => {
                open.pop();
            }
            b'"' => {
                let start = at + 1;
                at += 1;
                while bytes[at] != b'"' {
                    at += if bytes[at] == b'\\' { 2 } else { 1 };
                }
                let after = text[at + 1..].trim_start();
                if let (true, Some(Some(object))) = (after.starts_with(':'), open.last()) {
                    objects[*object].push(text[start..at].to_string());
                }
            }
            _ => {}
        }
        at += 1;
    }
    objects
}

#[test]
fn object_keys_are_read_in_order() {
    assert_eq!(
        object_keys(r#"{"b":[{"z":1,"a":"x\":y"}],"a":{}}"#),
        vec![
            vec!["b".to_string(), "a".to_string()],
            vec!["z".to_string(), "a".to_string()],
            vec![]
        ]
    );
}

/// Asserts an error message quotes at most the first 64 characters of
/// the long input it echoes (`x`s), then `…`.
pub fn assert_echo_capped(message: &str, what: &str) {
    assert!(
        !message.contains(&"x".repeat(65)),
        "{what}: {} characters echoed",
        message.len()
    );
    assert!(message.contains("x…"), "{what}: {message}");
    assert!(message.chars().count() < 300, "{what}: {message}");
}
