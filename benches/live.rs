//! The live loop's speed: events accepted per second by `callassign serve
//! --store sqlite:…` while its workers fetch from a fake CloudTalk and
//! deliver to a fake target (the fakes of `tests/it/live/fakes.rs`, in
//! this process), and how long the whole backlog takes to be delivered.
//!
//! The load comes from `loadgen` of `../shared/peers` (built into
//! `target/peers` as its README says): C keep-alive connections, each
//! event a new call. It times processes: it is not a test.
//!
//! Knobs (environment): `CALLASSIGN_BENCH_EVENTS` (20000),
//! `CALLASSIGN_BENCH_CONNECTIONS` (32), `CALLASSIGN_BENCH_STORE` (a store
//! URL instead of a fresh SQLite file, e.g. a PostgreSQL database).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "../tests/it/live/fakes.rs"]
mod fakes;

const CALLASSIGN: &str = env!("CARGO_BIN_EXE_callassign");

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(peers) = peers_folder(root) else {
        println!("note: no `../shared/peers` (nor /work/shared/peers): loadgen is missing, the live bench is skipped");
        return;
    };
    let events = setting("CALLASSIGN_BENCH_EVENTS", 20_000);
    let connections = setting("CALLASSIGN_BENCH_CONNECTIONS", 32);
    let loadgen = build_loadgen(root, &peers);

    let work = tempfile::tempdir().unwrap();
    let folder = work.path();
    copy_served_folder(root, folder);
    let cloudtalk = fakes::FakeCloudTalk::start();
    let target = fakes::FakeTarget::start();
    let bodies = folder.join("events.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&bodies).unwrap());
    for n in 0..events {
        cloudtalk.add(&fakes::call_id(n), fakes::records(n));
        file.write_all(&fakes::event(n)).unwrap();
        file.write_all(b"\n").unwrap();
    }
    file.flush().unwrap();
    drop(file);

    let store = std::env::var("CALLASSIGN_BENCH_STORE")
        .unwrap_or_else(|_| format!("sqlite:{}", folder.join("live.db").display()));
    let mut server = Command::new(CALLASSIGN)
        .args([
            "serve",
            "--rules",
            "rules",
            "--contexts",
            "contexts",
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--store", &store, "--cloudtalk-api", &cloudtalk.api()])
        .args([
            "--cloudtalk-analytics",
            &cloudtalk.analytics(),
            "--deliver",
            &target.url(),
        ])
        .env("CLOUDTALK_API_KEY_ID", fakes::KEY_ID)
        .env("CLOUDTALK_API_KEY_SECRET", fakes::KEY_SECRET)
        .current_dir(folder)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let server = Killed(server);
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "serve exited");
        if let Some(addr) = line.trim().strip_prefix("listening on http://") {
            break addr.to_string();
        }
    };
    // Drain the log so the server never blocks on it.
    std::thread::spawn(move || {
        let mut sink = String::new();
        while stderr.read_line(&mut sink).unwrap_or(0) > 0 {
            sink.clear();
        }
    });

    println!("machine: {}", machine());
    println!(
        "store: {}, {events} events over {connections} connections",
        if store.starts_with("sqlite:") {
            "SQLite (a fresh file)"
        } else {
            "given"
        }
    );
    let cpu_at_start = cpu_seconds(server.id());
    let started = Instant::now();
    let output = Command::new(loadgen.join("loadgen"))
        .args([
            "--url",
            &format!("http://{addr}/v1/cloudtalk/hubspot/events"),
        ])
        .arg("--bodies")
        .arg(&bodies)
        .args([
            "--connections",
            &connections.to_string(),
            "--requests",
            &events.to_string(),
        ])
        .args(["--max-seconds", "60"])
        .output()
        .unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!(
                "loadgen: {error}: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    println!("accepting: {report}");
    let accepted_rps = report["throughput_rps"].as_f64().unwrap_or(0.0);
    let rss_after_burst = rss_kib(server.id());
    let cpu_burst = cpu_seconds(server.id()) - cpu_at_start;
    let delivered_by = Instant::now() + Duration::from_secs(600);
    while (target.accepted().len() as u64) < events && Instant::now() < delivered_by {
        std::thread::sleep(Duration::from_millis(100));
    }
    let all = started.elapsed();
    let delivered = target.accepted().len() as u64;
    println!(
        "events accepted: {accepted_rps:.0}/s (errors {}); all {delivered} decisions delivered {:.1} s after the first event ({:.0}/s end to end); server RSS after the burst {} MiB",
        report["errors"],
        all.as_secs_f64(),
        delivered as f64 / all.as_secs_f64(),
        rss_after_burst / 1024
    );
    let cpu_all = cpu_seconds(server.id()) - cpu_at_start;
    println!(
        "server CPU: {:.0} µs per event during the burst, {:.0} µs per event from event to delivery (on a quiet machine with 2 cores: about {:.0} events/s end to end)",
        cpu_burst * 1e6 / events as f64,
        cpu_all * 1e6 / delivered.max(1) as f64,
        2.0 * delivered as f64 / cpu_all.max(1e-9)
    );
}

/// A child process killed when dropped, even when the bench panics.
struct Killed(std::process::Child);

impl Killed {
    fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// User and system CPU time of a process, all threads, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|index| {
            fields
                .get(*index)
                .and_then(|field| field.parse::<f64>().ok())
        })
        .sum();
    // SAFETY: sysconf only reads a constant of the system.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks / per_second
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|model| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{model}, {cores} cores, {}", std::env::consts::ARCH)
}

/// `rules/` and `contexts/hubspot.yaml` (the CloudTalk example context).
fn copy_served_folder(root: &Path, folder: &Path) {
    let (rules, contexts) = (folder.join("rules"), folder.join("contexts"));
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::create_dir_all(&contexts).unwrap();
    for entry in std::fs::read_dir(root.join("rules")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "rules") {
            std::fs::copy(&path, rules.join(path.file_name().unwrap())).unwrap();
        }
    }
    let examples = root.join("examples/cloudtalk");
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
}

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
    .find(|folder| folder.join("loadgen/Cargo.toml").is_file())
}

fn build_loadgen(root: &Path, peers: &Path) -> PathBuf {
    let target = root.join("target/peers");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "loadgen",
            "--manifest-path",
        ])
        .arg(peers.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .status()
        .expect("run cargo to build loadgen");
    assert!(status.success(), "building loadgen failed: {status}");
    target.join("release")
}
