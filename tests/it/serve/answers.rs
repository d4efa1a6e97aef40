//! The service is `eval` behind HTTP: on every shipped example and on
//! generated corpora (native and CloudTalk), one call at a time and as a
//! stream, its answers are `eval`'s bytes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::Path;

use crate::common::repo;
use crate::support;

use super::{connect, read_answer, write_request, Answer, Server};

/// One keep-alive connection, asked one request after another.
struct KeepAlive {
    reader: BufReader<std::net::TcpStream>,
}

impl KeepAlive {
    fn new(addr: SocketAddr) -> KeepAlive {
        KeepAlive {
            reader: BufReader::new(connect(addr)),
        }
    }

    fn post(&mut self, path: &str, content_type: &str, body: &[u8]) -> Answer {
        write_request(
            self.reader.get_mut(),
            "POST",
            path,
            &[("Content-Type", content_type)],
            body,
            false,
        );
        read_answer(&mut self.reader, "POST")
    }
}

/// Asks for each line of `lines` on its own (unreadable lines get 422,
/// whose message must be the error line's), then for all of them as one
/// stream; both must equal `eval`'s output `expected` line for line.
fn same_as_eval(server: &Server, path: &str, lines: &str, expected: &str, singles: usize) {
    let expected_lines: Vec<&str> = expected.lines().collect();
    let input_lines: Vec<&str> = lines.lines().collect();
    assert_eq!(
        input_lines.len(),
        expected_lines.len(),
        "eval writes one line per line"
    );

    let mut connection = KeepAlive::new(server.addr);
    for (input, expected) in input_lines.iter().zip(&expected_lines).take(singles) {
        let answer = connection.post(path, "application/json", input.as_bytes());
        let written: serde_json::Value = serde_json::from_str(expected).unwrap();
        if written.get("error").is_some() {
            // Read as one document, as `eval x.json` reads it: refused
            // too (the words are those of `eval x.json`, see below).
            assert_eq!(answer.status, 422, "{input}: {}", answer.text());
            continue;
        }
        assert_eq!(answer.status, 200, "{input}: {}", answer.text());
        assert_eq!(answer.text(), format!("{expected}\n"), "{input}");
    }

    let answer = connection.post(path, "application/x-ndjson", lines.as_bytes());
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("application/x-ndjson"));
    assert_eq!(
        answer.header("callassign-ruleset-hash").map(str::len),
        Some(64)
    );
    assert!(answer.text() == expected, "the stream differs from eval");
}

fn write(folder: &Path, name: &str, text: &str) {
    std::fs::write(folder.join(name), text).unwrap();
}

#[test]
fn every_shipped_ruleset_answers_the_shipped_examples_as_eval() {
    let dir = super::served_folder();
    let context = std::fs::read_to_string(repo().join("examples/hubspot.context.yaml")).unwrap();
    let names = [
        "default",
        "freshdesk",
        "hubspot",
        "pipedrive",
        "salesforce",
        "zendesk",
    ];
    for name in names {
        write(
            &dir.path().join("contexts"),
            &format!("{name}.yaml"),
            &context,
        );
    }
    std::fs::copy(
        repo().join("examples/calls.jsonl"),
        dir.path().join("calls.jsonl"),
    )
    .unwrap();
    std::fs::copy(
        repo().join("examples/call.json"),
        dir.path().join("call.json"),
    )
    .unwrap();
    let server = Server::start_in(dir.path(), &["--rules", "rules", "--contexts", "contexts"]);
    let calls = std::fs::read_to_string(dir.path().join("calls.jsonl")).unwrap();
    let call = std::fs::read(dir.path().join("call.json")).unwrap();
    for name in names {
        let rules = format!("rules/{name}.rules");
        let context = format!("contexts/{name}.yaml");
        for explain in [false, true] {
            let flags: &[&str] = if explain { &["--explain"] } else { &[] };
            let path = format!(
                "/v1/rulesets/{name}/assign{}",
                if explain { "?explain=true" } else { "" }
            );
            let expected = super::eval(dir.path(), &rules, &context, "calls.jsonl", flags);
            same_as_eval(&server, &path, &calls, &expected, usize::MAX);
            let expected = super::eval(dir.path(), &rules, &context, "call.json", flags);
            assert_eq!(server.post_json(&path, &call).text(), expected, "{name}");
        }
    }
}

