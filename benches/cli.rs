//! Whole-process figures for the CLI, printed as a table (no criterion: these
//! are single runs of real processes, best of a few).
//!
//! `cargo bench --bench cli` — or `CALLASSIGN_BENCH_CALLS=100000 cargo bench --bench cli`
//! for a quicker run. It measures:
//!
//! 1. `callassign eval` on a batch of JSON lines (default 1,000,000) against
//!    a hand-written program that reads the same lines with plain serde_json
//!    and applies the same steps (this binary, run as `baseline-eval`):
//!    calls/s, MB/s, peak memory; with `--jobs 1` and `--jobs <cores>`;
//! 2. peak memory of `eval` on a batch 100 times smaller (it must not grow
//!    with the batch);
//! 3. `check` on 1,000 generated rule files with `extends` chains;
//! 4. one `eval` of a single call, process start to answer.
//!
//! The bench binary also writes the corpus for profiling by hand:
//! `target/release/deps/cli-HASH generate 200000 calls.jsonl context.yaml`.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[path = "common/corpus.rs"]
mod corpus;
#[path = "common/process.rs"]
mod process;

use process::{machine, measure, write_corpus, write_rule_files, Run};

const CALLASSIGN: &str = env!("CARGO_BIN_EXE_callassign");
const RUNS: usize = 3;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("baseline-eval") => {
            baseline_eval(Path::new(&args[2])).expect("baseline run");
            return;
        }
        // For profiling by hand: `cli generate COUNT CALLS.jsonl CONTEXT.yaml`.
        Some("generate") => {
            write_corpus(Path::new(&args[3]), args[2].parse().expect("a count"));
            fs::write(&args[4], corpus::context_yaml()).expect("write the context");
            return;
        }
        _ => {}
    }
    let calls: u64 = std::env::var("CALLASSIGN_BENCH_CALLS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temporary folder");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));

    println!("machine: {}", machine());
    let context = dir.path().join("context.yaml");
    fs::write(&context, corpus::context_yaml()).unwrap();
    let rules = root.join("rules/default.rules");

    // 1. The batch, against the baseline.
    let batch = dir.path().join("calls.jsonl");
    let bytes = write_corpus(&batch, calls);
    println!(
        "\nbatch: {calls} calls, {:.1} MB (seed 42)",
        bytes as f64 / 1e6
    );
    verify_same_output(dir.path(), &rules, &context, &batch);

    let baseline_exe = std::env::current_exe().unwrap();
    let baseline = best_of(RUNS, || {
        measure(Command::new(&baseline_exe).arg("baseline-eval").arg(&batch))
    });
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut rows = vec![("hand-written serde_json baseline".to_string(), baseline)];
    for jobs in [1, cores]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
    {
        let run = best_of(RUNS, || {
            measure(eval_command(&rules, &context, &batch).args(["--jobs", &jobs.to_string()]))
        });
        rows.push((format!("callassign eval --jobs {jobs}"), run));
    }
    println!(
        "\n{:<34} {:>9} {:>12} {:>9} {:>10} {:>9}",
        "program", "time s", "calls/s", "MB/s", "peak MB", "vs base"
    );
    for (name, run) in &rows {
        let seconds = run.wall.as_secs_f64();
        println!(
            "{name:<34} {seconds:>9.3} {:>12.0} {:>9.1} {:>10.1} {:>8.2}x",
            calls as f64 / seconds,
            bytes as f64 / 1e6 / seconds,
            run.peak_kib as f64 / 1024.0,
            seconds / baseline.wall.as_secs_f64()
        );
    }

    // 2. Peak memory does not depend on the batch size.
    let small = dir.path().join("small.jsonl");
    write_corpus(&small, (calls / 100).max(1));
    let small_run = measure(&mut eval_command(&rules, &context, &small));
    println!(
        "\npeak memory: {:.1} MB for {} calls, {:.1} MB for {calls} calls (--jobs 1)",
        small_run.peak_kib as f64 / 1024.0,
        (calls / 100).max(1),
        rows[1].1.peak_kib as f64 / 1024.0
    );
    fs::remove_file(&batch).ok();

    // 3. `check` on 1,000 rule files.
    let rule_dir = dir.path().join("rules");
    let deepest = write_rule_files(&rule_dir, &root.join("rules/default.rules"), 1000);
    let check = best_of(RUNS, || {
        let mut command = Command::new(CALLASSIGN);
        command.arg("check").arg("--deny-warnings").arg(&rule_dir);
        measure(&mut command)
    });
    println!(
        "\ncheck: 1001 rule files (extends chains up to {deepest} files): {:.3} s, peak {:.1} MB",
        check.wall.as_secs_f64(),
        check.peak_kib as f64 / 1024.0
    );

    // 4. One call, process start to answer.
    let mut times: Vec<Duration> = (0..200)
        .map(|_| {
            let mut command = Command::new(CALLASSIGN);
            command
                .arg("eval")
                .arg("--rules")
                .arg(root.join("rules/default.rules"))
                .arg("--context")
                .arg(root.join("examples/hubspot.context.yaml"))
                .arg(root.join("examples/call.json"));
            measure(&mut command).wall
        })
        .collect();
    times.sort();
    let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
    println!(
        "\nsingle call (200 runs): median {:.2} ms, p95 {:.2} ms, min {:.2} ms",
        ms(times[times.len() / 2]),
        ms(times[times.len() * 95 / 100]),
        ms(times[0])
    );
}

