//! `callassign serve` side by side with `http_peer` of `../shared/peers`
//! (the hand-written decision behind axum: the practical limit for serving
//! one decision over HTTP), driven by the peers' `loadgen` on loopback.
//!
//! `cargo bench --bench serve` builds the peers into `target/peers`, writes
//! the corpus (the seeded generator of `common/corpus.rs`) and a contexts
//! folder for it, starts `http_peer` and `serve` (and `serve` with a token
//! and a decision log) on free loopback ports, checks that every server
//! answers the first calls of the corpus as `handwritten` decides them
//! (`loadgen --expect-json`), then:
//!
//! 1. single calls: rounds of one `loadgen` run per server (32 keep-alive
//!    connections by default), the order rotating each round so a burst of
//!    load from elsewhere falls on all of them alike: throughput, p50 and
//!    p99 latency, the server's CPU time per answer (utime + stime of
//!    `/proc/PID/stat` over the run, steadier than wall time on a shared
//!    machine) and its peak resident memory (`VmHWM`), as ratios to the
//!    peer's from the same rounds;
//! 2. the NDJSON route against `eval --jobs 1` on the same calls (200,000),
//!    interleaved, after checking that the bytes are the same;
//! 3. time to ready: from spawning `serve` with the shipped rules to the
//!    first 200 on `/readyz`, several runs (and `http_peer`'s, for scale).
//!
//! It times processes: it is not a test. Without the peers folder it says
//! so and exits non-zero: the comparison is the point.
//!
//! 4. instructions per answer under `valgrind --tool=callgrind` (when
//!    installed), for the peer and `serve`: a figure the load does not move.
//!
//! Knobs (environment): `CALLASSIGN_BENCH_ROUNDS` (7), `CALLASSIGN_BENCH_REQUESTS`
//! (50000 a run), `CALLASSIGN_BENCH_CONNECTIONS` (32), `CALLASSIGN_BENCH_CALLS`
//! (200000, the NDJSON corpus), `CALLASSIGN_BENCH_STREAM_RUNS` (5),
//! `CALLASSIGN_BENCH_READY_RUNS` (15), `CALLASSIGN_BENCH_CALLGRIND_REQUESTS`
//! (20000; 0 skips callgrind), `CALLASSIGN_BENCH_BASELINE` (the path of
//! another `callassign` binary: measured beside this one, to compare two
//! builds).

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[path = "common/corpus.rs"]
mod corpus;
#[path = "common/process.rs"]
mod process;

use process::{machine, measure, write_corpus, Run};

