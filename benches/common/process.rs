//! Running whole processes for the benchmarks: wall time and peak memory,
//! the machine's description, and the corpus written to a file.
//!
//! Shared by `benches/cli.rs` and `benches/peers.rs` through `#[path]`.

#![allow(dead_code)] // each bench uses its own part of this module

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::corpus;

#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub wall: Duration,
    /// User and system CPU time of the process, all threads.
    pub cpu: Duration,
    /// Peak resident memory of the process, KiB. The kernel counts the
    /// benchmark's own peak in it too (the child starts as a copy of it), so
    /// a benchmark must stay small itself for this figure to mean anything.
    pub peak_kib: i64,
}

/// Runs a command with its output discarded; wall time and peak memory
/// (from the kernel's accounting of the child, `wait4`).
// The child is waited for with `wait4`, which std does not offer.
#[allow(clippy::zombie_processes)]
pub fn measure(command: &mut Command) -> Run {
    let start = Instant::now();
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the program");
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it in for our child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `child.id()` is our own child, not yet waited for.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(pid, child.id() as libc::pid_t, "wait4 failed");
    let exited_ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    assert!(exited_ok, "{command:?} failed with status {status}");
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Run {
        wall,
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        peak_kib: usage.ru_maxrss,
    }
}

/// The CPU model, the cores this process may use, the architecture.
pub fn machine() -> String {
    let model = fs::read_to_string("/proc/cpuinfo")
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

/// The first `calls` calls of the seeded corpus (seed 42) as a JSON Lines
/// file; returns its size in bytes.
pub fn write_corpus(path: &Path, calls: u64) -> u64 {
    let mut file = BufWriter::new(File::create(path).unwrap());
    let mut rng = corpus::Rng::new(42);
    let mut line = String::new();
    let mut bytes = 0;
    for index in 0..calls {
        line.clear();
        corpus::call_line(&mut rng, index, &mut line);
        line.push('\n');
        bytes += line.len() as u64;
        file.write_all(line.as_bytes()).unwrap();
    }
    file.flush().unwrap();
    bytes
}

/// `count` rule files in `dir`: `default.rules`, then files each extending
/// the default or an earlier file, so chains grow up to 12 files deep. Each
/// adds a fixed-user step with a condition and moves it, and some replace
/// the fallback. Returns the longest chain.
pub fn write_rule_files(dir: &Path, default: &Path, count: usize) -> usize {
    fs::create_dir_all(dir).unwrap();
    fs::copy(default, dir.join("default.rules")).unwrap();
    let mut rng = corpus::Rng::new(7);
    let mut depth = vec![];
    let mut deepest = 1;
    for index in 0..count {
        let (parent, parent_depth) = if index == 0 || rng.chance(20) {
            ("default".to_string(), 1)
        } else {
            let candidate = rng.below(index as u64) as usize;
            if depth[candidate] < 12 {
                (format!("r{candidate:04}"), depth[candidate])
            } else {
                ("default".to_string(), 1)
            }
        };
        depth.push(parent_depth + 1);
        deepest = deepest.max(parent_depth + 1);
        let mut text = format!(
            "# generated for the check benchmark\nruleset r{index:04} extends {parent}\n\n\
             step user \"ops{index}@acme.com\" when \"vip\" in tags and duration > {} or (direction == outgoing and not status == answered)\n\
             move user \"ops{index}@acme.com\" {}\n",
            rng.below(600),
            if rng.chance(50) { "first" } else { "before favorite_agent" }
        );
        if rng.chance(30) {
            text.push_str("fallback unassigned\n");
        }
        fs::write(dir.join(format!("r{index:04}.rules")), text).unwrap();
    }
    deepest
}