#[test]
fn the_shipped_cloudtalk_records_are_answered_as_eval() {
    let server = Server::start(&[
        "--rules",
        "rules/hubspot.rules",
        "--context",
        "examples/cloudtalk/hubspot.context.yaml",
    ]);
    let root = repo();
    let records = std::fs::read_to_string(root.join("examples/cloudtalk/records.jsonl")).unwrap();
    for explain in [false, true] {
        let mut flags = vec!["--input", "cloudtalk"];
        if explain {
            flags.push("--explain");
        }
        let path = format!(
            "/v1/rulesets/hubspot/assign?input=cloudtalk{}",
            if explain { "&explain=true" } else { "" }
        );
        let expected = super::eval(
            &root,
            "rules/hubspot.rules",
            "examples/cloudtalk/hubspot.context.yaml",
            "examples/cloudtalk/records.jsonl",
            &flags,
        );
        same_as_eval(&server, &path, &records, &expected, usize::MAX);
        for document in ["calls.json", "detail-queue.json", "detail-voicemail.json"] {
            let body = std::fs::read(root.join("examples/cloudtalk").join(document)).unwrap();
            let expected = super::eval(
                &root,
                "rules/hubspot.rules",
                "examples/cloudtalk/hubspot.context.yaml",
                &format!("examples/cloudtalk/{document}"),
                &flags,
            );
            assert_eq!(
                server.post_json(&path, &body).text(),
                expected,
                "{document}"
            );
        }
    }
}

/// Lines no reader accepts, and line shapes a batch must take as they
/// come: an empty line, CRLF, a near-miss key, a list.
const ODD_LINES: [&str; 6] = [
    "{",
    "",
    "not json",
    r#"{"id":"odd-1","direction":"incoming","status":"answered","Status":"missed"}"#,
    r#"[{"id":"odd-2"}]"#,
    "{\"id\":\"odd-3\",\"direction\":\"outgoing\",\"status\":\"answered\",\"agent\":\"alice@acme.com\"}\r",
];

#[test]
fn a_generated_native_corpus_is_answered_as_eval() {
    let calls = support::generate(18, 3000);
    let mut history = String::from("\u{feff}");
    for (n, call) in calls.iter().enumerate() {
        history.push_str(&call.json().to_string());
        history.push('\n');
        if n % 300 == 7 {
            history.push_str(ODD_LINES[n / 300 % ODD_LINES.len()]);
            history.push('\n');
        }
    }
    let dir = support::workspace(&history);
    let server = Server::start_in(
        dir.path(),
        &["--rules", "hubspot.rules", "--context", "context.yaml"],
    );
    for (explain, flags) in [("", &[][..]), ("?explain=true", &["--explain"][..])] {
        let expected = super::eval(
            dir.path(),
            "hubspot.rules",
            "context.yaml",
            "calls.jsonl",
            flags,
        );
        let path = format!("/v1/rulesets/hubspot/assign{explain}");
        // The byte-order mark is the stream's, not the first call's.
        let singles = history.trim_start_matches('\u{feff}');
        same_as_eval(&server, &path, singles, &expected, 400);
        let answer = server.post_ndjson(&path, history.as_bytes());
        assert!(
            answer.text() == expected,
            "with a byte-order mark, the stream differs from eval"
        );
    }
}