const CALLASSIGN: &str = env!("CARGO_BIN_EXE_callassign");
/// The ruleset served and asked: `rules/hubspot.rules` extends the
/// default rules and changes nothing, so it decides as `handwritten`.
const RULESET: &str = "hubspot";
const TOKEN: &str = "bench-token-0123456789abcdef";

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(peers) = peers_folder(root) else {
        eprintln!(
            "error: no peers folder: looked for `../shared/peers` beside the repository and \
             /work/shared/peers. The serving benchmark measures `callassign serve` against \
             `http_peer` of that folder and cannot run without it."
        );
        return ExitCode::FAILURE;
    };
    let rounds = setting("CALLASSIGN_BENCH_ROUNDS", 7) as usize;
    let requests = setting("CALLASSIGN_BENCH_REQUESTS", 50_000);
    let connections = setting("CALLASSIGN_BENCH_CONNECTIONS", 32);
    let calls = setting("CALLASSIGN_BENCH_CALLS", 200_000);
    let stream_runs = setting("CALLASSIGN_BENCH_STREAM_RUNS", 5) as usize;
    let ready_runs = setting("CALLASSIGN_BENCH_READY_RUNS", 15) as usize;
    let callgrind_requests = std::env::var("CALLASSIGN_BENCH_CALLGRIND_REQUESTS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(20_000u64);

    let bin = build_peers(root, &peers);
    let work = root.join("target/serve-bench");
    fs::remove_dir_all(&work).ok();
    fs::create_dir_all(work.join("contexts")).unwrap();
    let context = work.join("contexts").join(format!("{RULESET}.yaml"));
    fs::write(&context, corpus::context_yaml()).unwrap();
    let token = work.join("token");
    fs::write(&token, format!("{TOKEN}\n")).unwrap();
    let bodies = work.join("bodies.jsonl");
    let body_count = requests.clamp(1, 50_000);
    write_corpus(&bodies, body_count);
    let expect = work.join("expect.jsonl");
    let status = Command::new(bin.join("handwritten"))
        .arg("--context")
        .arg(&context)
        .arg(&bodies)
        .stdout(fs::File::create(&expect).unwrap())
        .status()
        .expect("run handwritten");
    assert!(status.success(), "handwritten failed: {status}");

    println!("machine: {}", machine());
    println!("date: {}", today());
    println!("load average at start: {}", load_average());
    println!(
        "servers: `http_peer` (two workers, as shipped), `callassign serve --rules rules \
         --contexts CTX` (default workers: {} here), and the same with `--token-file` and \
         `--decision-log`; context: {} users (seed 42)",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        corpus::USERS
    );

    let rules = root.join("rules");
    let contexts = work.join("contexts");
    let peer = Server::peer(&bin, &context);
    let serve = Server::serve("serve", &rules, &contexts, &[]);
    let log = work.join("decisions.jsonl");
    let guarded = Server::serve(
        "serve + token + log",
        &rules,
        &contexts,
        &[
            "--token-file".as_ref(),
            token.as_os_str(),
            "--decision-log".as_ref(),
            log.as_os_str(),
        ],
    );
    // Another build of callassign to compare with (`git stash; cargo build
    // --release; cp target/release/callassign /tmp/base; git stash pop`).
    let baseline = std::env::var_os("CALLASSIGN_BENCH_BASELINE").map(|path| {
        Server::serve_with(
            Command::new(path),
            "serve (baseline build)",
            &rules,
            &contexts,
            &[],
        )
    });
    let mut servers = vec![&peer, &serve];
    servers.extend(baseline.as_ref());
    servers.push(&guarded);
    let load = Load {
        loadgen: bin.join("loadgen"),
        bodies: bodies.clone(),
        connections,
    };

    // The answers agree, and every server is warm.
    for &server in &servers {
        let run = load.run(server, body_count, Some(&expect));
        assert!(
            run.errors == 0 && run.mismatches == Some(0) && run.unfinished == 0,
            "{} does not answer as handwritten: {run:?}",
            server.label
        );
    }
    println!(
        "answers: the first {body_count} calls of the corpus, answered by every server, equal \
         `handwritten`'s (loadgen --expect-json)"
    );

    single_calls(&load, &servers, rounds, requests);
    drop(servers);
    drop(guarded);
    drop(baseline);
    fs::remove_file(&log).ok();
    drop(peer);

    ndjson(root, &work, &serve, &context, calls, stream_runs);
    drop(serve);

    time_to_ready(root, &work, &bin, ready_runs);
    if callgrind_requests > 0 && has_valgrind() {
        instructions(&bin, &load, &rules, &contexts, &context, callgrind_requests);
    } else {
        println!("\nnote: valgrind is not installed (or CALLASSIGN_BENCH_CALLGRIND_REQUESTS=0): no instruction counts");
    }
    println!("\nload average at the end: {}", load_average());
    println!(
        "the bodies, the answers expected and the contexts stay in {} for runs by hand",
        work.display()
    );
    ExitCode::SUCCESS
}

/// One loadgen run against one server, and what the server spent on it.
#[derive(Debug, Clone, Copy)]
struct Sample {
    throughput: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_us_per_answer: f64,
}

