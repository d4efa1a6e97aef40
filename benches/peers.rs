//! `callassign eval` side by side with the two peer programs of
//! `../shared/peers` (a hand-written program, the practical limit, and the
//! same rules in an off-the-shelf JSONLogic engine), on one generated corpus.
//!
//! `cargo bench --bench peers` builds the peers into `target/peers`, writes
//! the corpus (200,000 calls from the seeded generator of
//! `common/corpus.rs`), checks that every program writes the same bytes, then
//! prints the ratio table of issue 13: wall-clock medians of interleaved runs
//! (the machine is shared, so only ratios from one run mean anything) and
//! instructions per call under `valgrind --tool=callgrind` (which the load
//! does not change). Then how cost grows with the batch and the plan, and
//! `check` of a 50,000-step file. It times processes: it is not a test.
//!
//! Knobs (environment): `CALLASSIGN_BENCH_CALLS` (200000),
//! `CALLASSIGN_BENCH_RUNS` (7 interleaved rounds), `CALLASSIGN_BENCH_CALLGRIND_CALLS`
//! (20000; 0 skips callgrind), `CALLASSIGN_BENCH_SIZES` (10000,100000,1000000).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[path = "common/corpus.rs"]
mod corpus;
#[path = "common/process.rs"]
mod process;

use process::{machine, measure, write_corpus, write_rule_files, Run};