#[test]
fn a_generated_cloudtalk_corpus_is_answered_as_eval() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in support::cloudtalk::context_files() {
        write(dir.path(), name, &text);
    }
    write(
        dir.path(),
        "hubspot.rules",
        "ruleset hubspot extends default\n",
    );
    let records: String = support::cloudtalk::generate(7, 1500)
        .iter()
        .map(|record| format!("{}\n", record.json()))
        .collect();
    write(dir.path(), "records.jsonl", &records);
    let server = Server::start_in(
        dir.path(),
        &["--rules", "hubspot.rules", "--context", "context.yaml"],
    );
    for (query, flags) in [
        ("?input=cloudtalk", &["--input", "cloudtalk"][..]),
        (
            "?input=cloudtalk&explain=true",
            &["--input", "cloudtalk", "--explain"][..],
        ),
    ] {
        let expected = super::eval(
            dir.path(),
            "hubspot.rules",
            "context.yaml",
            "records.jsonl",
            flags,
        );
        same_as_eval(
            &server,
            &format!("/v1/rulesets/hubspot/assign{query}"),
            &records,
            &expected,
            300,
        );
    }
}

#[test]
fn answers_flow_while_the_stream_is_still_arriving() {
    let server = Server::start(&[
        "--rules",
        "rules/hubspot.rules",
        "--context",
        "examples/hubspot.context.yaml",
    ]);
    let mut stream = connect(server.addr);
    stream
        .write_all(b"POST /v1/rulesets/hubspot/assign HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut head = String::new();
    let mut received = Vec::new();
    for n in 0..20 {
        let line = format!(
            "{{\"id\":\"live-{n}\",\"direction\":\"outgoing\",\"status\":\"answered\",\"agent\":\"alice@acme.com\"}}\n"
        );
        stream
            .write_all(format!("{:x}\r\n{line}\r\n", line.len()).as_bytes())
            .unwrap();
        if n == 0 {
            // The head comes before the body has ended.
            loop {
                head.clear();
                reader.read_line(&mut head).unwrap();
                if head == "\r\n" {
                    break;
                }
                received.push(head.clone());
            }
            assert!(received[0].starts_with("HTTP/1.1 200"), "{received:?}");
        }
        // Each answer comes back before the next call is sent.
        let mut size = String::new();
        reader.read_line(&mut size).unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).unwrap();
        let text = String::from_utf8_lossy(&chunk);
        assert!(
            text.starts_with(&format!("{{\"call\":\"live-{n}\"")),
            "{text}"
        );
    }
    stream.write_all(b"0\r\n\r\n").unwrap();
    let mut end = String::new();
    reader.read_line(&mut end).unwrap();
    assert_eq!(end, "0\r\n");
}

#[test]
fn a_long_stream_is_answered_in_constant_memory() {
    let server = Server::start(&[
        "--rules",
        "rules/hubspot.rules",
        "--context",
        "examples/hubspot.context.yaml",
    ]);
    let pid = server.pid();
    let high_water = || -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status
            .lines()
            .find(|line| line.starts_with("VmHWM:"))
            .unwrap();
        line.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
            * 1024
    };
    // Warm up, then send 64 MiB of calls padded with spaces (a call per
    // 64 KiB line), reading the answers as they come.
    server.post_ndjson("/v1/rulesets/hubspot/assign", b"{}\n");
    let before = high_water();
    let call =
        r#"{"id":"big","direction":"outgoing","status":"answered","agent":"alice@acme.com"}"#;
    let mut line = call.to_string();
    line.push_str(&" ".repeat(64 * 1024 - call.len() - 1));
    line.push('\n');
    let lines = 1024;
    let mut stream = connect(server.addr);
    write!(
        stream,
        "POST /v1/rulesets/hubspot/assign HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        line.len() * lines
    )
    .unwrap();
    let reader = {
        let stream = stream.try_clone().unwrap();
        std::thread::spawn(move || read_answer(&mut BufReader::new(stream), "POST"))
    };
    for _ in 0..lines {
        stream.write_all(line.as_bytes()).unwrap();
    }
    let answer = reader.join().unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text().lines().count(), lines);
    let grown = high_water().saturating_sub(before);
    assert!(
        grown < 24 << 20,
        "the stream of 64 MiB grew the server by {grown} bytes"
    );
}