fn single_calls(load: &Load, servers: &[&Server], rounds: usize, requests: u64) {
    println!(
        "\n## Single calls: {rounds} rounds of one run per server ({requests} requests, {} \
         keep-alive connections, loadgen on one thread), order rotating\n",
        load.connections
    );
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); servers.len()];
    let mut loads = Vec::new();
    for round in 0..rounds {
        for turn in 0..servers.len() {
            let index = (round + turn) % servers.len();
            let server = servers[index];
            let cpu = server.cpu();
            let run = load.run(server, requests, None);
            let cpu = server.cpu() - cpu;
            assert!(
                run.errors == 0,
                "{} answered {} errors: {run:?}",
                server.label,
                run.errors
            );
            let answers = (run.throughput_rps * run.elapsed_s).round().max(1.0);
            samples[index].push(Sample {
                throughput: run.throughput_rps,
                p50_ms: run.p50_ms,
                p99_ms: run.p99_ms,
                cpu_us_per_answer: cpu.as_secs_f64() * 1e6 / answers,
            });
        }
        loads.push(load_average_1m());
    }
    let med = |index: usize, pick: fn(&Sample) -> f64| {
        median_of(samples[index].iter().map(pick).collect())
    };
    println!(
        "load average (1 min) after each round: {}\n",
        loads
            .iter()
            .map(|load| format!("{load:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("| server | requests/s | vs peer | p50 ms | p99 ms | p99 vs peer | CPU µs/answer | vs peer | peak RSS MB |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let peer_rps = med(0, |s| s.throughput);
    let peer_p99 = med(0, |s| s.p99_ms);
    let peer_cpu = med(0, |s| s.cpu_us_per_answer);
    for (index, server) in servers.iter().enumerate() {
        println!(
            "| {} | {:.0} | {:.2}× | {:.3} | {:.3} | {:.2}× | {:.1} | {:.2}× | {:.1} |",
            server.label,
            med(index, |s| s.throughput),
            med(index, |s| s.throughput) / peer_rps,
            med(index, |s| s.p50_ms),
            med(index, |s| s.p99_ms),
            med(index, |s| s.p99_ms) / peer_p99,
            med(index, |s| s.cpu_us_per_answer),
            med(index, |s| s.cpu_us_per_answer) / peer_cpu,
            server.peak_kib() as f64 / 1024.0,
        );
    }
    println!("\nmedians over the rounds; ratios of medians. Per round, serve against the peer of the same round:\n");
    println!("| server | throughput ratio per round | p99 ratio per round | CPU ratio per round |");
    println!("|---|---|---|---|");
    for (index, server) in servers.iter().enumerate().skip(1) {
        let ratios = |pick: fn(&Sample) -> f64| {
            samples[index]
                .iter()
                .zip(&samples[0])
                .map(|(own, peer)| format!("{:.2}", pick(own) / pick(peer)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        println!(
            "| {} | {} | {} | {} |",
            server.label,
            ratios(|s| s.throughput),
            ratios(|s| s.p99_ms),
            ratios(|s| s.cpu_us_per_answer)
        );
    }
    let rps = med(1, |s| s.throughput) / peer_rps;
    let p99 = med(1, |s| s.p99_ms);
    let peak = servers[1].peak_kib() as f64 / 1024.0;
    println!(
        "\ntargets (`serve`): throughput ≥ 0.9× the peer's: {rps:.2}× ({}); p99 ≤ 2 ms, or ≤ 1.25× \
         the peer's on a busy machine: {p99:.3} ms, {:.2}× ({}); peak RSS ≤ 60 MB: {peak:.1} MB ({})",
        met(rps >= 0.9),
        p99 / peer_p99,
        met(p99 <= 2.0 || p99 <= 1.25 * peer_p99),
        met(peak <= 60.0)
    );
}

/// The NDJSON route against `eval --jobs 1` on the same calls.
fn ndjson(root: &Path, work: &Path, serve: &Server, context: &Path, calls: u64, runs: usize) {
    let batch = work.join("calls.jsonl");
    let bytes = write_corpus(&batch, calls);
    let rules = root.join(format!("rules/{RULESET}.rules"));
    let eval = || {
        let mut command = Command::new(CALLASSIGN);
        command
            .args(["eval", "--quiet", "--jobs", "1", "--rules"])
            .arg(&rules)
            .arg("--context")
            .arg(context)
            .arg(&batch);
        command
    };
    let expected = work.join("eval.jsonl");
    let status = eval()
        .stdout(fs::File::create(&expected).unwrap())
        .status()
        .unwrap();
    assert!(status.success(), "eval failed: {status}");
    let answered = work.join("serve.jsonl");
    let mut out = std::io::BufWriter::new(fs::File::create(&answered).unwrap());
    post_stream(serve.addr, &batch, &mut out);
    out.flush().unwrap();
    drop(out);
    assert!(
        same_bytes(&expected, &answered),
        "the NDJSON route's answer differs from `eval`'s ({} against {})",
        answered.display(),
        expected.display()
    );
    fs::remove_file(&expected).ok();
    fs::remove_file(&answered).ok();

    let (mut eval_runs, mut stream_runs): (Vec<Run>, Vec<(Duration, Duration)>) =
        (Vec::new(), Vec::new());
    for round in 0..runs {
        let stream = || {
            let cpu = serve.cpu();
            let wall = post_stream(serve.addr, &batch, &mut std::io::sink());
            (wall, serve.cpu() - cpu)
        };
        if round % 2 == 0 {
            eval_runs.push(measure(&mut eval()));
            stream_runs.push(stream());
        } else {
            stream_runs.push(stream());
            eval_runs.push(measure(&mut eval()));
        }
    }
    let eval_wall = median_of(eval_runs.iter().map(|r| r.wall.as_secs_f64()).collect());
    let eval_cpu = median_of(eval_runs.iter().map(|r| r.cpu.as_secs_f64()).collect());
    let stream_wall = median_of(stream_runs.iter().map(|r| r.0.as_secs_f64()).collect());
    let stream_cpu = median_of(stream_runs.iter().map(|r| r.1.as_secs_f64()).collect());
    let ratio = eval_wall / stream_wall;
    println!(
        "\n## NDJSON: {calls} calls ({:.1} MB) in one request, against `eval --jobs 1` on the same file; \
         {runs} interleaved runs; the answer is byte-identical to `eval`'s\n",
        bytes as f64 / 1e6
    );
    println!("| program | median s | calls/s | CPU s | throughput vs `eval --jobs 1` |");
    println!("|---|---|---|---|---|");
    println!(
        "| `eval --jobs 1` | {eval_wall:.3} | {:.0} | {eval_cpu:.3} | 1.00× |",
        calls as f64 / eval_wall
    );
    println!(
        "| `serve`, NDJSON route (wall at the client, CPU of the server) | {stream_wall:.3} | {:.0} | {stream_cpu:.3} | {ratio:.2}× |",
        calls as f64 / stream_wall
    );
    println!(
        "\nper-round ratios (eval s / stream s): {}",
        eval_runs
            .iter()
            .zip(&stream_runs)
            .map(|(eval, stream)| format!(
                "{:.2}",
                eval.wall.as_secs_f64() / stream.0.as_secs_f64()
            ))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "target: the NDJSON route ≥ 0.8× `eval --jobs 1`: {ratio:.2}× ({}); serve's peak RSS after the streams: {:.1} MB; load average (1 min): {:.1}",
        met(ratio >= 0.8),
        serve.peak_kib() as f64 / 1024.0,
        load_average_1m()
    );
    fs::remove_file(&batch).ok();
}

/// From spawning `serve` with the shipped rules to the first 200 on
/// `/readyz`; and the same for `http_peer`, for scale.
fn time_to_ready(root: &Path, work: &Path, bin: &Path, runs: usize) {
    let contexts = work.join("shipped-contexts");
    fs::create_dir_all(&contexts).unwrap();
    let context = contexts.join("hubspot.yaml");
    fs::copy(root.join("examples/hubspot.context.yaml"), &context).unwrap();
    let rules = root.join("rules");
    let (mut serve, mut peer) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let start = Instant::now();
        let server = Server::serve("serve", &rules, &contexts, &[]);
        let listening = start.elapsed();
        wait_ready(server.addr);
        serve.push((listening, start.elapsed()));
        drop(server);
        let start = Instant::now();
        let server = Server::peer(bin, &context);
        let listening = start.elapsed();
        wait_ready(server.addr);
        peer.push((listening, start.elapsed()));
        drop(server);
    }
    let ms = |times: &[(Duration, Duration)], pick: fn(&(Duration, Duration)) -> Duration| {
        median_of(
            times
                .iter()
                .map(|time| pick(time).as_secs_f64() * 1e3)
                .collect(),
        )
    };
    let max = |times: &[(Duration, Duration)]| {
        times
            .iter()
            .map(|time| time.1.as_secs_f64() * 1e3)
            .fold(0.0, f64::max)
    };
    println!(
        "\n## Time to ready: from spawn to the first 200 on `/readyz`, {runs} runs each, interleaved \
         (`serve --rules rules --contexts DIR` with the shipped rules and `examples/hubspot.context.yaml`)\n"
    );
    println!(
        "| server | `listening on` printed, median ms | ready, median ms | ready, slowest ms |"
    );
    println!("|---|---|---|---|");
    for (label, times) in [("`serve`", &serve), ("`http_peer`", &peer)] {
        println!(
            "| {label} | {:.1} | {:.1} | {:.1} |",
            ms(times, |t| t.0),
            ms(times, |t| t.1),
            max(times)
        );
    }
    let ready = ms(&serve, |t| t.1);
    println!(
        "target: ready ≤ 100 ms after start: median {ready:.1} ms ({}); load average (1 min): {:.1}",
        met(ready <= 100.0),
        load_average_1m()
    );
}

/// Starts one server under callgrind.
type Starter<'a> = Box<dyn Fn() -> Server + 'a>;

/// Instructions each server executes per answer, all threads, under
/// `valgrind --tool=callgrind` (which the load of the machine does not
/// change): the difference between a run of `requests` answers and one of
/// a fifth as many, so that start-up and shutdown do not count.
fn instructions(
    bin: &Path,
    load: &Load,
    rules: &Path,
    contexts: &Path,
    context: &Path,
    requests: u64,
) {
    let valgrind = || {
        let mut command = Command::new("valgrind");
        command.args(["--tool=callgrind", "--callgrind-out-file=/dev/null"]);
        command
    };
    let count = |server: Server, requests: u64| -> u64 {
        let run = load.run(&server, requests, None);
        assert!(
            run.errors == 0 && run.unfinished == 0 && run.requests == requests,
            "{} under callgrind: {run:?}",
            server.label
        );
        let label = server.label.clone();
        let said = server.stop();
        said.lines()
            .find_map(|line| line.split("Collected :").nth(1))
            .and_then(|count| count.trim().parse().ok())
            .unwrap_or_else(|| panic!("no instruction count from callgrind for {label}:\n{said}"))
    };
    let small = (requests / 5).max(1);
    let mut lineup: Vec<(&str, Starter)> = vec![
        (
            "http_peer",
            Box::new(|| {
                let mut command = valgrind();
                let port = TcpListener::bind("127.0.0.1:0")
                    .and_then(|listener| listener.local_addr())
                    .expect("a free loopback port")
                    .port();
                command
                    .arg(bin.join("http_peer"))
                    .arg("--context")
                    .arg(context)
                    .arg("--listen")
                    .arg(format!("127.0.0.1:{port}"));
                Server::start("http_peer".into(), command, Vec::new())
            }),
        ),
        (
            "serve",
            Box::new(|| {
                let mut command = valgrind();
                command.arg(CALLASSIGN);
                Server::serve_with(command, "serve", rules, contexts, &[])
            }),
        ),
    ];
    if let Some(baseline) = std::env::var_os("CALLASSIGN_BENCH_BASELINE") {
        lineup.push((
            "serve (baseline build)",
            Box::new(move || {
                let mut command = valgrind();
                command.arg(&baseline);
                Server::serve_with(command, "serve (baseline build)", rules, contexts, &[])
            }),
        ));
    }
    println!(
        "\n## Instructions per answer under callgrind: all threads, {requests} answers minus {small}, \
         {} keep-alive connections\n",
        load.connections
    );
    println!("| server | instructions per answer | vs peer |");
    println!("|---|---|---|");
    let mut peer = None;
    for (label, start) in &lineup {
        let large = count(start(), requests);
        let small_count = count(start(), small);
        let per_answer = (large as f64 - small_count as f64) / (requests - small) as f64;
        let base = *peer.get_or_insert(per_answer);
        println!("| {label} | {per_answer:.0} | {:.3}× |", per_answer / base);
    }
}

fn has_valgrind() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// GETs `/readyz` until it answers 200 (a new connection each time).
fn wait_ready(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut tcp) = TcpStream::connect(addr) {
            let _ = tcp
                .write_all(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            let mut answer = Vec::new();
            let _ = tcp.read_to_end(&mut answer);
            if answer.starts_with(b"HTTP/1.1 200") {
                return;
            }
        }
        assert!(Instant::now() < deadline, "{addr} never became ready");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// POSTs the file as one NDJSON body (sent from a thread while the answer
/// is read), writes the answer's body into `sink`; returns the time from
/// connecting to the answer's last byte.
fn post_stream(addr: SocketAddr, file: &Path, sink: &mut dyn Write) -> Duration {
    let start = Instant::now();
    let tcp = TcpStream::connect(addr).expect("connect to serve");
    tcp.set_nodelay(true).ok();
    let mut sender = tcp.try_clone().unwrap();
    let file = file.to_path_buf();
    let sending = std::thread::spawn(move || {
        let length = fs::metadata(&file).unwrap().len();
        write!(
            sender,
            "POST /v1/rulesets/{RULESET}/assign HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Content-Type: application/x-ndjson\r\nContent-Length: {length}\r\n\
             Connection: close\r\n\r\n"
        )
        .unwrap();
        std::io::copy(&mut fs::File::open(&file).unwrap(), &mut sender).unwrap();
    });
    let mut reader = BufReader::with_capacity(1 << 16, tcp);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(
        line.starts_with("HTTP/1.1 200"),
        "the stream was answered {line}"
    );
    let mut chunked = false;
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
    }
    assert!(chunked, "the stream's answer is chunked");
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let size = usize::from_str_radix(line.trim().split(';').next().unwrap(), 16)
            .unwrap_or_else(|_| panic!("a chunk size, not {line:?}"));
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
            }
            break;
        }
        let mut left = size;
        while left > 0 {
            let buffer = reader.fill_buf().unwrap();
            assert!(!buffer.is_empty(), "the answer ended inside a chunk");
            let take = buffer.len().min(left);
            sink.write_all(&buffer[..take]).unwrap();
            reader.consume(take);
            left -= take;
        }
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf).unwrap();
    }
    let wall = start.elapsed();
    sending.join().unwrap();
    wall
}