const CALLASSIGN: &str = env!("CARGO_BIN_EXE_callassign");

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(peers) = peers_folder(root) else {
        // Loud, and not a success: a run that measured nothing must not
        // pass for one that measured (issue 21).
        eprintln!(
            "\n\
             ==================================================================\n\
             NOTHING MEASURED: the peer programs are not there.\n\
             `cargo bench --bench peers` compares callassign with two programs\n\
             kept outside this repository, in `../shared/peers` beside it (or\n\
             /work/shared/peers). Neither folder exists, so no figure of\n\
             BENCHMARKS.md's peers table was produced. The in-repository\n\
             benchmarks (`cargo bench --bench evaluate`, `--bench cli`) need\n\
             no peers. Set CALLASSIGN_BENCH_PEERS_OPTIONAL=1 to exit 0 anyway.\n\
             =================================================================="
        );
        let optional = std::env::var_os("CALLASSIGN_BENCH_PEERS_OPTIONAL").is_some();
        std::process::exit(if optional { 0 } else { 2 });
    };
    let calls = setting("CALLASSIGN_BENCH_CALLS", 200_000);
    let runs = setting("CALLASSIGN_BENCH_RUNS", 7) as usize;
    let callgrind_calls = setting("CALLASSIGN_BENCH_CALLGRIND_CALLS", 20_000);
    let sizes: Vec<u64> = std::env::var("CALLASSIGN_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,100000,1000000".to_string())
        .split(',')
        .filter_map(|size| size.trim().parse().ok())
        .collect();

    let bin = build_peers(root, &peers, false);
    let bin_lto = build_peers(root, &peers, true);
    let work = root.join("target/peers-bench");
    fs::create_dir_all(&work).unwrap();
    let context = work.join("context.yaml");
    fs::write(&context, corpus::context_yaml()).unwrap();
    let rules = root.join("rules/default.rules");
    let batch = work.join("calls.jsonl");
    let bytes = write_corpus(&batch, calls);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    println!("machine: {}", machine());
    println!("date: {}", today());
    println!(
        "corpus: {calls} calls, {:.1} MB, seed 42 ({})",
        bytes as f64 / 1e6,
        batch.display()
    );

    let programs = Programs {
        bin,
        bin_lto,
        rules: rules.clone(),
        context: context.clone(),
    };
    let lineup = [
        Program::Handwritten,
        Program::JsonLogic,
        Program::Eval { jobs: Some(1) },
        Program::Eval { jobs: Some(2) },
        Program::Eval { jobs: None },
        Program::Explain { jobs: 1 },
        Program::Explain { jobs: 2 },
        // Last, so the indices above stay put.
        Program::HandwrittenLto,
    ];
    same_output(&programs, &lineup, &batch, &work);

    // Interleaved: one run of each program per round, so a burst of load
    // from elsewhere falls on all of them alike.
    let mut times: Vec<Vec<Run>> = vec![Vec::new(); lineup.len()];
    for _ in 0..runs {
        for (program, runs) in lineup.iter().zip(&mut times) {
            runs.push(measure(&mut programs.command(*program, &batch)));
        }
    }
    let medians: Vec<f64> = times.iter().map(|runs| median(runs)).collect();
    let cpu: Vec<f64> = times
        .iter()
        .map(|runs| {
            let mut seconds: Vec<f64> = runs.iter().map(|run| run.cpu.as_secs_f64()).collect();
            seconds.sort_by(f64::total_cmp);
            seconds[seconds.len() / 2]
        })
        .collect();
    let peaks: Vec<f64> = times
        .iter()
        .map(|runs| runs.iter().map(|run| run.peak_kib).max().unwrap() as f64 / 1024.0)
        .collect();

    let instructions = if callgrind_calls > 0 && has_valgrind() {
        // Per call, without start-up: the difference between two batch
        // sizes, divided by the difference in calls.
        let large = callgrind_calls.min(calls);
        let small = large / 10;
        let large_file = work.join("callgrind.jsonl");
        let small_file = work.join("callgrind-small.jsonl");
        write_corpus(&large_file, large);
        write_corpus(&small_file, small);
        let counts: Vec<f64> = lineup
            .iter()
            .map(|program| {
                let in_large = instructions(&programs.command(*program, &large_file));
                let in_small = instructions(&programs.command(*program, &small_file));
                (in_large as f64 - in_small as f64) / (large - small) as f64
            })
            .collect();
        fs::remove_file(large_file).ok();
        fs::remove_file(small_file).ok();
        Some(counts)
    } else {
        println!("note: valgrind is not installed (or CALLASSIGN_BENCH_CALLGRIND_CALLS=0): no instruction counts");
        None
    };

    let hand = medians[0];
    let plain = medians[2];
    println!(
        "\n{runs} interleaved runs each; ratios of medians; CPU: user + system time, all threads; \
         instructions per call under callgrind, all threads, start-up excluded \
         ({} calls minus {})\n",
        callgrind_calls.min(calls),
        callgrind_calls.min(calls) / 10
    );
    println!(
        "| program | median s | vs handwritten | CPU s | instr./call | vs handwritten | peak MB | target | met |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (index, program) in lineup.iter().enumerate() {
        let (target, met) = match program {
            Program::Handwritten => ("the limit".to_string(), String::new()),
            Program::HandwrittenLto => ("for comparison".to_string(), String::new()),
            Program::JsonLogic => ("—".to_string(), String::new()),
            Program::Eval { jobs: Some(1) } => (
                "≤ 1.15× handwritten, < jsonlogic_peer".to_string(),
                yes(plain <= 1.15 * hand && plain < medians[1]),
            ),
            Program::Eval { jobs: Some(_) } => (
                "≤ 0.6× handwritten, peak ≤ 30 MB".to_string(),
                yes(medians[index] <= 0.6 * hand && peaks[index] <= 30.0),
            ),
            Program::Eval { jobs: None } => (
                format!("default `--jobs` ({cores} cores here), peak ≤ 30 MB"),
                yes(peaks[index] <= 30.0),
            ),
            Program::Explain { jobs: 1 } => (
                "≤ 2× plain `eval`".to_string(),
                yes(medians[index] <= 2.0 * plain),
            ),
            Program::Explain { .. } => ("—".to_string(), String::new()),
        };
        let (per_call, vs) = match &instructions {
            Some(counts) => (
                format!("{:.0}", counts[index]),
                format!("{:.2}×", counts[index] / counts[0]),
            ),
            None => ("—".to_string(), "—".to_string()),
        };
        println!(
            "| {} | {:.3} | {:.2}× | {:.3} | {per_call} | {vs} | {:.1} | {target} | {met} |",
            program.label(),
            medians[index],
            medians[index] / hand,
            cpu[index],
            peaks[index],
        );
    }
    println!(
        "\n`--explain` costs {:.2}× plain `eval` (one thread); `--jobs 2` is {:.2}× faster than `--jobs 1`",
        medians[5] / plain,
        plain / medians[3]
    );
    // The peers are built as their README says (cargo's default release
    // profile); callassign's release profile adds fat LTO and one code
    // unit. Built the same way, the hand-written limit moves too.
    let lto = lineup.len() - 1;
    println!(
        "`eval --jobs 1` against handwritten built with callassign's release profile (fat LTO, one code unit): {:.2}× wall{}",
        plain / medians[lto],
        match &instructions {
            Some(counts) => format!(", {:.2}× instructions", counts[2] / counts[lto]),
            None => String::new(),
        }
    );
    cloudtalk_input(&programs, &work, &batch, runs);

    batch_sizes(&programs, &work, &sizes);
    plan_lengths(&programs, &work, calls.min(100_000));
    check_long_file(&work);
    unchanged_targets(root, &work);
    fs::remove_file(&batch).ok();
}

