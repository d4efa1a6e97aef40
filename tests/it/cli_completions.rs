//! `callassign completions SHELL` and `callassign man`.

use crate::common::{callassign, callassign_in, folder};

const SUBCOMMANDS: [&str; 14] = [
    "check",
    "explain",
    "init",
    "schema",
    "eval",
    "fmt",
    "plan",
    "diff",
    "stats",
    "test",
    "print-default",
    "lsp",
    "completions",
    "man",
];

#[test]
fn completions_are_generated_for_every_shell_and_know_every_subcommand() {
    for (shell, marker) in [
        ("bash", "complete -F _callassign"),
        ("zsh", "#compdef callassign"),
        ("fish", "complete -c callassign"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[callassign]"),
    ] {
        let run = callassign(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(run.stdout.contains(marker), "{shell}:\n{}", run.stdout);
        for subcommand in SUBCOMMANDS {
            assert!(
                run.stdout.contains(subcommand),
                "{shell} lacks {subcommand}"
            );
        }
        // Values of options complete too, where the shell's generator
        // lists them.
        if ["bash", "zsh", "fish"].contains(&shell) {
            assert!(
                run.stdout.contains("sarif"),
                "{shell} lacks check --format sarif"
            );
        }
    }
}

#[test]
fn the_bash_script_is_valid_bash() {
    let run = callassign(&["completions", "bash"]);
    let dir = folder(&[("callassign.bash", &run.stdout)]);
    let status = std::process::Command::new("bash")
        .arg("-n")
        .arg(dir.path().join("callassign.bash"))
        .status()
        .expect("bash runs");
    assert!(status.success());
}

#[test]
fn an_unknown_shell_is_a_usage_error_listing_the_shells() {
    let run = callassign(&["completions", "tcsh"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("bash"), "{}", run.stderr);
}

#[test]
fn man_prints_a_roff_page_naming_every_subcommand() {
    let run = callassign(&["man"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with(".ie"), "{}", run.stdout);
    assert!(run.stdout.contains(".TH callassign 1"));
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH SUBCOMMANDS"] {
        assert!(run.stdout.contains(section), "no {section}");
    }
    for subcommand in SUBCOMMANDS {
        assert!(
            // roff escapes every hyphen.
            run.stdout.contains(&format!(
                "callassign\\-{}(1)",
                subcommand.replace('-', "\\-")
            )),
            "no {subcommand}"
        );
    }
}

#[test]
fn man_out_dir_writes_a_page_per_subcommand() {
    let dir = folder(&[]);
    let run = callassign_in(dir.path(), &["man", "--out-dir", "man/man1"], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let pages = dir.path().join("man/man1");
    for subcommand in SUBCOMMANDS {
        let page = std::fs::read_to_string(pages.join(format!("callassign-{subcommand}.1")))
            .unwrap_or_else(|_| panic!("no page for {subcommand}"));
        assert!(page.contains(".SH SYNOPSIS"));
    }
    assert!(pages.join("callassign.1").is_file());
}

#[test]
fn man_out_dir_writes_every_page_or_none() {
    // The page of `test` cannot be written (a folder has its name): no
    // page may be left, not even those rendered before it.
    let dir = folder(&[]);
    let pages = dir.path().join("man1");
    std::fs::create_dir_all(pages.join("callassign-test.1")).unwrap();
    let run = callassign_in(dir.path(), &["man", "--out-dir", "man1"], b"");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("error: cannot write man pages to `man1`: `man1/callassign-test.1` is in the way: it is not a file; no page was written"),
        "{}",
        run.stderr
    );
    let names: Vec<String> = std::fs::read_dir(&pages)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["callassign-test.1"]);

    // A file where the folder should be is said as such.
    std::fs::write(dir.path().join("afile"), "").unwrap();
    let run = callassign_in(dir.path(), &["man", "--out-dir", "afile"], b"");
    assert_eq!(
        (run.code, run.stderr.lines().next()),
        (2, Some("error: `afile` is not a folder")),
        "{}",
        run.stderr
    );

    // A write that fails half-way (a file-size limit) leaves nothing either.
    std::fs::remove_dir(pages.join("callassign-test.1")).unwrap();
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg("ulimit -f 1 && \"$0\" man --out-dir man1")
        .arg(env!("CARGO_BIN_EXE_callassign"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert_eq!(std::fs::read_dir(&pages).unwrap().count(), 0);
}

#[test]
fn every_man_page_says_its_exit_status_and_gives_examples() {
    let dir = folder(&[]);
    let run = callassign_in(dir.path(), &["man", "--out-dir", "man"], b"");
    assert_eq!(run.code, 0, "{run:?}");
    let mut pages = vec!["callassign".to_string()];
    pages.extend(
        SUBCOMMANDS
            .iter()
            .map(|command| format!("callassign-{command}")),
    );
    for page in pages {
        let text = std::fs::read_to_string(dir.path().join(format!("man/{page}.1")))
            .unwrap_or_else(|_| panic!("no page {page}"));
        let exit = text
            .split_once(".SH \"EXIT STATUS\"\n")
            .unwrap_or_else(|| panic!("{page}: no EXIT STATUS"))
            .1;
        assert!(exit.starts_with(".TP\n\\fB0\\fR\n"), "{page}: {exit}");
        let examples = text
            .split_once(".SH EXAMPLES\n")
            .unwrap_or_else(|| panic!("{page}: no EXAMPLES"))
            .1;
        // Each example is a callassign command line (after a pipe, maybe).
        let first = examples.lines().nth(1).unwrap();
        assert!(
            first.starts_with("\\fB") && first.contains("callassign"),
            "{page}: {first}"
        );
    }
    // The main page printed by `man` has them too.
    let main = callassign(&["man"]);
    assert!(main.stdout.contains(".SH \"EXIT STATUS\"") && main.stdout.contains(".SH EXAMPLES"));
}