/// A server started for the benchmark; stopped (SIGTERM) when dropped.
struct Server {
    label: String,
    child: Child,
    addr: SocketAddr,
    /// Sent with every request (the token), for the server that asks.
    headers: Vec<String>,
    /// Reads its stderr; ends with what it said after `listening on`.
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Server {
    fn peer(bin: &Path, context: &Path) -> Server {
        // The peer takes a fixed address: take a free port, let it go.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let mut command = Command::new(bin.join("http_peer"));
        command
            .arg("--context")
            .arg(context)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"));
        Server::start("http_peer".into(), command, Vec::new())
    }

    fn serve(label: &str, rules: &Path, contexts: &Path, extra: &[&std::ffi::OsStr]) -> Server {
        Server::serve_with(Command::new(CALLASSIGN), label, rules, contexts, extra)
    }

    /// `serve` run by `command` (the binary, or valgrind in front of it).
    fn serve_with(
        mut command: Command,
        label: &str,
        rules: &Path,
        contexts: &Path,
        extra: &[&std::ffi::OsStr],
    ) -> Server {
        command
            .arg("serve")
            .arg("--rules")
            .arg(rules)
            .arg("--contexts")
            .arg(contexts)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra);
        let headers = if extra.iter().any(|arg| *arg == "--token-file") {
            vec![format!("Authorization: Bearer {TOKEN}")]
        } else {
            Vec::new()
        };
        Server::start(label.to_string(), command, headers)
    }

