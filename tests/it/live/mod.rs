//! The live loop from CloudTalk: the real `callassign serve --store …`
//! against local fakes of CloudTalk's APIs and of a delivery target
//! ([`fakes`]). Every accepted event must end delivered with the owner
//! `eval --input cloudtalk` gives its records, whatever fails on the way.

mod fakes;
mod flow;
mod nothing_lost;
mod replicas;
mod shutdown;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::repo;
use crate::serve::{request, Answer};

pub use fakes::{call_id, event, expected, records, BlackHole, FakeCloudTalk, FakeTarget};

/// A folder with `rules/` (the shipped rule files) and `contexts/`
/// (`hubspot.yaml`: the CloudTalk example context, with its files).
pub fn served_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (rules, contexts) = (dir.path().join("rules"), dir.path().join("contexts"));
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::create_dir_all(&contexts).unwrap();
    for entry in std::fs::read_dir(repo().join("rules")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "rules") {
            std::fs::copy(&path, rules.join(path.file_name().unwrap())).unwrap();
        }
    }
    let examples = repo().join("examples/cloudtalk");
    for file in [
        "hubspot-owners-1.json",
        "hubspot-owners-2.json",
        "cloudtalk-agents.json",
        "contact-owners.csv",
    ] {
        std::fs::copy(examples.join(file), contexts.join(file)).unwrap();
    }
    std::fs::copy(
        examples.join("hubspot.context.yaml"),
        contexts.join("hubspot.yaml"),
    )
    .unwrap();
    dir
}

/// A running `callassign serve --store …`, killed when dropped.
pub struct LiveServer {
    child: Child,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

/// How to start one.
pub struct Start<'a> {
    pub folder: &'a Path,
    pub store: String,
    pub cloudtalk: &'a FakeCloudTalk,
    pub targets: Vec<String>,
    pub extra: Vec<String>,
    /// `--cloudtalk-api` other than the fake's.
    pub api: Option<String>,
    /// A file-size limit (bytes) for the server: a disk that fills up.
    pub file_size_limit: Option<u64>,
}