fn eval_command(rules: &Path, context: &Path, batch: &Path) -> Command {
    let mut command = Command::new(CALLASSIGN);
    command
        .arg("eval")
        .arg("--quiet")
        .arg("--rules")
        .arg(rules)
        .arg("--context")
        .arg(context)
        .arg(batch);
    command
}

/// The comparison only means something if both programs decide the same.
fn verify_same_output(dir: &Path, rules: &Path, context: &Path, batch: &Path) {
    let ours = dir.join("ours.jsonl");
    let theirs = dir.join("theirs.jsonl");
    let status = eval_command(rules, context, batch)
        .stdout(File::create(&ours).unwrap())
        .status()
        .unwrap();
    assert!(status.success(), "callassign eval failed: {status}");
    let status = Command::new(std::env::current_exe().unwrap())
        .arg("baseline-eval")
        .arg(batch)
        .stdout(File::create(&theirs).unwrap())
        .status()
        .unwrap();
    assert!(status.success(), "baseline failed: {status}");
    let (a, b) = (
        BufReader::new(File::open(&ours).unwrap()),
        BufReader::new(File::open(&theirs).unwrap()),
    );
    for (number, (a, b)) in a.lines().zip(b.lines()).enumerate() {
        assert_eq!(a.unwrap(), b.unwrap(), "output line {}", number + 1);
    }
    assert_eq!(
        fs::metadata(&ours).unwrap().len(),
        fs::metadata(&theirs).unwrap().len()
    );
    println!("outputs of callassign and the baseline are identical");
    fs::remove_file(ours).ok();
    fs::remove_file(theirs).ok();
}

fn best_of(runs: usize, mut run: impl FnMut() -> Run) -> Run {
    let results: Vec<Run> = (0..runs).map(|_| run()).collect();
    Run {
        wall: results.iter().map(|run| run.wall).min().unwrap(),
        cpu: results.iter().map(|run| run.cpu).min().unwrap(),
        peak_kib: results.iter().map(|run| run.peak_kib).max().unwrap(),
    }
}

/// The hand-written program: plain serde_json over each line, the same
/// steps, the same output bytes.
fn baseline_eval(batch: &Path) -> io::Result<()> {
    let baseline = corpus::baseline();
    let mut input = BufReader::with_capacity(256 * 1024, File::open(batch)?);
    let stdout = io::stdout();
    let mut output = BufWriter::with_capacity(64 * 1024, stdout.lock());
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let call: corpus::PlainCall<'_> =
            serde_json::from_slice(&line).map_err(io::Error::other)?;
        baseline.write_line(&call, &mut output)?;
    }
    output.flush()
}