    /// Spawns the server and waits for its `listening on` line; the rest
    /// of its stderr is kept for [`Server::stop`].
    fn start(label: String, mut command: Command, headers: Vec<String>) -> Server {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("start {label}: {error}"));
        let stderr = child.stderr.take().unwrap();
        let (found, address) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut said = String::new();
            let mut found = Some(found);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(sender) = &found {
                    if let Some((_, rest)) = line.split_once("listening on ") {
                        let rest = rest.trim().trim_start_matches("http://");
                        if let Ok(addr) = rest.parse::<SocketAddr>() {
                            let _ = sender.send(Ok(addr));
                            found = None;
                            said.clear();
                            continue;
                        }
                    }
                }
                // Bounded: a server that logs a lot must not grow the
                // benchmark (its peak would count in its children's).
                if said.len() < 64 * 1024 {
                    said.push_str(&line);
                    said.push('\n');
                }
            }
            if let Some(sender) = found {
                let _ = sender.send(Err(said.clone()));
            }
            said
        });
        match address.recv_timeout(Duration::from_secs(120)) {
            Ok(Ok(addr)) => Server {
                label,
                child,
                addr,
                headers,
                stderr: Some(reader),
            },
            Ok(Err(said)) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{label} stopped before listening:\n{said}")
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{label} did not say where it listens within 120 s")
            }
        }
    }

    /// User + system CPU time of the whole process (every thread).
    fn cpu(&self) -> Duration {
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // After the command name in parentheses: state is field 3, utime
        // field 14 and stime field 15.
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // SAFETY: sysconf only reads a constant.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Duration::from_secs_f64(ticks as f64 / per_second as f64)
    }

    /// Peak resident memory so far, KiB (`VmHWM`).
    fn peak_kib(&self) -> u64 {
        let status = fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Server {
    /// Stops the server (SIGTERM: it finishes what is in flight and
    /// exits); returns what it said on stderr after `listening on`.
    fn stop(mut self) -> String {
        self.terminate();
        self.stderr
            .take()
            .and_then(|reader| reader.join().ok())
            .unwrap_or_default()
    }

    fn terminate(&mut self) {
        // SAFETY: our own child, not yet waited for.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

/// The peers' `loadgen`, set up once.
struct Load {
    loadgen: PathBuf,
    bodies: PathBuf,
    connections: u64,
}

/// What `loadgen` prints.
#[derive(Debug)]
#[allow(dead_code)] // printed when a run goes wrong
struct LoadRun {
    requests: u64,
    errors: u64,
    mismatches: Option<u64>,
    unfinished: u64,
    throughput_rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    elapsed_s: f64,
}

impl Load {
    fn run(&self, server: &Server, requests: u64, expect: Option<&Path>) -> LoadRun {
        let mut command = Command::new(&self.loadgen);
        command
            .arg("--url")
            .arg(format!(
                "http://{}/v1/rulesets/{RULESET}/assign",
                server.addr
            ))
            .arg("--bodies")
            .arg(&self.bodies)
            .args(["--connections", &self.connections.to_string()])
            .args(["--requests", &requests.to_string()]);
        for header in &server.headers {
            command.args(["--header", header]);
        }
        if let Some(expect) = expect {
            command.arg("--expect-json").arg(expect);
        }
        let output = command
            .stderr(Stdio::inherit())
            .output()
            .expect("run loadgen");
        assert!(output.status.success(), "loadgen failed: {}", output.status);
        let json: serde_json::Value =
            serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
                panic!(
                    "loadgen's answer is not JSON ({error}): {}",
                    String::from_utf8_lossy(&output.stdout)
                )
            });
        let number = |key: &str| json[key].as_f64().unwrap_or(0.0);
        LoadRun {
            requests: number("requests") as u64,
            errors: number("errors") as u64,
            mismatches: json["mismatches"].as_u64(),
            unfinished: number("unfinished") as u64,
            throughput_rps: number("throughput_rps"),
            p50_ms: number("p50_ms"),
            p99_ms: number("p99_ms"),
            elapsed_s: number("elapsed_s"),
        }
    }
}

fn met(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**not met**"
    }
}

