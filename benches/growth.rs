//! How each cost grows with its input: for the inputs that once cost time,
//! memory or output growing faster than they do (issue 22), a table of
//! sizes × wall time, peak memory and output, each size four times the
//! last. Linear growth shows as a constant cost per item down each table.
//!
//! `cargo bench --bench growth` (a few minutes); `CALLASSIGN_GROWTH_SCALE=4`
//! makes every size four times larger, `=0.25` four times smaller. Not
//! timed in CI (CI only builds it); the figures are in BENCHMARKS.md.
//!
//! 1. `eval --input cloudtalk` of a `.json` list response of empty items;
//! 2. `eval` of a batch whose every call has a key of its own (the keys
//!    not read, in the summary);
//! 3. `check` of a folder whose every file extends a missing file;
//! 4. `callassign lsp` opening every file of a folder, one after another;
//! 5. completion of `user "…"` with a context of many users;
//! 6. `fmt` of a file with one long line and many short lines, each with
//!    a trailing comment.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "common/corpus.rs"]
mod corpus;
#[path = "common/process.rs"]
mod process;

const CALLASSIGN: &str = env!("CARGO_BIN_EXE_callassign");

/// What one run cost.
struct Cost {
    wall: Duration,
    peak_kib: i64,
    output: u64,
}

/// Runs `command` with stdin from `input` (or nothing) and stdout into a
/// file, whatever its exit status; wall time, peak memory (`wait4`), and
/// the bytes written to stdout.
#[allow(clippy::zombie_processes)] // waited for with wait4
fn run(command: &mut Command, input: Option<&Path>, out: &Path) -> Cost {
    let stdin = match input {
        Some(path) => Stdio::from(File::open(path).unwrap()),
        None => Stdio::null(),
    };
    let start = Instant::now();
    let child = command
        .stdin(stdin)
        .stdout(File::create(out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("start callassign");
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it in for our child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `child.id()` is our own child, not yet waited for.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(pid, child.id() as libc::pid_t, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) <= 1,
        "{command:?} failed with status {status}"
    );
    Cost {
        wall,
        peak_kib: usage.ru_maxrss,
        output: fs::metadata(out).unwrap().len(),
    }
}

/// One table: a title, what a size counts, and a row per size.
fn table(title: &str, unit: &str, sizes: &[u64], mut measure: impl FnMut(u64) -> (u64, Cost)) {
    println!("\n### {title}\n");
    println!("| {unit} | input MB | wall s | µs per {unit} | peak MB | output MB |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for &size in sizes {
        let (input, cost) = measure(size);
        println!(
            "| {size} | {:.1} | {:.3} | {:.2} | {:.1} | {:.1} |",
            input as f64 / 1e6,
            cost.wall.as_secs_f64(),
            cost.wall.as_secs_f64() * 1e6 / size as f64,
            cost.peak_kib as f64 / 1024.0,
            cost.output as f64 / 1e6,
        );
    }
}

/// `base` × 1, 4, 16, scaled by `CALLASSIGN_GROWTH_SCALE`.
fn sizes(base: u64) -> Vec<u64> {
    let scale: f64 = std::env::var("CALLASSIGN_GROWTH_SCALE")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1.0);
    [1, 4, 16]
        .into_iter()
        .map(|factor| ((base * factor) as f64 * scale).max(1.0) as u64)
        .collect()
}

/// Writes a file through a buffer, so that the benchmark itself stays
/// small (a child starts as a copy of it, and its peak counts in the
/// child's); the file's size.
fn stream(path: &Path, fill: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>) -> u64 {
    let mut file = BufWriter::new(File::create(path).unwrap());
    fill(&mut file).unwrap();
    file.flush().unwrap();
    fs::metadata(path).unwrap().len()
}

fn write(path: &Path, text: &str) -> u64 {
    fs::write(path, text).unwrap();
    text.len() as u64
}

/// LSP frames for `messages`, as an editor writes them.
fn frames(messages: &[serde_json::Value]) -> String {
    let mut frames = String::new();
    for message in messages {
        let body = message.to_string();
        frames += &format!("Content-Length: {}\r\n\r\n{body}", body.len());
    }
    frames
}

fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn lsp_session(dir: &Path, middle: Vec<serde_json::Value>) -> PathBuf {
    let mut messages = vec![
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"capabilities": {}, "initializationOptions": {"context": dir.join("context.yaml")}}}),
        serde_json::json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
    ];
    messages.extend(middle);
    messages.push(serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}));
    messages.push(serde_json::json!({"jsonrpc": "2.0", "method": "exit"}));
    let path = dir.join("session.lsp");
    fs::write(&path, frames(&messages)).unwrap();
    path
}

