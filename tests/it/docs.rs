//! The documentation holds: the table of finding codes is the one the
//! library generates, every Markdown link in the repository leads to a file
//! (and a heading) that exists, every code fence closes, the README stays
//! short and reaches every document in `docs/`.
//!
//! `UPDATE_DOCS=1 cargo test --test it docs` rewrites the generated parts.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use callassign::{Code, Severity};

use crate::common::repo;

const CODES_START: &str = "<!-- generated from Code::ALL by tests/it/docs.rs: do not edit -->\n";
const CODES_END: &str = "<!-- end of generated table -->\n";

/// The table of finding codes, from the codes themselves.
fn codes_table() -> String {
    let mut table = String::from("| code | severity | what |\n|---|---|---|\n");
    for code in Code::ALL {
        let severity = match code.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        table.push_str(&format!("| `{code}` | {severity} | {} |\n", code.summary()));
    }
    table
}

#[test]
fn the_table_of_finding_codes_is_generated_from_the_codes() {
    let path = repo().join("docs/codes.md");
    let text = std::fs::read_to_string(&path).expect("docs/codes.md");
    let (before, rest) = text
        .split_once(CODES_START)
        .expect("docs/codes.md has the start marker");
    let (table, after) = rest
        .split_once(CODES_END)
        .expect("docs/codes.md has the end marker");
    let generated = codes_table();
    if table != generated {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(
                &path,
                format!("{before}{CODES_START}{generated}{CODES_END}{after}"),
            )
            .expect("write docs/codes.md");
        } else {
            panic!(
                "docs/codes.md's table is stale: run `UPDATE_DOCS=1 cargo test --test it docs`\n{}",
                similar_lines(table, &generated)
            );
        }
    }
}

fn similar_lines(old: &str, new: &str) -> String {
    let old: BTreeSet<&str> = old.lines().collect();
    new.lines()
        .filter(|line| !old.contains(line))
        .map(|line| format!("+ {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every Markdown file of the repository that people read.
fn markdown_files() -> Vec<PathBuf> {
    let root = repo();
    let mut files = Vec::new();
    for folder in [root.clone(), root.join("docs"), root.join("editors")] {
        for entry in std::fs::read_dir(&folder).expect("read folder") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|extension| extension == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped, spaces
/// as `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// A file's lines outside code fences, and the problems of its fences.
fn prose_lines(text: &str) -> (Vec<&str>, Vec<String>) {
    let mut prose = Vec::new();
    let mut problems = Vec::new();
    let mut open: Option<(usize, &str)> = None;
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let fence = ["```", "~~~"]
            .into_iter()
            .find(|fence| trimmed.starts_with(fence));
        match (open, fence) {
            (None, Some(fence)) => open = Some((number + 1, fence)),
            (Some((_, kind)), Some(fence)) if fence == kind => {
                let rest = trimmed.trim_start_matches(fence.chars().next().unwrap());
                if rest.trim().is_empty() {
                    open = None;
                } else {
                    // GitHub reads this as text inside the fence, which
                    // then runs on and hides what follows.
                    problems.push(format!(
                        "line {}: a fence with text after it (`{}`) does not close the fence",
                        number + 1,
                        rest.trim()
                    ));
                }
            }
            (None, None) => prose.push(line),
            _ => {}
        }
    }
    if let Some((line, _)) = open {
        problems.push(format!("line {line}: a code fence that never closes"));
    }
    (prose, problems)
}

fn anchors_of(path: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let (prose, _) = prose_lines(&text);
    prose
        .iter()
        .filter_map(|line| line.strip_prefix('#'))
        .map(|heading| anchor(heading.trim_start_matches('#')))
        .collect()
}

/// The targets of the inline links `[text](target)` of some prose.
fn link_targets(prose: &[&str]) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose {
        let mut rest = *line;
        while let Some(start) = rest.find("](") {
            rest = &rest[start + 2..];
            if let Some(end) = rest.find(')') {
                targets.push(rest[..end].to_string());
                rest = &rest[end..];
            }
        }
    }
    targets
}

#[test]
fn every_markdown_link_leads_somewhere_and_every_fence_closes() {
    let mut wrong = Vec::new();
    for path in markdown_files() {
        let text = std::fs::read_to_string(&path).expect("read markdown");
        let shown = path.strip_prefix(repo()).unwrap().display().to_string();
        let (prose, problems) = prose_lines(&text);
        wrong.extend(
            problems
                .into_iter()
                .map(|problem| format!("{shown}: {problem}")),
        );
        for target in link_targets(&prose) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue; // not checked: no network in CI
            }
            let (file, fragment) = target.split_once('#').unwrap_or((&target, ""));
            let linked = if file.is_empty() {
                path.clone()
            } else {
                path.parent().unwrap().join(file)
            };
            if !linked.exists() {
                wrong.push(format!("{shown}: `{target}`: no such file"));
            } else if !fragment.is_empty()
                && linked
                    .extension()
                    .is_some_and(|extension| extension == "md")
                && !anchors_of(&linked).contains(fragment)
            {
                wrong.push(format!("{shown}: `{target}`: no such heading"));
            }
        }
    }
    assert!(wrong.is_empty(), "broken Markdown:\n{}", wrong.join("\n"));
}

#[test]
fn the_fence_check_sees_a_fence_that_cannot_close() {
    let (prose, problems) = prose_lines("text\n```sh\njq .\n``` More text\n\n## Hidden\n");
    assert_eq!(
        problems,
        [
            "line 4: a fence with text after it (`More text`) does not close the fence",
            "line 2: a code fence that never closes",
        ]
    );
    assert_eq!(prose, ["text"]);
    assert_eq!(
        anchor("In CI: the GitHub Action"),
        "in-ci-the-github-action"
    );
}

#[test]
fn the_readme_is_short_and_reaches_every_document() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let lines = readme.lines().count();
    assert!(
        lines <= 400,
        "README.md has {lines} lines; move a section to docs/"
    );
    let (prose, _) = prose_lines(&readme);
    let targets: BTreeSet<String> = link_targets(&prose)
        .into_iter()
        .map(|target| target.split('#').next().unwrap().to_string())
        .collect();
    for entry in std::fs::read_dir(repo().join("docs")).expect("docs/") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let target = format!("docs/{name}");
        assert!(
            targets.contains(&target),
            "README.md does not link {target}"
        );
    }
    for document in ["ARCHITECTURE.md", "BENCHMARKS.md"] {
        assert!(
            targets.contains(document),
            "README.md does not link {document}"
        );
    }
}
