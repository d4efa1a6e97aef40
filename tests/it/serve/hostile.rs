//! What an attacker (or an unusual but honest client) sends, found by
//! trying: each test failed before the fix beside it.

use std::io::{BufReader, Write};
use std::net::Shutdown;
use std::time::Duration;

use super::{connect, read_answer, write_request, Server};

const CALL: &str =
    r#"{"id":"c-1","direction":"outgoing","status":"answered","agent":"alice@acme.com"}"#;

fn hubspot(extra: &[&str]) -> Server {
    let mut args = vec![
        "--rules",
        "rules/hubspot.rules",
        "--context",
        "examples/hubspot.context.yaml",
    ];
    args.extend(extra);
    Server::start(&args)
}

/// A client may close its sending side once the request is out (`nc -N`,
/// `shutdown(SHUT_WR)`, some proxies): it still gets its answer, for one
/// call, an error and a stream alike.
#[test]
fn a_client_that_closes_its_sending_side_still_gets_its_answer() {
    let server = hubspot(&[]);
    let cases: [(&str, &[u8], u16); 3] = [
        ("application/json", CALL.as_bytes(), 200),
        ("application/json", b"hello", 422),
        ("application/x-ndjson", b"{\"id\":\"c-2\"\n", 200),
    ];
    for round in 0..10 {
        for (content_type, body, status) in cases {
            let mut stream = connect(server.addr);
            write_request(
                &mut stream,
                "POST",
                "/v1/rulesets/hubspot/assign",
                &[("Content-Type", content_type)],
                body,
                true,
            );
            stream.flush().unwrap();
            stream.shutdown(Shutdown::Write).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let answer = read_answer(&mut BufReader::new(stream), "POST");
            assert_eq!(
                answer.status,
                status,
                "round {round}, {content_type}: {}",
                String::from_utf8_lossy(&answer.body)
            );
        }
    }
}