fn main() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules = root.join("rules/hubspot.rules");
    let context = root.join("examples/hubspot.context.yaml");
    let out = work.path().join("out");
    println!("machine: {}", process::machine());

    table(
        "1. `eval --input cloudtalk` of a list response of empty items",
        "item",
        &sizes(250_000),
        |items| {
            let path = work.path().join("items.json");
            let bytes = stream(&path, |file| {
                file.write_all(br#"{"responseData":{"data":["#)?;
                for index in 0..items {
                    file.write_all(if index == 0 { b"{}" } else { b",{}" })?;
                }
                file.write_all(b"]}}")
            });
            let cost = run(
                Command::new(CALLASSIGN)
                    .args(["eval", "--input", "cloudtalk", "-q", "--rules"])
                    .arg(&rules)
                    .arg("--context")
                    .arg(&context)
                    .arg(&path),
                None,
                &out,
            );
            (bytes, cost)
        },
    );

    table(
        "2. `eval` of calls that each carry a key of their own",
        "call",
        &sizes(100_000),
        |calls| {
            let path = work.path().join("keys.jsonl");
            let filler = "k".repeat(40);
            let bytes = stream(&path, |file| {
                for index in 0..calls {
                    writeln!(
                        file,
                        "{{\"id\":\"c{index}\",\"direction\":\"incoming\",\"status\":\"missed\",\"x-{index:08}-{filler}\":1}}"
                    )?;
                }
                Ok(())
            });
            let cost = run(
                Command::new(CALLASSIGN)
                    .args(["eval", "--jobs", "1", "--rules"])
                    .arg(&rules)
                    .arg("--context")
                    .arg(&context)
                    .arg(&path),
                None,
                &out,
            );
            (bytes, cost)
        },
    );

    table(
        "3. `check` of a folder whose every file extends a missing file",
        "file",
        &sizes(500),
        |files| {
            let folder = work.path().join(format!("missing-{files}"));
            fs::create_dir_all(&folder).unwrap();
            let mut bytes = 0;
            for index in 0..files {
                bytes += write(
                    &folder.join(format!("team{index:06}.rules")),
                    &format!("ruleset team{index:06} extends base{index}\n"),
                );
            }
            let cost = run(
                Command::new(CALLASSIGN).arg("check").arg(&folder),
                None,
                &out,
            );
            fs::remove_dir_all(&folder).unwrap();
            (bytes, cost)
        },
    );

    table(
        "4. `callassign lsp` opening every file of a folder",
        "document",
        &sizes(100),
        |documents| {
            let folder = work.path().join(format!("open-{documents}"));
            fs::create_dir_all(&folder).unwrap();
            write(&folder.join("context.yaml"), &corpus::context_yaml());
            // Saved files, as an editor opens them, each extending one
            // base that stays closed.
            write(
                &folder.join("base.rules"),
                "ruleset base extends default\ndisable contact_owner\n",
            );
            let mut opens = Vec::new();
            let mut bytes = 0;
            for index in 0..documents {
                let text = format!(
                    "ruleset team{index:05} extends base\nstep user \"ops{index}@acme.com\" when status == missed\n"
                );
                bytes += write(&folder.join(format!("team{index:05}.rules")), &text);
                opens.push(serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                    "params": {"textDocument": {"uri": file_uri(&folder.join(format!("team{index:05}.rules"))),
                        "languageId": "callassign", "version": 1, "text": text}}}));
            }
            let session = lsp_session(&folder, opens);
            let cost = run(Command::new(CALLASSIGN).arg("lsp"), Some(&session), &out);
            fs::remove_dir_all(&folder).unwrap();
            (bytes, cost)
        },
    );

    table(
        "5. completion of `user \"` with a context of many users",
        "user",
        &sizes(10_000),
        |users| {
            let folder = work.path().join(format!("complete-{users}"));
            fs::create_dir_all(&folder).unwrap();
            let bytes = stream(&folder.join("context.yaml"), |file| {
                writeln!(file, "integration: hubspot\nusers:")?;
                for index in 0..users {
                    writeln!(file, "  - {{id: u{index}, email: user{index}@acme.com}}")?;
                }
                Ok(())
            });
            let uri = file_uri(&folder.join("team.rules"));
            let session = lsp_session(
                &folder,
                vec![
                    serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                        "params": {"textDocument": {"uri": uri, "languageId": "callassign", "version": 1,
                            "text": "ruleset team\nfallback user \""}}}),
                    serde_json::json!({"jsonrpc": "2.0", "id": 3, "method": "textDocument/completion",
                        "params": {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 15}}}),
                ],
            );
            let cost = run(Command::new(CALLASSIGN).arg("lsp"), Some(&session), &out);
            fs::remove_dir_all(&folder).unwrap();
            (bytes, cost)
        },
    );

    table(
        "6. `fmt --stdout` of one long line and many commented short lines",
        "line",
        &sizes(2_000),
        |lines| {
            let path = work.path().join("comments.rules");
            let mut text = String::from("ruleset comments\n");
            text.push_str(&format!(
                "step user \"{}@acme.com\" # the long one\n",
                "u".repeat(20_000)
            ));
            for _ in 0..lines {
                text.push_str("step call_agent # short\n");
            }
            let bytes = write(&path, &text);
            let cost = run(
                Command::new(CALLASSIGN)
                    .args(["fmt", "--stdout"])
                    .arg(&path),
                None,
                &out,
            );
            (bytes, cost)
        },
    );
}
