//! The layers ARCHITECTURE.md writes down hold: every `crate::` path in
//! the library points down (or inside its own module), the modules of one
//! layer import each other in one direction only, `ls src` and
//! ARCHITECTURE.md name the same modules, and no source file is over 600
//! lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common::repo;

/// The floors of the library, bottom first, as the fenced `text layers`
/// block of ARCHITECTURE.md lists them (`N  module module …`).
fn floors() -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(repo().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let block = text
        .split("```text layers\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("ARCHITECTURE.md has a ```text layers block");
    let mut floors = BTreeMap::new();
    for line in block.lines().filter(|line| !line.trim().is_empty()) {
        let mut words = line.split_whitespace();
        let floor: usize = words
            .next()
            .and_then(|word| word.parse().ok())
            .unwrap_or_else(|| panic!("a layers line starts with its floor: {line:?}"));
        for module in words.take_while(|word| !word.starts_with('(')) {
            assert!(
                floors.insert(module.to_string(), floor).is_none(),
                "{module} is listed twice"
            );
        }
    }
    floors
}

/// The modules `src/main.rs` declares: the binary's side, not the library's.
fn binary_modules() -> BTreeSet<String> {
    let main = std::fs::read_to_string(repo().join("src/main.rs")).expect("src/main.rs");
    main.lines()
        .filter_map(|line| line.trim().strip_prefix("mod "))
        .map(|rest| rest.trim_end_matches(';').to_string())
        .collect()
}

fn rust_files(folder: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(folder).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            out.push(path);
        }
    }
}

/// A file's module path below the crate root: `src/runtime/batch/mod.rs`
/// is `[runtime, batch]`, `src/lib.rs` is `[]`.
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    let file = parts.pop().expect("a file name");
    let stem = file.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_string());
    }
    parts
}

/// The code of a file without comments and without its unit tests (a
/// `tests.rs` file, or what follows `#[cfg(test)]` then `mod tests`): tests
/// may drive the whole pipeline, code may not reach up.
fn code_of(path: &Path, text: &str) -> String {
    if path.file_name().is_some_and(|name| name == "tests.rs") {
        return String::new();
    }
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(start) => &text[..start],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            // `//` inside a string is rare in this code base and never
            // before a path that matters.
            Some(start) => &line[..start],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every module a file names by path, as the full path of segments below
/// the crate root: `crate::a::b`, `use crate::{a::b, c}` and
/// `super::x` resolved against the file's own module.
fn imports(module: &[String], code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let mut at = 0;
    while at < code.len() {
        let rest = &code[at..];
        let starts_word =
            at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
        if starts_word && rest.starts_with("crate::") {
            let after = &rest["crate::".len()..];
            if let Some(group) = after.strip_prefix('{') {
                for path in group_paths(group) {
                    found.push(path);
                }
            } else {
                found.push(path_segments(after));
            }
            at += "crate::".len();
        } else if starts_word && rest.starts_with("super::") && !module.is_empty() {
            // A module's `super` is its parent, whether the module is a
            // `name.rs` or a `name/mod.rs`.
            let mut base = module.to_vec();
            let mut after = rest;
            while let Some(next) = after.strip_prefix("super::") {
                base.pop();
                after = next;
            }
            if let Some(group) = after.strip_prefix('{') {
                for path in group_paths(group) {
                    found.push(base.iter().cloned().chain(path).collect());
                }
            } else {
                found.push(base.into_iter().chain(path_segments(after)).collect());
            }
            at += "super::".len();
        } else {
            at += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    found
}

/// The lowercase segments a path starts with (`model::call::Call` →
/// `[model, call]`): modules, and a function's name when the path ends in
/// one (`time::parse_rfc3339(…)`), which names no module of its own.
fn path_segments(text: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut rest = text;
    loop {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
            break;
        }
        rest = &rest[name.len()..];
        segments.push(name);
        match rest.strip_prefix("::") {
            Some(next) => rest = next,
            None => break,
        }
    }
    segments
}

/// The paths of a `{a::b, c::{d, e}}` group, opened brace already read.
fn group_paths(group: &str) -> Vec<Vec<String>> {
    let mut depth = 0usize;
    let mut end = group.len();
    for (index, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                end = index;
                break;
            }
            '}' => depth -= 1,
            _ => {}
        }
    }
    let inner = &group[..end];
    let mut paths = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (index, c) in inner.char_indices().chain([(inner.len(), ',')]) {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                let item = inner[start..index].trim();
                start = index + 1;
                if item.is_empty() || item == "self" {
                    continue;
                }
                if let Some((head, nested)) = item.split_once("::{") {
                    let head = path_segments(head);
                    for path in group_paths(nested) {
                        paths.push(head.iter().cloned().chain(path).collect());
                    }
                } else {
                    paths.push(path_segments(item));
                }
            }
            _ => {}
        }
    }
    paths
}

