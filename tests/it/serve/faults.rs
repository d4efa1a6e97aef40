//! Hostile and broken clients, and a full disk: a clear JSON error or a
//! clean close, never a stalled neighbour.

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{connect, read_answer, Server};

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

/// Whether the server closed `stream` (within `within`).
fn closed(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(error) => error.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

#[test]
fn headers_sent_a_byte_at_a_time_are_cut_off_and_stall_no_one() {
    let server = hubspot(&["--header-timeout", "1s"]);
    let mut slow = connect(server.addr);
    let head = b"POST /v1/rulesets/hubspot/assign HTTP/1.1\r\nHost: t\r\nX-Slow: ";
    let started = Instant::now();
    let mut cut = false;
    for byte in head.iter().chain(b"a".repeat(100).iter()) {
        if slow.write_all(&[*byte]).is_err() {
            cut = true;
            break;
        }
        // Others are answered meanwhile.
        if started.elapsed() < Duration::from_millis(600) {
            assert_eq!(
                server
                    .post_json("/v1/rulesets/hubspot/assign", CALL.as_bytes())
                    .status,
                200
            );
        }
        std::thread::sleep(Duration::from_millis(30));
        if started.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    assert!(
        cut || closed(&mut slow, Duration::from_secs(2)),
        "still open after {:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[test]
fn connections_are_capped_and_the_cap_answers_503() {
    super::raise_open_files_limit();
    let server = hubspot(&["--max-connections", "1000"]);
    // A thousand connections that never send a thing.
    let idle: Vec<TcpStream> = (0..999).map(|_| connect(server.addr)).collect();
    // The thousandth is served.
    let mut last = connect(server.addr);
    super::write_request(
        &mut last,
        "POST",
        "/v1/rulesets/hubspot/assign",
        &[("Content-Type", "application/json")],
        CALL.as_bytes(),
        false,
    );
    assert_eq!(
        read_answer(&mut BufReader::new(last.try_clone().unwrap()), "POST").status,
        200
    );
    // Past the cap: a 503 in JSON, at once.
    let refused = super::request(server.addr, "GET", "/healthz", &[], b"");
    refused.error(503, "callassign::too_many_connections");
    // Each refusal counted (the polling below may add a few while the
    // closed connections are being noticed).
    let refused_before = server_refusals(&server, &idle);
    assert_eq!(refused_before, 1.0);
    drop(idle);
    drop(last);
    let deadline = Instant::now() + Duration::from_secs(5);
    while super::request(server.addr, "GET", "/healthz", &[], b"").status != 200 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        server
            .metric("callassign_refused_connections_total")
            .unwrap()
            >= 1.0
    );
}

/// The refusals counted, read over one of the open connections (a new
/// one would be refused).
fn server_refusals(_server: &Server, idle: &[TcpStream]) -> f64 {
    let mut stream = idle[0].try_clone().unwrap();
    super::write_request(&mut stream, "GET", "/metrics", &[], b"", false);
    let text = read_answer(&mut BufReader::new(stream), "GET").text();
    text.lines()
        .find_map(|line| {
            line.strip_prefix("callassign_refused_connections_total ")?
                .parse()
                .ok()
        })
        .expect("the metric")
}

#[test]
fn idle_connections_are_closed_after_the_idle_timeout() {
    let server = hubspot(&["--idle-timeout", "1s"]);
    let mut never = connect(server.addr);
    let mut kept = connect(server.addr);
    super::write_request(
        &mut kept,
        "POST",
        "/v1/rulesets/hubspot/assign",
        &[("Content-Type", "application/json")],
        CALL.as_bytes(),
        false,
    );
    assert_eq!(
        read_answer(&mut BufReader::new(kept.try_clone().unwrap()), "POST").status,
        200
    );
    let started = Instant::now();
    assert!(closed(&mut never, Duration::from_secs(4)));
    assert!(closed(&mut kept, Duration::from_secs(4)));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_call_that_trickles_in_past_the_request_timeout_gets_408() {
    let server = hubspot(&["--request-timeout", "1s"]);
    let mut stream = connect(server.addr);
    write!(
        stream,
        "POST /v1/rulesets/hubspot/assign HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        CALL.len()
    )
    .unwrap();
    let started = Instant::now();
    let reader = {
        let stream = stream.try_clone().unwrap();
        std::thread::spawn(move || read_answer(&mut BufReader::new(stream), "POST"))
    };
    for byte in CALL.as_bytes().iter().take(CALL.len() - 1) {
        if stream.write_all(&[*byte]).is_err() || reader.is_finished() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let answer = reader.join().unwrap();
    answer.error(408, "callassign::request_timeout");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn a_stream_that_stalls_is_ended_after_the_request_timeout() {
    let server = hubspot(&["--request-timeout", "1s"]);
    let mut stream = connect(server.addr);
    stream
        .write_all(b"POST /v1/rulesets/hubspot/assign HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    let line = format!("{CALL}\n");
    stream
        .write_all(format!("{:x}\r\n{line}\r\n", line.len()).as_bytes())
        .unwrap();
    let started = Instant::now();
    let mut received = Vec::new();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = stream.read_to_end(&mut received);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    let text = String::from_utf8_lossy(&received);
    assert!(
        text.contains("\"call\":\"c-1\""),
        "the answer before the stall came: {text}"
    );
}

#[test]
fn a_client_that_leaves_mid_stream_leaves_the_service_well() {
    let server = hubspot(&[]);
    for _ in 0..5 {
        let mut stream = connect(server.addr);
        stream
            .write_all(b"POST /v1/rulesets/hubspot/assign HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-ndjson\r\nContent-Length: 100000000\r\n\r\n")
            .unwrap();
        let lines = format!("{CALL}\n").repeat(2000);
        stream.write_all(lines.as_bytes()).unwrap();
        let mut some = [0u8; 1024];
        let _ = stream.read(&mut some);
        // Gone, without reading the answers or sending the rest.
        drop(stream);
    }
    let answer = server.post_json("/v1/rulesets/hubspot/assign", CALL.as_bytes());
    assert_eq!(answer.status, 200);
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
}

#[test]
fn the_decision_log_has_a_line_per_decision() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    let mut server = hubspot(&["--decision-log", log.to_str().unwrap()]);
    let hash = server.hash("hubspot").unwrap();
    let with_keys = r#"{"id":"c-2","direction":"outgoing","status":"answered","agent":"alice@acme.com","recording":"r.wav"}"#;
    assert_eq!(
        server
            .post_json("/v1/rulesets/hubspot/assign", with_keys.as_bytes())
            .status,
        200
    );
    let explained = server.post_json("/v1/rulesets/hubspot/assign?explain=true", CALL.as_bytes());
    assert_eq!(explained.status, 200);
    let stream = format!("{CALL}\n{{\n{CALL}\n");
    assert_eq!(
        server
            .post_ndjson("/v1/rulesets/hubspot/assign", stream.as_bytes())
            .status,
        200
    );
    assert_eq!(
        server.post_json("/v1/rulesets/hubspot/assign", b"{").status,
        422
    );
    server.signal(libc::SIGTERM);
    assert_eq!(
        server.wait_exit(Duration::from_secs(15)),
        0,
        "{}",
        server.stderr()
    );

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{text}");
    for line in &lines {
        assert_eq!(line["ruleset"], "hubspot");
        assert_eq!(line["hash"], hash.as_str());
        assert!(line["time"].as_str().unwrap().ends_with('Z'));
        assert_eq!(line["step"], "call_agent");
        assert_eq!(line["assignee"]["id"], "hs-2");
    }
    assert_eq!(lines[0]["call"], "c-2");
    assert_eq!(lines[0]["unknown_keys"], serde_json::json!(["recording"]));
    assert!(lines[1]["trace"].is_array(), "the trace when asked");
    assert_eq!(
        serde_json::to_string(&lines[1]["trace"]).unwrap(),
        serde_json::to_string(&explained.json()["trace"]).unwrap()
    );
    assert!(lines[2].get("trace").is_none());
}

#[test]
fn a_full_disk_under_the_decision_log_does_not_stop_decisions() {
    let mut server = hubspot(&["--decision-log", "/dev/full"]);
    for _ in 0..3 {
        assert_eq!(
            server
                .post_json("/v1/rulesets/hubspot/assign", CALL.as_bytes())
                .status,
            200
        );
    }
    server.wait_for_stderr(
        "decision log `/dev/full`: cannot write",
        Duration::from_secs(5),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.status()["decision_log"]["lost"] != 3 {
        assert!(Instant::now() < deadline, "{}", server.status());
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = server.status();
    assert!(
        status["decision_log"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("No space left"),
        "{status}"
    );
    assert_eq!(
        server.metric("callassign_decision_log_lost_lines_total"),
        Some(3.0)
    );
    assert_eq!(
        server
            .post_ndjson(
                "/v1/rulesets/hubspot/assign",
                format!("{CALL}\n").as_bytes()
            )
            .status,
        200
    );
    server.signal(libc::SIGTERM);
    // Lines were lost: the run does not end as a success.
    assert_eq!(server.wait_exit(Duration::from_secs(15)), 1);
    assert!(
        server
            .stderr()
            .contains("error: the decision log `/dev/full` lost 4 lines"),
        "{}",
        server.stderr()
    );
}

#[test]
fn a_long_stream_is_logged_line_for_line_in_the_order_of_its_answers() {
    // Long enough for its lines to be decided in many blocks, some on
    // another thread: the answers and the log still follow the input.
    let calls = crate::support::generate(23, 4000);
    let mut history = String::new();
    for call in &calls {
        history.push_str(&call.json().to_string());
        history.push('\n');
    }
    let dir = crate::support::workspace(&history);
    let log = dir.path().join("decisions.jsonl");
    let mut server = Server::start_in(
        dir.path(),
        &[
            "--rules",
            "hubspot.rules",
            "--context",
            "context.yaml",
            "--decision-log",
            log.to_str().unwrap(),
        ],
    );
    let expected = super::eval(
        dir.path(),
        "hubspot.rules",
        "context.yaml",
        "calls.jsonl",
        &[],
    );
    let answer = server.post_ndjson("/v1/rulesets/hubspot/assign", history.as_bytes());
    assert_eq!(answer.status, 200);
    assert!(answer.text() == expected, "the stream differs from eval");
    server.signal(libc::SIGTERM);
    assert_eq!(
        server.wait_exit(Duration::from_secs(15)),
        0,
        "{}",
        server.stderr()
    );

    let ids = |text: &str| -> Vec<String> {
        text.lines()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                value["call"].as_str().unwrap().to_string()
            })
            .collect()
    };
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(ids(&logged).len(), calls.len());
    assert_eq!(ids(&logged), ids(&expected));
}