#[test]
fn many_connections_at_once_get_their_own_answers() {
    let server = Server::start(&[
        "--rules",
        "rules/hubspot.rules",
        "--context",
        "examples/hubspot.context.yaml",
    ]);
    let addr = server.addr;
    let workers: Vec<_> = (0..16)
        .map(|worker| {
            std::thread::spawn(move || {
                let mut connection = KeepAlive::new(addr);
                for n in 0..50 {
                    let id = format!("w{worker}-{n}");
                    let call = format!(r#"{{"id":"{id}","direction":"outgoing","status":"answered","agent":"bob@acme.com"}}"#);
                    let answer = connection.post("/v1/rulesets/hubspot/assign", "application/json", call.as_bytes());
                    assert_eq!(answer.status, 200);
                    assert!(answer.text().starts_with(&format!("{{\"call\":\"{id}\"")));
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
}

#[test]
fn a_call_that_cannot_be_read_is_refused_in_the_words_of_eval() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--rules",
        "rules/hubspot.rules",
        "--context",
        "examples/hubspot.context.yaml",
    ]);
    let root = repo();
    let rules = root.join("rules/hubspot.rules");
    let context = root.join("examples/hubspot.context.yaml");
    for (n, body) in ODD_LINES
        .iter()
        .chain(&[
            r#"{"id":7,"direction":"sideways","status":"answered"}"#,
            "{\n  \"id\": \"x\",\n  \"flows\": []\n}",
        ])
        .enumerate()
    {
        let file = dir.path().join(format!("call-{n}.json"));
        std::fs::write(&file, body).unwrap();
        let eval = crate::common::callassign_in(
            dir.path(),
            &[
                "eval",
                "--rules",
                rules.to_str().unwrap(),
                "--context",
                context.to_str().unwrap(),
                file.to_str().unwrap(),
            ],
            b"",
        );
        let answer = server.post_json("/v1/rulesets/hubspot/assign", body.as_bytes());
        match eval.code {
            0 => assert_eq!(answer.text(), eval.stdout, "{body}"),
            1 => {
                let line: serde_json::Value = serde_json::from_str(&eval.stdout).unwrap();
                let error = answer.error(422, "callassign::unreadable_call");
                assert_eq!(error["message"], line["error"], "{body}");
            }
            _ => {
                // eval refuses the document as a whole (a list): so does serve.
                assert!(eval.stderr.contains("not one call"), "{}", eval.stderr);
                answer.error(422, "callassign::not_one_call");
            }
        }
    }
}

#[test]
fn a_client_that_expects_100_continue_is_asked_for_its_body() {
    let server = Server::start(&[
        "--rules",
        "rules/hubspot.rules",
        "--context",
        "examples/hubspot.context.yaml",
    ]);
    let call =
        r#"{"id":"e-1","direction":"outgoing","status":"answered","agent":"alice@acme.com"}"#;
    for content_type in ["application/json", "application/x-ndjson"] {
        let mut stream = connect(server.addr);
        write!(
            stream,
            "POST /v1/rulesets/hubspot/assign HTTP/1.1\r\nHost: t\r\nContent-Type: {content_type}\r\nExpect: 100-continue\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            call.len() + 1
        )
        .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line, "HTTP/1.1 100 Continue\r\n", "{content_type}");
        reader.read_line(&mut line).unwrap();
        stream.write_all(format!("{call}\n").as_bytes()).unwrap();
        let answer = read_answer(&mut reader, "POST");
        assert_eq!(answer.status, 200);
        assert!(
            answer.text().starts_with("{\"call\":\"e-1\""),
            "{}",
            answer.text()
        );
    }
}