fn median_of(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .filter(|&value| value > 0)
        .unwrap_or(default)
}

/// `/proc/loadavg`'s three averages.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

fn load_average_1m() -> f64 {
    load_average()
        .split_whitespace()
        .next()
        .and_then(|load| load.parse().ok())
        .unwrap_or(f64::NAN)
}

fn today() -> String {
    Command::new("date")
        .arg("+%Y-%m-%d %H:%M %Z")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .unwrap_or_default()
}

/// `../shared/peers` beside the repository (as CI lays it out), else the
/// machine's shared folder.
fn peers_folder(root: &Path) -> Option<PathBuf> {
    let top = Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
        .unwrap_or_else(|| root.to_path_buf());
    [
        top.join("../shared/peers"),
        PathBuf::from("/work/shared/peers"),
    ]
    .into_iter()
    .find(|folder| folder.join("Cargo.toml").is_file())
}

/// Builds the peers as their README says, outside their (read-only)
/// folder; returns where the binaries are.
fn build_peers(root: &Path, peers: &Path) -> PathBuf {
    let target = root.join("target/peers");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(peers.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .status()
        .expect("run cargo to build the peers");
    assert!(status.success(), "building the peers failed: {status}");
    target.join("release")
}

fn same_bytes(a: &Path, b: &Path) -> bool {
    let (mut a, mut b) = (
        BufReader::new(fs::File::open(a).unwrap()),
        BufReader::new(fs::File::open(b).unwrap()),
    );
    let (mut block_a, mut block_b) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let read = a.read(&mut block_a).unwrap();
        if read == 0 {
            return b.read(&mut block_b[..1]).unwrap() == 0;
        }
        if b.read_exact(&mut block_b[..read]).is_err() || block_a[..read] != block_b[..read] {
            return false;
        }
    }
}