/// The targets that must not get worse: one call from process start, and
/// `check` of 1,000 rule files.
fn unchanged_targets(root: &Path, work: &Path) {
    let mut single: Vec<Run> = (0..50)
        .map(|_| {
            measure(
                Command::new(CALLASSIGN)
                    .arg("eval")
                    .arg("--rules")
                    .arg(root.join("rules/default.rules"))
                    .arg("--context")
                    .arg(root.join("examples/hubspot.context.yaml"))
                    .arg(root.join("examples/call.json")),
            )
        })
        .collect();
    single.sort_by_key(|run| run.wall);
    let single = median(&single) * 1000.0;
    let folder = work.join("rules-1000");
    fs::remove_dir_all(&folder).ok();
    write_rule_files(&folder, &root.join("rules/default.rules"), 1000);
    let runs: Vec<Run> = (0..3)
        .map(|_| measure(Command::new(CALLASSIGN).arg("check").arg(&folder)))
        .collect();
    let check = median(&runs);
    println!(
        "\none call from process start (50 runs): median {single:.2} ms (target ≤ 3 ms: {})",
        if single <= 3.0 { "met" } else { "**not met**" }
    );
    println!(
        "`check` of 1,001 rule files: median {check:.3} s (target ≤ 0.5 s: {})",
        if check <= 0.5 { "met" } else { "**not met**" }
    );
}