/// A `Content-Length` larger than what comes: the body stops arriving.
/// However the wait ends (the handler's clock or the connection's), the
/// answer is the documented 408, for one call and for a stream.
#[test]
fn a_body_that_stops_arriving_gets_408_not_400() {
    let server = hubspot(&["--request-timeout", "1s"]);
    let half = &CALL.as_bytes()[..CALL.len() / 2];
    for (content_type, sent) in [
        ("application/json", half),
        ("application/json", b"".as_slice()),
        ("application/x-ndjson", b"".as_slice()),
    ] {
        let mut stream = connect(server.addr);
        write!(
            stream,
            "POST /v1/rulesets/hubspot/assign HTTP/1.1\r\nHost: t\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            CALL.len()
        )
        .unwrap();
        stream.write_all(sent).unwrap();
        let started = std::time::Instant::now();
        let answer = read_answer(&mut BufReader::new(stream), "POST");
        answer.error(408, "callassign::request_timeout");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

/// `?explain=true&explain=false` means nothing clear: refused, never one
/// of the two picked in silence.
#[test]
fn a_query_parameter_given_twice_is_refused() {
    let server = hubspot(&[]);
    for query in [
        "explain=true&explain=false",
        "explain=true&explain=true",
        "input=cloudtalk&input=native",
        "explain=false&%65xplain=true",
    ] {
        let answer = server.post_json(
            &format!("/v1/rulesets/hubspot/assign?{query}"),
            CALL.as_bytes(),
        );
        let error = answer.error(400, "callassign::bad_query");
        assert!(
            error["message"].as_str().unwrap().contains("given twice"),
            "{query}: {error}"
        );
    }
    server
        .get("/v1/history?ruleset=hubspot&ruleset=zendesk")
        .error(400, "callassign::bad_query");
    // Once each is fine.
    let answer = server.post_json(
        "/v1/rulesets/hubspot/assign?explain=true&input=native",
        CALL.as_bytes(),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
}

/// Loading a version changes which files are watched (a rule file not yet
/// served is watched with every rule file beside it; a served one, with
/// the files its version read). Those files are looked at once, as they
/// were: no second load of the same files, no findings said twice.
#[test]
fn a_version_is_loaded_once_and_its_findings_said_once() {
    // The documented CloudTalk example: its context reads four files, so
    // the served version depends on as many files as the rules folder
    // holds beside it.
    let server = Server::start(&[
        "--rules",
        "rules/hubspot.rules",
        "--context",
        "examples/cloudtalk/hubspot.context.yaml",
        "--watch-interval",
        "50ms",
    ]);
    std::thread::sleep(Duration::from_millis(600));
    let status = server.status();
    let hubspot = &status["rulesets"][0];
    assert_eq!(
        hubspot["last_reload"]["at"], hubspot["loaded_at"],
        "loaded again after start: {status:#}"
    );
    let stderr = server.stderr();
    assert_eq!(
        stderr.matches("is not active: calls that reach").count(),
        1,
        "{stderr}"
    );

    // A broken edit is refused once, however the watched files change.
    let dir = super::served_folder();
    let server = Server::start_in(
        dir.path(),
        &[
            "--rules",
            "rules",
            "--contexts",
            "contexts",
            "--watch-interval",
            "50ms",
        ],
    );
    std::fs::write(
        dir.path().join("rules/hubspot.rules"),
        "ruleset hubspot extends default\nstep last_step_agnet\n",
    )
    .unwrap();
    server.wait_for_stderr("not reloading hubspot", Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(600));
    let stderr = server.stderr();
    assert_eq!(
        stderr.matches("not reloading hubspot").count(),
        1,
        "{stderr}"
    );
}

/// A history that grows past the 1 GiB limit while served is refused by
/// its size, without reading a GiB of it first (beside the version
/// served, which keeps serving).
#[test]
fn a_history_grown_too_large_is_refused_without_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("calls.jsonl");
    std::fs::copy(crate::common::repo().join("examples/calls.jsonl"), &history).unwrap();
    let server = hubspot(&[
        "--history",
        history.to_str().unwrap(),
        "--watch-interval",
        "50ms",
    ]);
    let before = peak_kib(server.pid());
    // Sparse: two GiB that take no room on disk.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&history)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let listed = loop {
        let listed = server.get("/v1/history?ruleset=hubspot").json();
        if listed["problem"].is_string() {
            break listed;
        }
        assert!(std::time::Instant::now() < deadline, "{listed:#}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        listed["problem"]
            .as_str()
            .unwrap()
            .contains("is larger than 1024 MiB"),
        "{listed:#}"
    );
    assert_eq!(listed["lines"], 6, "the version served keeps serving");
    let after = peak_kib(server.pid());
    assert!(
        after < before + 100 * 1024,
        "peak {before} KiB, then {after} KiB"
    );
}

/// Lines in `path` (none when it is not there).
fn lines_in(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |text| text.lines().count())
}

/// Waits until `path` holds `lines` lines.
fn wait_for_lines(path: &std::path::Path, lines: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while lines_in(path) != lines {
        assert!(
            std::time::Instant::now() < deadline,
            "{} holds {} lines, not {lines}",
            path.display(),
            lines_in(path)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A decision log rotated (moved away, as logrotate does) or deleted:
/// the next decisions go to a new file at its path, not on into a file
/// nobody can find while `/v1/status` counts them as written.
#[test]
fn a_decision_log_moved_or_deleted_is_written_again_at_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    let rotated = dir.path().join("decisions.jsonl.1");
    let mut server = hubspot(&["--decision-log", log.to_str().unwrap()]);
    let decide = || {
        let answer = server.post_json("/v1/rulesets/hubspot/assign", CALL.as_bytes());
        assert_eq!(answer.status, 200, "{}", answer.text());
    };
    decide();
    wait_for_lines(&log, 1);

    std::fs::rename(&log, &rotated).unwrap();
    decide();
    wait_for_lines(&log, 1);
    assert_eq!(lines_in(&rotated), 1);

    std::fs::remove_file(&log).unwrap();
    decide();
    decide();
    wait_for_lines(&log, 2);

    server.signal(libc::SIGTERM);
    assert_eq!(server.wait_exit(Duration::from_secs(15)), 0);
    assert_eq!(lines_in(&log), 2);
    assert!(server.stderr().contains("was moved or deleted"));
}

/// A named pipe as the decision log, with nobody reading it: opening it
/// for writing would wait for a reader for ever, before listening. It is
/// refused at once, saying why.
#[test]
fn a_decision_log_that_is_a_pipe_nobody_reads_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("decisions.fifo");
    let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo only creates the named pipe at the path given.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
    let refused = Server::try_start_in(
        &crate::common::repo(),
        &[
            "--rules",
            "rules/hubspot.rules",
            "--context",
            "examples/hubspot.context.yaml",
            "--decision-log",
            fifo.to_str().unwrap(),
        ],
    );
    let Err((code, stderr)) = refused else {
        panic!("serve started with a decision log nobody can read");
    };
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("named pipe nobody reads"), "{stderr}");
}

/// A rule file of `steps` fixed-user steps that never decide (no such
/// users), each tried for every call: as slow as rule text gets.
fn slow_rules(steps: usize) -> String {
    let mut text = String::from("ruleset hubspot\n");
    for n in 0..steps {
        text.push_str(&format!("step user \"nobody-{n}@acme.com\"\n"));
    }
    text.push_str("fallback unassigned\n");
    text
}

/// Many large rule texts sent to the workbench at once: they take their
/// turns (one per core) instead of sharing the CPU until none finishes in
/// time. Each is answered, with its plan or a 503 in JSON, never by a
/// closed connection; live calls are answered meanwhile.
#[test]
fn a_flood_of_workbench_requests_is_answered_in_turns() {
    let server = hubspot(&["--request-timeout", "3s"]);
    let body = serde_json::json!({"ruleset": "hubspot", "text": slow_rules(6000)}).to_string();
    let addr = server.addr;
    let senders: Vec<_> = (0..20)
        .map(|_| {
            let body = body.clone();
            std::thread::spawn(move || {
                let mut stream = connect(addr);
                write_request(
                    &mut stream,
                    "POST",
                    "/v1/plan",
                    &[("Content-Type", "application/json")],
                    body.as_bytes(),
                    true,
                );
                let mut reader = BufReader::new(stream);
                let mut status = String::new();
                std::io::BufRead::read_line(&mut reader, &mut status).unwrap();
                status
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let live = server.post_json("/v1/rulesets/hubspot/assign", CALL.as_bytes());
    assert_eq!(live.status, 200);
    let statuses: Vec<String> = senders.into_iter().map(|s| s.join().unwrap()).collect();
    let planned = statuses.iter().filter(|s| s.contains(" 200 ")).count();
    let busy = statuses.iter().filter(|s| s.contains(" 503 ")).count();
    assert_eq!(planned + busy, statuses.len(), "{statuses:?}");
    assert!(planned >= 1, "{statuses:?}");
    // The refusals are the documented JSON.
    if busy > 0 {
        let flood: Vec<_> = (0..70)
            .map(|_| {
                let body = body.clone();
                std::thread::spawn(move || {
                    super::request(
                        addr,
                        "POST",
                        "/v1/plan",
                        &[("Content-Type", "application/json")],
                        body.as_bytes(),
                    )
                })
            })
            .collect();
        let answers: Vec<_> = flood.into_iter().map(|s| s.join().unwrap()).collect();
        let refused = answers.iter().find(|answer| answer.status == 503).unwrap();
        let error = refused.error(503, "callassign::busy");
        assert!(error["help"].as_str().unwrap().contains("live decisions"));
    }
}

/// A diff that cannot finish within the request timeout (a long history,
/// rules that try thousands of steps per call) is given up and says so,
/// instead of a connection closed without a word while the work goes on.
#[test]
fn a_diff_that_takes_too_long_is_given_up_with_a_503() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("calls.jsonl");
    let calls: String = (0..20_000)
        .map(|n| format!("{{\"id\":\"h-{n}\",\"direction\":\"incoming\",\"status\":\"missed\"}}\n"))
        .collect();
    std::fs::write(&history, calls).unwrap();
    let server = hubspot(&[
        "--request-timeout",
        "2s",
        "--history",
        history.to_str().unwrap(),
    ]);
    let slow = serde_json::json!({"ruleset": "hubspot", "text": slow_rules(5000)});
    let started = std::time::Instant::now();
    let answer = server.post_json("/v1/diff", slow.to_string().as_bytes());
    let error = answer.error(503, "callassign::too_long");
    assert_eq!(
        error["message"], "the diff did not finish within 1.8 s",
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    // Its turn is free again: a quick diff is answered.
    let quick = serde_json::json!({
        "ruleset": "hubspot",
        "text": "ruleset hubspot extends default\nmove favorite_agent first\n",
    });
    let answer = server.post_json("/v1/diff", quick.to_string().as_bytes());
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["calls"], 20_000);
}

/// A call of a megabyte holding eighty thousand keys callassign does
/// not read is decided as fast as `eval` decides it (the keys are named
/// with a set, not a list searched once per key), and the header naming
/// them stays small enough for a proxy to pass on.
#[test]
fn a_call_with_eighty_thousand_unknown_keys_is_decided_at_once() {
    let server = hubspot(&[]);
    let mut call = String::from(r#"{"id":"c-1","direction":"incoming","status":"missed""#);
    for n in 0..80_000 {
        call.push_str(&format!(",\"k{n}\":1"));
    }
    call.push_str(&format!(",\"{}\":1}}", "long".repeat(10_000)));
    assert!(call.len() < 1 << 20);
    let answer = server.post_json("/v1/rulesets/hubspot/assign", call.as_bytes());
    assert_eq!(answer.status, 200, "{}", answer.text());
    let keys = answer.header("callassign-unknown-keys").unwrap();
    assert!(keys.len() <= 1100, "{} bytes", keys.len());
    assert!(keys.starts_with("k0, k1, k10, "), "{keys}");
    assert!(keys.ends_with(" more"), "{keys}");
    // And the service answered others meanwhile: another call, at once.
    let other = server.post_json("/v1/rulesets/hubspot/assign", CALL.as_bytes());
    assert_eq!(other.status, 200);
}

/// The peak resident memory of a running process, in KiB.
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// A decision log that stops taking lines (a hung disk; here a pipe whose
/// reader never reads): the lines waiting for it are bounded in bytes,
/// not only in batches (a batch of an explained stream is hundreds of
/// KiB), the rest are lost and counted; and at shutdown the service
/// stops after a few seconds instead of waiting for it for ever.
#[test]
fn a_decision_log_that_stops_taking_lines_holds_bounded_memory_and_no_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("decisions.fifo");
    let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo creates the named pipe; open gives a reader that
    // never reads, closed when the test ends.
    let reader = unsafe {
        assert_eq!(libc::mkfifo(name.as_ptr(), 0o600), 0);
        libc::open(name.as_ptr(), libc::O_RDONLY | libc::O_NONBLOCK)
    };
    assert!(reader >= 0);
    let mut server = hubspot(&[
        "--decision-log",
        fifo.to_str().unwrap(),
        "--shutdown-grace",
        "1s",
    ]);
    let calls = format!("{CALL}\n").repeat(300_000);
    let mut stream = connect(server.addr);
    // Sent while the answers are read: a stream is answered as it comes.
    let sending = {
        let mut stream = stream.try_clone().unwrap();
        std::thread::spawn(move || {
            write_request(
                &mut stream,
                "POST",
                "/v1/rulesets/hubspot/assign?explain=true",
                &[("Content-Type", "application/x-ndjson")],
                calls.as_bytes(),
                true,
            );
        })
    };
    stream.flush().unwrap();
    let answer = read_answer(&mut BufReader::new(stream), "POST");
    sending.join().unwrap();
    assert_eq!(answer.status, 200);
    assert!(answer.body.ends_with(b"}\n"));
    let peak = peak_kib(server.pid());
    assert!(peak < 150 * 1024, "peak {peak} KiB");
    let status = server.status();
    assert!(
        status["decision_log"]["lost"].as_u64().unwrap() > 0,
        "{status:#}"
    );

    server.signal(libc::SIGTERM);
    assert_eq!(server.wait_exit(Duration::from_secs(20)), 1);
    assert!(
        server.stderr().contains("still not written after 5 s"),
        "{}",
        server.stderr()
    );
    // SAFETY: closes the reader opened above.
    unsafe { libc::close(reader) };
}

/// Rule files sent together to `/v1/check` sit in the served folder side
/// by side: one may extend another, as saved files do, instead of being
/// told the other "links to a file outside the rule folder".
#[test]
fn files_sent_together_to_check_may_extend_each_other() {
    let dir = super::served_folder();
    let server = Server::start_in(dir.path(), &["--rules", "rules", "--contexts", "contexts"]);
    let files = serde_json::json!({"files": {
        "base.rules": "ruleset base extends default\ndisable contact_owner\n",
        "team.rules": "ruleset team extends base\nmove favorite_agent first\n",
    }});
    let answer = server.post_json("/v1/check", files.to_string().as_bytes());
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json(), serde_json::json!([]));
    // A real mistake in the base is still found, in the base.
    let files = serde_json::json!({"files": {
        "base.rules": "ruleset base extends default\ndisable contact_ownr\n",
        "team.rules": "ruleset team extends base\n",
    }});
    let findings = server
        .post_json("/v1/check", files.to_string().as_bytes())
        .json();
    assert_eq!(
        findings[0]["code"], "callassign::unknown_step",
        "{findings}"
    );
    assert_eq!(findings[0]["file"], "rules/base.rules");
}

/// The same inside a call's contact and flow steps, where the library
/// keeps each unknown key once per call: eighty thousand of them were
/// searched for one by one, half a minute of a core for one line, in
/// `eval` as in the service.
#[test]
fn a_contact_or_flow_step_with_eighty_thousand_unknown_keys_is_decided_at_once() {
    let server = hubspot(&[]);
    let keys: Vec<String> = (0..80_000).map(|n| format!("\"k{n}\":1")).collect();
    let keys = keys.join(",");
    let calls = [
        format!(
            r#"{{"id":"c-1","direction":"incoming","status":"missed","contact":{{"id":"1",{keys}}}}}"#
        ),
        format!(
            r#"{{"id":"c-2","direction":"incoming","status":"missed","flow":[{{"type":"ivr",{keys}}}]}}"#
        ),
    ];
    for call in &calls {
        assert!(call.len() < 1 << 20);
        let answer = server.post_json("/v1/rulesets/hubspot/assign", call.as_bytes());
        assert_eq!(answer.status, 200, "{}", answer.text());
        let named = answer.header("callassign-unknown-keys").unwrap();
        assert!(named.ends_with(", +79984 more"), "{named}");
        let answer = server.post_ndjson(
            "/v1/rulesets/hubspot/assign",
            format!("{call}\n").as_bytes(),
        );
        assert_eq!(answer.status, 200);
        assert!(answer.text().contains("\"step\":"), "{}", answer.text());
    }
}

/// Bytes waiting in a pipe.
fn waiting_in(pipe: &std::fs::File) -> usize {
    use std::os::fd::AsRawFd;
    let mut waiting: libc::c_int = 0;
    // SAFETY: FIONREAD writes the count of unread bytes into `waiting`.
    assert_eq!(
        unsafe { libc::ioctl(pipe.as_raw_fd(), libc::FIONREAD, &mut waiting) },
        0
    );
    waiting as usize
}

/// A change made the moment a new version starts serving (a ConfigMap's
/// context swapped right after its rules) is a change: the files are
/// remembered as they were when loaded, not looked at again after the
/// swap, which took the change for the state already served. The moment
/// is held open here by a stderr nobody reads: the reloader stops on the
/// line that announces the new version, just after it started serving.
#[test]
fn a_change_made_as_a_new_version_starts_serving_is_reloaded() {
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    let dir = super::served_folder();
    let root = dir.path();
    std::fs::write(root.join("h"), "").unwrap();
    let mut fds = [0; 2];
    // SAFETY: pipe writes two new descriptors into `fds`, owned below;
    // F_SETPIPE_SZ makes the pipe one page, quick to fill.
    let (reader, writer) = unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        libc::fcntl(fds[0], libc::F_SETPIPE_SZ, 4096);
        (
            std::fs::File::from(OwnedFd::from_raw_fd(fds[0])),
            OwnedFd::from_raw_fd(fds[1]),
        )
    };
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_callassign"))
        .current_dir(root)
        .args(["serve", "--rules", "rules", "--contexts", "contexts"])
        .args(["--listen", "127.0.0.1:0", "--watch-interval", "20ms"])
        // Its lines (`history h read again`) are shorter than the line
        // announcing a reload: once they fill the pipe, that one waits.
        .args(["--history", "h"])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::from(writer))
        .spawn()
        .unwrap();
    let _child = Killed(child);
    let mut reader = reader;
    let mut said = String::new();
    let addr: std::net::SocketAddr = loop {
        let mut buffer = [0u8; 4096];
        let read = reader.read(&mut buffer).unwrap();
        assert!(read > 0, "{said}");
        said.push_str(&String::from_utf8_lossy(&buffer[..read]));
        if let Some(at) = said.find("listening on http://") {
            let rest = &said[at + "listening on http://".len()..];
            if let Some(end) = rest.find('\n') {
                break rest[..end].parse().unwrap();
            }
        }
    };
    let hash = |server: std::net::SocketAddr| {
        super::request(server, "GET", "/v1/rulesets", &[], b"").json()["rulesets"][0]["hash"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Fill the pipe with the history's lines until its thread waits.
    let mut rounds = 0;
    while waiting_in(&reader) < 4096 - 64 {
        rounds += 1;
        assert!(rounds < 400, "the pipe holds {} bytes", waiting_in(&reader));
        std::fs::write(root.join("h"), "\n".repeat(rounds % 7 + 1)).unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }
    let first = hash(addr);
    std::fs::write(
        root.join("rules/hubspot.rules"),
        "ruleset hubspot extends default\nfallback unassigned\n",
    )
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let second = loop {
        let now = hash(addr);
        if now != first {
            break now;
        }
        assert!(std::time::Instant::now() < deadline, "not reloaded");
        std::thread::sleep(Duration::from_millis(10));
    };
    // The reloader now waits on stderr, the new version just served.
    let context = root.join("contexts/hubspot.yaml");
    let text = std::fs::read_to_string(&context).unwrap();
    std::fs::write(&context, text.replace("installer: hs-1", "installer: hs-2")).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while hash(addr) == second {
        assert!(
            std::time::Instant::now() < deadline,
            "the context changed as the rules were swapped was never reloaded"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child killed when its test ends, failed or not.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Any web page can make its visitor's browser POST a call to a service
/// on the visitor's machine (no content type needs no permission): it
/// cannot read the answer, but the call would be decided, counted and
/// written to the decision log. What a browser marks as sent for another
/// site is refused, except opening a link to the page; programs send no
/// such mark.
#[test]
fn a_page_of_another_site_cannot_make_a_browser_decide_calls() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    let mut server = hubspot(&["--decision-log", log.to_str().unwrap()]);
    let cross_site = [
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Mode", "no-cors"),
    ];
    let answer = super::request(
        server.addr,
        "POST",
        "/v1/rulesets/hubspot/assign",
        &cross_site,
        CALL.as_bytes(),
    );
    answer.error(403, "callassign::cross_site");
    let plan =
        serde_json::json!({"ruleset": "hubspot", "text": "ruleset hubspot extends default\n"});
    super::request(
        server.addr,
        "POST",
        "/v1/plan",
        &[("Sec-Fetch-Site", "cross-site"), ("Sec-Fetch-Mode", "cors")],
        plan.to_string().as_bytes(),
    )
    .error(403, "callassign::cross_site");
    // A form another site submits is a navigation too, but a POST: refused
    // (a form may send `text/plain`, which `/v1/check` reads). Another
    // port of localhost is the same site, not the same origin: refused.
    for (site, mode, path) in [
        ("cross-site", "navigate", "/v1/check"),
        ("same-site", "navigate", "/v1/check"),
        ("same-site", "no-cors", "/v1/rulesets/hubspot/assign"),
    ] {
        super::request(
            server.addr,
            "POST",
            path,
            &[
                ("Sec-Fetch-Site", site),
                ("Sec-Fetch-Mode", mode),
                ("Content-Type", "text/plain"),
            ],
            b"ruleset x extends hubspot\n",
        )
        .error(403, "callassign::cross_site");
    }
    // A link opened from another site (a shared workbench link) works.
    let page = super::request(
        server.addr,
        "GET",
        "/",
        &[
            ("Sec-Fetch-Site", "cross-site"),
            ("Sec-Fetch-Mode", "navigate"),
        ],
        b"",
    );
    assert_eq!(page.status, 200);
    // The page itself, and programs, are answered.
    let own = super::request(
        server.addr,
        "POST",
        "/v1/rulesets/hubspot/assign",
        &[
            ("Sec-Fetch-Site", "same-origin"),
            ("Sec-Fetch-Mode", "cors"),
            ("Content-Type", "application/json"),
        ],
        CALL.as_bytes(),
    );
    assert_eq!(own.status, 200);
    assert_eq!(
        server
            .post_json("/v1/rulesets/hubspot/assign", CALL.as_bytes())
            .status,
        200
    );
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait_exit(Duration::from_secs(15)), 0);
    assert_eq!(lines_in(&log), 2, "only the two answered calls are logged");
}

/// A compressed body (`Content-Encoding: gzip`) is refused as such, not
/// read as text and refused as "not valid UTF-8 (byte 2)".
#[test]
fn a_compressed_body_is_refused_as_compressed() {
    let server = hubspot(&[]);
    // The first bytes of any gzip stream, enough to be refused.
    let gzip = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03";
    for (path, content_type) in [
        ("/v1/rulesets/hubspot/assign", "application/json"),
        ("/v1/rulesets/hubspot/assign", "application/x-ndjson"),
        ("/v1/plan", "application/json"),
        ("/v1/check", "application/json"),
    ] {
        let answer = super::request(
            server.addr,
            "POST",
            path,
            &[("Content-Type", content_type), ("Content-Encoding", "gzip")],
            gzip,
        );
        let error = answer.error(415, "callassign::unsupported_media_type");
        assert_eq!(
            error["message"], "a body encoded as `gzip` cannot be read",
            "{path} {content_type}"
        );
    }
    let identity = super::request(
        server.addr,
        "POST",
        "/v1/rulesets/hubspot/assign",
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "identity"),
        ],
        CALL.as_bytes(),
    );
    assert_eq!(identity.status, 200);
}

/// The CPU time a running process has used so far (user and system).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf reads a constant of the system.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_millis(ticks * 1000 / per_second)
}

/// A query as long as a request target may be (64 KiB), of sixteen
/// thousand distinct parameters: the service looks for a parameter given
/// twice with a set, not by comparing each with every earlier one (which
/// cost a third of a second of CPU per request in a release build, so a
/// few clients sending such queries stalled every neighbour).
#[test]
fn a_query_of_sixteen_thousand_parameters_costs_no_cpu_to_refuse() {
    let server = hubspot(&["--history", "examples/calls.jsonl"]);
    let alphabet: Vec<char> = ('a'..='z').chain('A'..='Z').chain('0'..='9').collect();
    let mut query = String::new();
    'names: for a in &alphabet {
        for b in &alphabet {
            for c in &alphabet {
                if query.len() + 4 > 63_000 {
                    break 'names;
                }
                if !query.is_empty() {
                    query.push('&');
                }
                query.extend([a, b, c]);
            }
        }
    }
    let before = cpu_time(server.pid());
    // The first parameter again at the end: every one is looked at.
    query.push_str("&aaa");
    for path in [
        format!("/v1/rulesets/hubspot/assign?{query}"),
        format!("/v1/check?{query}"),
    ] {
        server
            .post_json(&path, CALL.as_bytes())
            .error(400, "callassign::bad_query");
    }
    server
        .get(&format!("/v1/history?ruleset=hubspot&{query}"))
        .error(400, "callassign::bad_query");
    let used = cpu_time(server.pid()) - before;
    assert!(
        used < Duration::from_secs(1),
        "{used:?} of CPU for 3 requests"
    );
    let answer = server.post_json("/v1/rulesets/hubspot/assign", CALL.as_bytes());
    assert_eq!(answer.status, 200, "{}", answer.text());
}

