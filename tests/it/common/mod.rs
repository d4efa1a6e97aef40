//! Running the real `callassign` binary from tests.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The repository root, where `rules/` and `examples/` are.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_callassign"))
}

/// Runs `callassign ARGS` in `cwd`, feeding `stdin`, with colour off.
pub fn callassign_in(cwd: &Path, args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // The binary may exit before reading everything (usage errors).
        let _ = input.write_all(&stdin);
    });
    let output = child.wait_with_output().expect("the binary runs");
    writer.join().expect("stdin writer");
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// Runs `callassign ARGS` in the repository root.
pub fn callassign(args: &[&str]) -> Run {
    callassign_in(&repo(), args, b"")
}

/// A temporary folder with the given files in it.
pub fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("create folders");
        std::fs::write(path, text).expect("write file");
    }
    dir
}

/// Runs `callassign ARGS` in `cwd`, reads the first line of its output and
/// then closes the pipe, as `| head -1` would; returns that line and the run.
pub fn first_line_then_hang_up(cwd: &Path, args: &[&str]) -> (String, Run) {
    use std::io::{BufRead, BufReader};

    let mut child = Command::new(env!("CARGO_BIN_EXE_callassign"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout is piped"))
        .read_line(&mut first)
        .expect("a first line");
    // The reader is dropped here.
    let output = child.wait_with_output().expect("the binary runs");
    let run = Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::new(),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    };
    (first, run)
}

/// Runs `callassign eval --rules rules/hubspot.rules --context CONTEXT
/// EXTRA…` in `cwd`, feeding `stdin`; the rules are the repository's,
/// `context` is as given (relative to `cwd`, or absolute).
pub fn eval_hubspot_in(cwd: &Path, context: &str, extra: &[&str], stdin: &[u8]) -> Run {
    let rules = repo().join("rules/hubspot.rules");
    let mut args = vec![
        "eval",
        "--rules",
        rules.to_str().expect("a UTF-8 path"),
        "--context",
        context,
    ];
    args.extend(extra);
    callassign_in(cwd, &args, stdin)
}

/// Runs `git ARGS` in `folder`, which must succeed.
pub fn git(folder: &Path, args: &[&str]) {
    let output = Command::new("git")
        .current_dir(folder)
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {output:?}");
}

/// `PATH` with the folder of the binary under test first, for scripts
/// that call `callassign` by name (CI steps, hooks).
pub fn path_with_binary() -> String {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_callassign"));
    let folder = binary.parent().expect("the binary is in a folder");
    format!(
        "{}:{}",
        folder.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A bash step of a GitHub Actions job, as the runner starts it, in `cwd`
/// with `callassign` on `PATH` (after `extra_path` folders) and colour off.
pub fn github_step(script: &str, cwd: &Path, extra_path: &[&Path]) -> Command {
    let mut path = String::new();
    for folder in extra_path {
        path.push_str(&format!("{}:", folder.display()));
    }
    path.push_str(&path_with_binary());
    let mut command = Command::new("bash");
    command
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(cwd)
        .env("PATH", path)
        .env("NO_COLOR", "1");
    command
}