impl<'a> Start<'a> {
    pub fn new(folder: &'a Path, store: String, cloudtalk: &'a FakeCloudTalk) -> Start<'a> {
        Start {
            folder,
            store,
            cloudtalk,
            targets: Vec::new(),
            extra: Vec::new(),
            api: None,
            file_size_limit: None,
        }
    }

    pub fn deliver(mut self, target: &FakeTarget) -> Start<'a> {
        self.targets.push(target.url());
        self
    }

    /// Delivers to `url` (a target that is not a [`FakeTarget`]).
    pub fn deliver_to(mut self, url: String) -> Start<'a> {
        self.targets.push(url);
        self
    }

    /// Asks `url` for the call history instead of the fake.
    pub fn cloudtalk_api(mut self, url: String) -> Start<'a> {
        self.api = Some(url);
        self
    }

    pub fn arg(mut self, arg: &str) -> Start<'a> {
        self.extra.push(arg.to_string());
        self
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_callassign"));
        command
            .args([
                "serve",
                "--rules",
                "rules",
                "--contexts",
                "contexts",
                "--listen",
                "127.0.0.1:0",
            ])
            .args(["--store", &self.store])
            .args([
                "--cloudtalk-api",
                &self.api.clone().unwrap_or_else(|| self.cloudtalk.api()),
            ])
            .args(["--cloudtalk-analytics", &self.cloudtalk.analytics()])
            .current_dir(self.folder)
            .env("NO_COLOR", "1")
            .env("CLOUDTALK_API_KEY_ID", fakes::KEY_ID)
            .env("CLOUDTALK_API_KEY_SECRET", fakes::KEY_SECRET)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for target in &self.targets {
            command.args(["--deliver", target]);
        }
        command.args(&self.extra);
        if let Some(limit) = self.file_size_limit {
            use std::os::unix::process::CommandExt;
            // SAFETY: setrlimit is async-signal-safe and only touches the child.
            unsafe {
                command.pre_exec(move || {
                    let rlimit = libc::rlimit {
                        rlim_cur: limit,
                        rlim_max: limit,
                    };
                    if libc::setrlimit(libc::RLIMIT_FSIZE, &rlimit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        command
    }

    pub fn start(&self) -> LiveServer {
        self.try_start()
            .unwrap_or_else(|stderr| panic!("serve exited before listening:\n{stderr}"))
    }

    /// The server, or what it said before it exited.
    pub fn try_start(&self) -> Result<LiveServer, String> {
        let mut child = self.command().spawn().expect("the binary starts");
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
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(addr) = listening.recv_timeout(Duration::from_millis(50)) {
                return Ok(LiveServer {
                    child,
                    addr,
                    stderr,
                });
            }
            if let Ok(Some(_)) = child.try_wait() {
                std::thread::sleep(Duration::from_millis(100));
                let said = stderr.lock().unwrap().clone();
                return Err(said);
            }
            assert!(
                Instant::now() < deadline,
                "serve did not listen within 30 s"
            );
        }
    }
}

impl LiveServer {
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn post_event(&self, ruleset: &str, body: &[u8]) -> Answer {
        request(
            self.addr,
            "POST",
            &format!("/v1/cloudtalk/{ruleset}/events"),
            &[("Content-Type", "application/json")],
            body,
        )
    }

    pub fn get(&self, path: &str) -> Answer {
        request(self.addr, "GET", path, &[], b"")
    }

    /// Kills it at once (SIGKILL): nothing is flushed or finished.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then its exit status.
    pub fn stop(mut self) -> Option<i32> {
        // SAFETY: kill only sends a signal to the child we started.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "serve did not stop:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The value of a metric line (`name{labels}`), if present.
    pub fn metric(&self, series: &str) -> Option<f64> {
        let text = self.get("/metrics").text();
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    /// The process's resident memory, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

impl Drop for LiveServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `done` holds, at most `within`; says what it waited for.
pub fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The SQLite store of a test folder.
pub fn sqlite(folder: &Path) -> String {
    format!("sqlite:{}", folder.join("live.db").display())
}

/// What `eval --input cloudtalk` writes for calls `calls`' combined
/// records, by call id: the owners the loop must deliver.
pub fn eval_lines(folder: &Path, calls: impl IntoIterator<Item = u64>) -> BTreeMap<String, Value> {
    let mut input = String::new();
    for n in calls {
        let records = records(n);
        input.push_str(
            &callassign::cloudtalk_combined(&records.history, &records.detail)
                .unwrap()
                .to_string(),
        );
        input.push('\n');
    }
    let run = crate::common::callassign_in(
        folder,
        &[
            "eval",
            "--rules",
            "rules/hubspot.rules",
            "--context",
            "contexts/hubspot.yaml",
            "--input",
            "cloudtalk",
            "-q",
            "-",
        ],
        input.as_bytes(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
        .lines()
        .map(|line| {
            let line: Value = serde_json::from_str(line).unwrap();
            (line["call"].as_str().unwrap().to_string(), line)
        })
        .collect()
}

/// Checks what `target` accepted: each of `calls` exactly as `eval`
/// decides it, with the ruleset, a hash, a time and the idempotency key;
/// a call delivered more than once (a crash mid-delivery) always with the
/// same bytes.
pub fn check_deliveries(
    folder: &Path,
    target: &FakeTarget,
    calls: impl IntoIterator<Item = u64> + Clone,
) {
    let eval = eval_lines(folder, calls.clone());
    let schema = std::fs::read_to_string(repo().join("schema/decision.schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&schema).unwrap();
    let schema = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for received in target.received() {
        by_key
            .entry(received.key.clone())
            .or_default()
            .push(received.raw.clone());
    }
    let accepted: BTreeMap<String, fakes::Received> = target
        .accepted()
        .into_iter()
        .map(|received| (received.key.clone(), received))
        .collect();
    for n in calls {
        let call = call_id(n);
        let key = format!("hubspot:{call}");
        let received = accepted
            .get(&key)
            .unwrap_or_else(|| panic!("call {call} was never delivered"));
        let bodies = &by_key[&key];
        assert!(
            bodies.iter().all(|body| *body == received.raw),
            "call {call} was delivered with different decisions: {bodies:?}"
        );
        let body = &received.body;
        let errors: Vec<String> = schema
            .iter_errors(body)
            .map(|error| error.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{body} against schema/decision.schema.json: {errors:?}"
        );
        let line = &eval[&call];
        assert_eq!(body["call"], call.as_str());
        assert_eq!(body["ruleset"], "hubspot");
        assert_eq!(
            (&body["assignee"], &body["step"]),
            (&line["assignee"], &line["step"]),
            "{call}"
        );
        let (owner, step) = expected(n);
        assert_eq!(
            (body["assignee"]["id"].as_str(), body["step"].as_str()),
            (Some(owner), Some(step)),
            "{call}"
        );
        assert_eq!(body["hash"].as_str().map(str::len), Some(64));
        assert!(body["decided_at"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z')));
    }
}

/// `callassign decisions ARGS`.
pub fn decisions(folder: &Path, args: &[&str]) -> crate::common::Run {
    let mut all = vec!["decisions"];
    all.extend(args);
    crate::common::callassign_in(folder, &all, b"")
}