#[test]
fn error_messages_quote_at_most_64_characters_of_what_the_client_sent() {
    let dir = super::served_folder();
    let history = crate::common::repo().join("examples/calls.jsonl");
    let server = Server::start_in(
        dir.path(),
        &[
            "--rules",
            "rules",
            "--contexts",
            "contexts",
            "--history",
            history.to_str().unwrap(),
        ],
    );
    let long = "x".repeat(60_000);
    // Twice in a target of at most 64 KiB.
    let half = "x".repeat(30_000);
    let json = [("Content-Type", "application/json")];
    let long_type = format!("application/{long}");
    let check_files = format!(r#"{{"files":{{"{long}/a.rules":""}}}}"#);
    // Method, target, headers, body, status, code.
    type Case<'a> = (
        &'a str,
        String,
        Vec<(&'a str, &'a str)>,
        Vec<u8>,
        u16,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "POST",
            format!("/v1/rulesets/{long}/assign"),
            json.to_vec(),
            CALL.into(),
            404,
            "callassign::unknown_ruleset",
        ),
        (
            "GET",
            format!("/v1/rulesets/{long}/plan"),
            vec![],
            vec![],
            404,
            "callassign::unknown_ruleset",
        ),
        (
            "GET",
            format!("/{long}"),
            vec![],
            vec![],
            404,
            "callassign::not_found",
        ),
        (
            "GET",
            format!("/v1/rulesets/{long}/assign"),
            vec![],
            vec![],
            405,
            "callassign::method_not_allowed",
        ),
        (
            "POST",
            format!("/v1/rulesets/hubspot/assign?explain={long}"),
            json.to_vec(),
            CALL.into(),
            400,
            "callassign::bad_query",
        ),
        (
            "POST",
            format!("/v1/rulesets/hubspot/assign?input={long}"),
            json.to_vec(),
            CALL.into(),
            400,
            "callassign::bad_query",
        ),
        (
            "POST",
            format!("/v1/rulesets/hubspot/assign?{long}=1"),
            json.to_vec(),
            CALL.into(),
            400,
            "callassign::bad_query",
        ),
        (
            "POST",
            format!("/v1/rulesets/hubspot/assign?{half}=1&{half}=2"),
            json.to_vec(),
            CALL.into(),
            400,
            "callassign::bad_query",
        ),
        (
            "POST",
            "/v1/rulesets/hubspot/assign".into(),
            vec![("Content-Type", &long_type)],
            CALL.into(),
            415,
            "callassign::unsupported_media_type",
        ),
        (
            "POST",
            "/v1/rulesets/hubspot/assign".into(),
            vec![
                ("Content-Type", "application/json"),
                ("Content-Encoding", &long),
            ],
            CALL.into(),
            415,
            "callassign::unsupported_media_type",
        ),
        (
            "POST",
            "/v1/check".into(),
            vec![("Content-Type", &long_type)],
            b"{}".to_vec(),
            415,
            "callassign::unsupported_media_type",
        ),
        (
            "POST",
            "/v1/check".into(),
            json.to_vec(),
            check_files.into_bytes(),
            400,
            "callassign::bad_check_request",
        ),
        (
            "POST",
            "/v1/plan".into(),
            vec![("Content-Type", &long_type)],
            b"{}".to_vec(),
            415,
            "callassign::unsupported_media_type",
        ),
        (
            "GET",
            format!("/v1/rulesets/{long}/source"),
            vec![],
            vec![],
            404,
            "callassign::unknown_ruleset",
        ),
        (
            "GET",
            format!("/v1/history?ruleset=hubspot&limit={long}"),
            vec![],
            vec![],
            400,
            "callassign::bad_query",
        ),
        (
            "GET",
            format!("/v1/history?{long}=1"),
            vec![],
            vec![],
            400,
            "callassign::bad_query",
        ),
        (
            "GET",
            format!("/v1/history?ruleset=hubspot&id={long}"),
            vec![],
            vec![],
            404,
            "callassign::unknown_call",
        ),
    ];
    for (method, path, headers, body, status, code) in cases {
        let what = format!("{method} {}", &path[..path.len().min(40)]);
        let answer = super::request(server.addr, method, &path, &headers, &body);
        if answer.status != status {
            panic!(
                "{what}: {} {}",
                answer.status,
                &answer.text()[..answer.text().len().min(300)]
            );
        }
        let error = answer.error(status, code);
        super::assert_echo_capped(error["message"].as_str().unwrap(), &what);
    }
}