struct Library {
    /// Relative path, module path, the modules it names.
    files: Vec<(String, Vec<String>, Vec<Vec<String>>)>,
}

fn library() -> Library {
    let binary = binary_modules();
    let src = repo().join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let relative = path.strip_prefix(&src).expect("under src");
        let module = module_of(relative);
        let top = module.first().cloned().unwrap_or_default();
        if binary.contains(&top) || relative == Path::new("main.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read source");
        let named = imports(&module, &code_of(relative, &text));
        files.push((relative.display().to_string(), module, named));
    }
    Library { files }
}

#[test]
fn imports_point_down_the_layers_written_in_architecture_md() {
    let floors = floors();
    let mut wrong = Vec::new();
    for (file, module, named) in &library().files {
        let Some(top) = module.first() else {
            continue; // lib.rs: the facade re-exports every layer
        };
        let Some(&floor) = floors.get(top) else {
            wrong.push(format!(
                "{file}: module `{top}` is not in ARCHITECTURE.md's layers"
            ));
            continue;
        };
        for path in named {
            let Some(target) = path.first() else { continue };
            if target == top {
                continue;
            }
            match floors.get(target) {
                Some(&below) if below < floor => {}
                Some(&other) => wrong.push(format!(
                    "{file}: `{top}` (floor {floor}) imports `{}` (floor {other}); imports only point down",
                    path.join("::")
                )),
                // A root item (`crate::compile_text`): only the root may.
                None => wrong.push(format!(
                    "{file}: `{top}` imports the crate root's `{}`; the root is the top",
                    path.join("::")
                )),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_modules_of_a_layer_import_each_other_one_way() {
    // Within each top-level module, the graph between its children (the
    // parent `mod.rs` aside, which declares them) has no cycle.
    let mut edges: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut files_of: BTreeMap<(String, String, String), String> = BTreeMap::new();
    for (file, module, named) in &library().files {
        // Deeper levels: the same rule between the children of any module.
        for depth in 1..module.len() {
            let parent = module[..depth].join("::");
            let child = &module[depth];
            for path in named {
                if path.len() > depth && path[..depth] == module[..depth] && &path[depth] != child {
                    edges
                        .entry((parent.clone(), child.clone()))
                        .or_default()
                        .insert(path[depth].clone());
                    files_of
                        .entry((parent.clone(), child.clone(), path[depth].clone()))
                        .or_insert_with(|| file.clone());
                }
            }
        }
    }
    let mut cycles = Vec::new();
    for ((parent, from), targets) in &edges {
        for to in targets {
            // A path back from `to` to `from` through the same parent's children.
            let mut stack = vec![to.clone()];
            let mut seen = BTreeSet::new();
            while let Some(at) = stack.pop() {
                if &at == from {
                    cycles.push(format!(
                        "`{parent}::{from}` imports `{parent}::{to}` ({}) and `{parent}::{to}` leads back to it",
                        files_of[&(parent.clone(), from.clone(), to.clone())]
                    ));
                    break;
                }
                if seen.insert(at.clone()) {
                    if let Some(next) = edges.get(&(parent.clone(), at)) {
                        stack.extend(next.iter().cloned());
                    }
                }
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "modules that import each other:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn ls_src_and_architecture_md_name_the_same_modules() {
    let floors = floors();
    let binary = binary_modules();
    let mut in_src = BTreeSet::new();
    for entry in std::fs::read_dir(repo().join("src")).expect("read src") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let name = name.trim_end_matches(".rs").to_string();
        if !matches!(name.as_str(), "lib" | "main") && !binary.contains(&name) {
            in_src.insert(name);
        }
    }
    let written: BTreeSet<String> = floors.keys().cloned().collect();
    assert_eq!(
        in_src, written,
        "src/ (library side) against ARCHITECTURE.md's layers"
    );
    let architecture = std::fs::read_to_string(repo().join("ARCHITECTURE.md")).unwrap();
    for module in &binary {
        assert!(
            architecture.contains(&format!("`{module}`")),
            "ARCHITECTURE.md says nothing of the binary's `{module}`"
        );
    }
}

#[test]
fn the_import_reader_sees_groups_nested_groups_and_super() {
    let module = vec!["runtime".to_string(), "batch".to_string()];
    let code = "use crate::{model::{call::Call, Context}, semantics::plan::Plan};\n\
                use super::evaluate::Engine;\n\
                let x = crate::vocabulary::time::parse(y); // crate::impact::diff\n";
    let found: BTreeSet<String> = imports(&module, &code_of(Path::new("batch/mod.rs"), code))
        .into_iter()
        .map(|path| path.join("::"))
        .collect();
    let expected: BTreeSet<String> = [
        "model::call",
        "model",
        "semantics::plan",
        "runtime::evaluate",
        "vocabulary::time::parse",
    ]
    .map(String::from)
    .into();
    assert_eq!(found, expected);
}

/// The most lines a source file may have: past it, a file holds more than
/// one concern (ARCHITECTURE.md says how to split it).
const MAX_LINES: usize = 600;

/// The files of `files` (path, text) longer than `limit` lines, each as
/// `path: N lines`, longest first.
fn too_long(files: &[(String, String)], limit: usize) -> Vec<String> {
    let mut long: Vec<(usize, &str)> = files
        .iter()
        .map(|(path, text)| (text.lines().count(), path.as_str()))
        .filter(|(lines, _)| *lines > limit)
        .collect();
    long.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    long.into_iter()
        .map(|(lines, path)| format!("{path}: {lines} lines"))
        .collect()
}

#[test]
fn no_source_file_is_over_600_lines() {
    let src = repo().join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    paths.sort();
    let files: Vec<(String, String)> = paths
        .iter()
        .map(|path| {
            let relative = path.strip_prefix(repo()).expect("under the repository");
            let text = std::fs::read_to_string(path).expect("read source");
            (relative.display().to_string(), text)
        })
        .collect();
    // Both sides are read: the library and the binary.
    for side in ["src/lib.rs", "src/main.rs"] {
        assert!(
            files.iter().any(|(path, _)| path == side),
            "{side} not found among {} files",
            files.len()
        );
    }
    let long = too_long(&files, MAX_LINES);
    assert!(
        long.is_empty(),
        "source files over {MAX_LINES} lines; split each along a seam (a concern into a file of its own, see ARCHITECTURE.md):\n{}",
        long.join("\n")
    );
}

#[test]
fn the_length_check_names_each_long_file_with_its_length() {
    let files = [
        ("src/a.rs", "line\n".repeat(600)),
        ("src/b.rs", "line\n".repeat(601)),
        ("src/c.rs", "line\n".repeat(700) + "no newline at the end"),
    ]
    .map(|(path, text)| (path.to_string(), text));
    assert_eq!(
        too_long(&files, 600),
        ["src/c.rs: 701 lines", "src/b.rs: 601 lines"]
    );
}
