//! SIGTERM and SIGINT: stop taking connections, finish what is in hand,
//! end streams at a line boundary after the grace, exit 0.

use std::io::{BufRead, BufReader, Read, Write};
use std::time::{Duration, Instant};

use super::{connect, Server};

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

#[test]
fn an_idle_service_stops_at_once_on_sigterm_and_sigint() {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let mut server = hubspot(&[]);
        assert_eq!(server.get("/readyz").status, 200);
        let started = Instant::now();
        server.signal(signal);
        assert_eq!(
            server.wait_exit(Duration::from_secs(5)),
            0,
            "{}",
            server.stderr()
        );
        assert!(started.elapsed() < Duration::from_secs(2));
        let name = if signal == libc::SIGTERM {
            "SIGTERM"
        } else {
            "SIGINT"
        };
        assert!(
            server.stderr().contains(&format!("{name}: shutting down")),
            "{}",
            server.stderr()
        );
    }
}

#[test]
fn sigterm_mid_stream_ends_it_at_a_line_boundary_after_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    let mut server = hubspot(&[
        "--shutdown-grace",
        "1s",
        "--decision-log",
        log.to_str().unwrap(),
    ]);
    let mut stream = connect(server.addr);
    stream
        .write_all(b"POST /v1/rulesets/hubspot/assign HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let line = format!("{CALL}\n");
    let send = |stream: &mut std::net::TcpStream, text: &str| {
        stream.write_all(format!("{:x}\r\n{text}\r\n", text.len()).as_bytes())
    };
    send(&mut stream, &line.repeat(10)).unwrap();
    let mut head = String::new();
    while head != "\r\n" {
        head.clear();
        reader.read_line(&mut head).unwrap();
    }

    server.signal(libc::SIGTERM);
    let started = Instant::now();
    // The stream goes on during the grace; then ends, mid-call included.
    let mut sent = 10;
    while started.elapsed() < Duration::from_millis(2500) {
        let half = &line[..line.len() / 2];
        if send(&mut stream, &line).is_err()
            || send(&mut stream, half).is_err()
            || send(&mut stream, &line[half.len()..]).is_err()
        {
            break;
        }
        sent += 2;
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    let text = String::from_utf8_lossy(&rest);
    // Chunked to its end: whole lines only, ending with the last chunk.
    assert!(text.ends_with("0\r\n\r\n"), "{text}");
    let answers: Vec<&str> = text.lines().filter(|line| line.starts_with('{')).collect();
    assert!(
        answers.len() >= 10 && answers.len() <= sent,
        "{} of {sent}",
        answers.len()
    );
    for answer in &answers {
        let parsed: serde_json::Value = serde_json::from_str(answer).expect("a whole line");
        assert_eq!(parsed["step"], "call_agent");
    }
    assert_eq!(
        server.wait_exit(Duration::from_secs(5)),
        0,
        "{}",
        server.stderr()
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the grace was given"
    );
    // The decision log holds every decision answered, flushed at the end.
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(logged.lines().count(), answers.len());
}

#[test]
fn a_request_in_flight_when_sigterm_comes_is_answered() {
    let mut server = hubspot(&[]);
    let mut stream = connect(server.addr);
    write!(
        stream,
        "POST /v1/rulesets/hubspot/assign HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        CALL.len()
    )
    .unwrap();
    stream.write_all(&CALL.as_bytes()[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    server.signal(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(200));
    stream.write_all(&CALL.as_bytes()[10..]).unwrap();
    let answer = super::read_answer(&mut BufReader::new(stream), "POST");
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(server.wait_exit(Duration::from_secs(5)), 0);
}