fn yes(met: bool) -> String {
    if met { "yes" } else { "**no**" }.to_string()
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
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

/// Builds the peers outside their (read-only) folder; returns where the
/// binaries are.
/// Builds the peers as their README says, or (`lto`) with callassign's
/// own release profile, into a folder of their own.
fn build_peers(root: &Path, peers: &Path, lto: bool) -> PathBuf {
    let target = root.join(if lto {
        "target/peers-lto"
    } else {
        "target/peers"
    });
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(cargo);
    if lto {
        command
            .env("CARGO_PROFILE_RELEASE_LTO", "fat")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1");
    }
    let status = command
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(peers.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .status()
        .expect("run cargo to build the peers");
    assert!(status.success(), "building the peers failed: {status}");
    target.join("release")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Program {
    Handwritten,
    /// `handwritten` built with callassign's release profile.
    HandwrittenLto,
    JsonLogic,
    /// `jobs: None` leaves `--jobs` at its default.
    Eval {
        jobs: Option<usize>,
    },
    Explain {
        jobs: usize,
    },
}

impl Program {
    fn label(self) -> String {
        match self {
            Program::Handwritten => "handwritten".to_string(),
            Program::HandwrittenLto => "handwritten (built with LTO)".to_string(),
            Program::JsonLogic => "jsonlogic_peer".to_string(),
            Program::Eval { jobs: Some(jobs) } => format!("`eval --jobs {jobs}`"),
            Program::Eval { jobs: None } => "`eval` (default `--jobs`)".to_string(),
            Program::Explain { jobs } => format!("`eval --explain --jobs {jobs}`"),
        }
    }
}

struct Programs {
    bin: PathBuf,
    /// The peers built with callassign's release profile.
    bin_lto: PathBuf,
    rules: PathBuf,
    context: PathBuf,
}

impl Programs {
    fn command(&self, program: Program, batch: &Path) -> Command {
        match program {
            Program::Handwritten | Program::HandwrittenLto | Program::JsonLogic => {
                let path = match program {
                    Program::Handwritten => self.bin.join("handwritten"),
                    Program::HandwrittenLto => self.bin_lto.join("handwritten"),
                    _ => self.bin.join("jsonlogic_peer"),
                };
                let mut command = Command::new(path);
                command.arg("--context").arg(&self.context).arg(batch);
                command
            }
            Program::Eval { jobs } => {
                let mut command = self.eval(&self.rules, batch);
                if let Some(jobs) = jobs {
                    command.args(["--jobs", &jobs.to_string()]);
                }
                command
            }
            Program::Explain { jobs } => {
                let mut command = self.eval(&self.rules, batch);
                command.args(["--explain", "--jobs", &jobs.to_string()]);
                command
            }
        }
    }

    fn eval(&self, rules: &Path, batch: &Path) -> Command {
        let mut command = Command::new(CALLASSIGN);
        command
            .args(["eval", "--quiet", "--rules"])
            .arg(rules)
            .arg("--context")
            .arg(&self.context)
            .arg(batch);
        command
    }
}

/// The comparison only means something if the programs decide the same:
/// plain output must be byte-identical across all of them, explained output
/// across every `--jobs`. Outputs go to files and are compared in blocks, so
/// this process stays small (its peak would count in every child's).
fn same_output(programs: &Programs, lineup: &[Program], batch: &Path, work: &Path) {
    let output = |program: Program, name: &str| {
        let path = work.join(name);
        let status = programs
            .command(program, batch)
            .stdout(fs::File::create(&path).unwrap())
            .status()
            .unwrap();
        assert!(status.success(), "{} failed: {status}", program.label());
        path
    };
    let reference = output(Program::Handwritten, "reference.jsonl");
    let mut explained: Option<PathBuf> = None;
    for &program in &lineup[1..] {
        if let Program::Explain { .. } = program {
            match &explained {
                None => explained = Some(output(program, "explained.jsonl")),
                Some(first) => {
                    let path = output(program, "output.jsonl");
                    assert!(
                        same_bytes(first, &path),
                        "{} differs from `--explain --jobs 1`",
                        program.label()
                    );
                }
            }
        } else {
            let path = output(program, "output.jsonl");
            assert!(
                same_bytes(&reference, &path),
                "{} differs from handwritten",
                program.label()
            );
        }
    }
    for name in ["reference.jsonl", "explained.jsonl", "output.jsonl"] {
        fs::remove_file(work.join(name)).ok();
    }
    println!("outputs: byte-identical across handwritten, jsonlogic_peer and every `eval --jobs`; explained output identical across `--jobs`");
}

fn same_bytes(a: &Path, b: &Path) -> bool {
    use std::io::Read;
    let (mut a, mut b) = (
        std::io::BufReader::new(fs::File::open(a).unwrap()),
        std::io::BufReader::new(fs::File::open(b).unwrap()),
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

fn median(runs: &[Run]) -> f64 {
    let mut seconds: Vec<f64> = runs.iter().map(|run| run.wall.as_secs_f64()).collect();
    seconds.sort_by(f64::total_cmp);
    seconds[seconds.len() / 2]
}

fn has_valgrind() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Instructions the whole process executes (every thread), as callgrind
/// counts them.
fn instructions(command: &Command) -> u64 {
    let output = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(command.get_program())
        .args(command.get_args())
        .stdout(Stdio::null())
        .output()
        .expect("run valgrind");
    let log = String::from_utf8_lossy(&output.stderr);
    log.lines()
        .find_map(|line| line.split("Collected :").nth(1))
        .and_then(|count| count.trim().parse().ok())
        .unwrap_or_else(|| panic!("no instruction count from callgrind:\n{log}"))
}

fn today() -> String {
    Command::new("date")
        .arg("+%Y-%m-%d %H:%M %Z")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .unwrap_or_default()
}

/// `--input cloudtalk` against native input, on the same calls written as
/// CloudTalk call-history items.
fn cloudtalk_input(programs: &Programs, work: &Path, batch: &Path, runs: usize) {
    let help = Command::new(CALLASSIGN)
        .args(["eval", "--help"])
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).into_owned())
        .unwrap_or_default();
    if !help.contains("--input") {
        println!(
            "CloudTalk input (≤ 1.3× native): not measured: this build has no `--input cloudtalk`"
        );
        return;
    }
    use std::io::{BufRead, Write};
    let records = work.join("cloudtalk.jsonl");
    let mut out = std::io::BufWriter::new(fs::File::create(&records).unwrap());
    for line in std::io::BufReader::new(fs::File::open(batch).unwrap()).lines() {
        writeln!(out, "{}", corpus::cloudtalk_history_line(&line.unwrap())).unwrap();
    }
    out.flush().unwrap();
    drop(out);
    let native = || measure(programs.eval(&programs.rules, batch).args(["--jobs", "1"]));
    let cloudtalk = || {
        measure(programs.eval(&programs.rules, &records).args([
            "--jobs",
            "1",
            "--input",
            "cloudtalk",
        ]))
    };
    let (mut native_runs, mut cloudtalk_runs) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        native_runs.push(native());
        cloudtalk_runs.push(cloudtalk());
    }
    let ratio = median(&cloudtalk_runs) / median(&native_runs);
    println!(
        "CloudTalk input (the same calls as call-history items, {:.1} MB): median {:.3} s against {:.3} s native, {ratio:.2}× (target ≤ 1.3×: {})",
        fs::metadata(&records).map_or(0, |meta| meta.len()) as f64 / 1e6,
        median(&cloudtalk_runs),
        median(&native_runs),
        if ratio <= 1.3 { "met" } else { "**not met**" }
    );
    fs::remove_file(records).ok();
}

/// Cost per call as the batch grows: it should stay flat (and memory too).
fn batch_sizes(programs: &Programs, work: &Path, sizes: &[u64]) {
    println!("\nbatch size (median of 3 interleaved runs; ns per call; peak MB)\n");
    println!("| calls | handwritten | `eval --jobs 1` | ratio | `eval --jobs 2` | peak MB `--jobs 1` / `2` |");
    println!("|---|---|---|---|---|---|");
    let lineup = [
        Program::Handwritten,
        Program::Eval { jobs: Some(1) },
        Program::Eval { jobs: Some(2) },
    ];
    for &size in sizes {
        let batch = work.join(format!("calls-{size}.jsonl"));
        write_corpus(&batch, size);
        let mut times: Vec<Vec<Run>> = vec![Vec::new(); lineup.len()];
        for _ in 0..3 {
            for (program, runs) in lineup.iter().zip(&mut times) {
                runs.push(measure(&mut programs.command(*program, &batch)));
            }
        }
        fs::remove_file(&batch).ok();
        let ns = |runs: &[Run]| median(runs) * 1e9 / size as f64;
        let peak =
            |runs: &[Run]| runs.iter().map(|run| run.peak_kib).max().unwrap() as f64 / 1024.0;
        println!(
            "| {size} | {:.0} | {:.0} | {:.2}× | {:.0} | {:.1} / {:.1} |",
            ns(&times[0]),
            ns(&times[1]),
            median(&times[1]) / median(&times[0]),
            ns(&times[2]),
            peak(&times[1]),
            peak(&times[2]),
        );
    }
}

/// A plan of `steps` steps: fixed-user steps whose condition never holds
/// for the corpus (so every call walks all of them), then the default
/// steps. It decides exactly as the default rules do.
fn long_rules(steps: usize) -> String {
    let default_steps = 5;
    let mut text = format!("ruleset long{steps}\n");
    for index in 0..steps.saturating_sub(default_steps) {
        text.push_str(&format!(
            "step user \"ops{index}@acme.com\" when \"never{index}\" in tags\n"
        ));
    }
    text.push_str(
        "step call_agent unless direction == incoming and status in [missed, voicemail]\n\
         step last_step_agent\nstep voicemail_email\nstep contact_owner\nstep favorite_agent\n\
         fallback integration\n",
    );
    text
}

fn plan_lengths(programs: &Programs, work: &Path, calls: u64) {
    let batch = work.join("plan-length.jsonl");
    write_corpus(&batch, calls);
    let reference = work.join("plan-reference.jsonl");
    let output = work.join("plan-output.jsonl");
    let status = programs
        .command(Program::Handwritten, &batch)
        .stdout(fs::File::create(&reference).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    println!("\nplan length ({calls} calls, `eval --jobs 1`, median of 3; the extra steps never decide, so the output is the default's)\n");
    println!("| steps | median s | ns per call | vs 5 steps |");
    println!("|---|---|---|---|");
    let mut first = None;
    for steps in [5, 50, 500] {
        let rules = work.join(format!("long{steps}.rules"));
        fs::write(&rules, long_rules(steps)).unwrap();
        let status = programs
            .eval(&rules, &batch)
            .stdout(fs::File::create(&output).unwrap())
            .status()
            .unwrap();
        assert!(
            status.success() && same_bytes(&reference, &output),
            "a {steps}-step plan decides differently"
        );
        let runs: Vec<Run> = (0..3)
            .map(|_| measure(&mut programs.eval(&rules, &batch)))
            .collect();
        let seconds = median(&runs);
        let base = *first.get_or_insert(seconds);
        println!(
            "| {steps} | {seconds:.3} | {:.0} | {:.2}× |",
            seconds * 1e9 / calls as f64,
            seconds / base
        );
    }
    for file in [batch, reference, output] {
        fs::remove_file(file).ok();
    }
}

/// `check` must stay linear in the size of a file: 50,000 distinct
/// fixed-user steps, as short as the language allows so the file stays
/// under the 1 MiB rule-file limit.
fn check_long_file(work: &Path) {
    let steps = 50_000;
    // The ruleset must be named as its file.
    let rules = work.join(format!("many{steps}.rules"));
    fs::write(&rules, many_user_steps(steps)).unwrap();
    let check = || measure(Command::new(CALLASSIGN).arg("check").arg(&rules));
    // One run first: while `check` is quadratic a run takes a minute.
    let mut runs = vec![check()];
    if runs[0].wall.as_secs_f64() < 5.0 {
        runs.extend([check(), check()]);
    }
    let seconds = median(&runs);
    println!(
        "\n`check` of one {steps}-step file ({} run{}): median {seconds:.3} s, peak {:.1} MB (target ≤ 1 s: {})",
        runs.len(),
        if runs.len() == 1 { "" } else { "s" },
        runs.iter().map(|run| run.peak_kib).max().unwrap() as f64 / 1024.0,
        if seconds <= 1.0 { "met" } else { "**not met**" }
    );
}

/// `ruleset` then `count` steps `user "ab@c.d"` with distinct addresses.
fn many_user_steps(count: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut text = format!("ruleset many{count}\n");
    for index in 0..count {
        let pick = |set: &[u8], at: usize| set[at % set.len()] as char;
        text.push_str(&format!(
            "step user \"{}{}@{}.{}\"\n",
            pick(ALNUM, index),
            pick(ALNUM, index / 36),
            pick(LETTERS, index / (36 * 36)),
            pick(LETTERS, index / (36 * 36 * 26)),
        ));
    }
    text.push_str("fallback integration\n");
    text
}
