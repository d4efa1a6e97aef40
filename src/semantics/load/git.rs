//! Rule files as they were at a git revision, read with `git cat-file`
//! from the object store: no checkout, no temporary folder. `diff --base`
//! compiles the old rules through this source with the same loader, so an
//! old `extends` chain gets every check a chain on disk gets.

use std::io;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::source::{normalize, not_found, rule_stem, RuleSource};
use super::MAX_RULE_FILE_BYTES;
use crate::diagnostics::problem::{Problem, ProblemCode};

/// How many symbolic links are followed to reach one file.
const MAX_LINKS: usize = 8;

/// The tree of `revision` in the repository at `root`. Paths given to it
/// are relative to the repository root.
#[derive(Debug, Clone)]
pub struct GitRevision {
    root: PathBuf,
    revision: String,
}

/// Runs git in `folder`: its standard output, or its error message when
/// it ran and failed. A problem only when git cannot be run at all.
fn run_git(folder: &Path, args: &[&str]) -> Result<Result<Vec<u8>, String>, Problem> {
    let output = Command::new("git")
        .arg("-C")
        .arg(folder)
        .args(args)
        .output()
        .map_err(|error| {
            Problem::new(
                ProblemCode::InvalidInput,
                format!("cannot run git: {error}"),
                "`--base` reads the old rules from git; install git, or give the old rule file as a path",
            )
        })?;
    if output.status.success() {
        Ok(Ok(output.stdout))
    } else {
        Ok(Err(String::from_utf8_lossy(&output.stderr)
            .trim()
            .to_string()))
    }
}

/// Git's own message, on one line: `fatal: not a git repository (or any
/// of the parent directories): .git`, `detected dubious ownership …`.
fn git_reason(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    if lines.is_empty() {
        "git gave no reason".to_string()
    } else {
        format!("git says `{}`", lines.join(" "))
    }
}

/// What a path names in a git tree.
enum Entry {
    File,
    Folder,
    Link(Vec<u8>),
}

impl GitRevision {
    /// `revision` must name a commit (a branch, a tag, a hash); that is
    /// checked on first use, as a missing file would be.
    pub fn new(root: impl Into<PathBuf>, revision: impl Into<String>) -> GitRevision {
        GitRevision {
            root: root.into(),
            revision: revision.into(),
        }
    }

    /// The revision `revision` of the git repository `path` sits in, and
    /// `path` relative to that repository's root: how `diff --base` finds
    /// the old rules. Refused when git cannot run, when `path` is in no
    /// repository, and when `revision` names no commit there.
    pub fn of_file(path: &Path, revision: &str) -> Result<(GitRevision, PathBuf), Problem> {
        let problem =
            |message: String, help: &str| Problem::new(ProblemCode::InvalidInput, message, help);
        let unreadable = |path: &Path, error: io::Error| {
            let message = match error.kind() {
                io::ErrorKind::NotFound => format!("`{}` does not exist", path.display()),
                _ => format!("cannot read `{}`: {error}", path.display()),
            };
            Problem::new(
                ProblemCode::UnreadableFile,
                message,
                crate::files::irregular_help(&error).unwrap_or(""),
            )
            .in_file(path)
        };
        // The path the user named is compared, not the file a link there
        // leads to: only its folder is resolved. Reading the link's target
        // at the revision would compare another file (the revision's own
        // link, if any, is followed there as on disk).
        let file_name = path
            .file_name()
            .ok_or_else(|| problem(format!("`{}` does not name a file", path.display()), ""))?;
        let named_folder = match path.parent() {
            Some(folder) if !folder.as_os_str().is_empty() => folder,
            _ => Path::new("."),
        };
        std::fs::metadata(path).map_err(|error| unreadable(path, error))?;
        let folder =
            std::fs::canonicalize(named_folder).map_err(|error| unreadable(named_folder, error))?;
        let canonical = folder.join(file_name);
        let folder = folder.as_path();
        let root = match run_git(folder, &["rev-parse", "--show-toplevel"])? {
            Ok(stdout) => {
                PathBuf::from(String::from_utf8_lossy(&stdout).trim_end_matches(['\n', '\r']))
            }
            // Git says why: no repository, or one it refuses to use (a
            // repository owned by another user, a broken `.git`).
            Err(reason) => return Err(problem(
                format!(
                    "`{}` is not inside a git repository git can use: {}",
                    path.display(),
                    git_reason(&reason)
                ),
                "`--base` reads the old rules from git; give the old rule file as a path instead",
            )),
        };
        let root = std::fs::canonicalize(&root).map_err(|error| unreadable(&root, error))?;
        let relative = canonical.strip_prefix(&root).map_err(|_| {
            problem(
                format!(
                    "`{}` is outside the git repository at `{}`",
                    path.display(),
                    root.display()
                ),
                "",
            )
        })?;
        let commit = format!("{revision}^{{commit}}");
        if revision.starts_with('-')
            || run_git(&root, &["rev-parse", "--verify", "--quiet", &commit])?.is_err()
        {
            return Err(problem(
                format!("no git revision `{revision}` in `{}`", root.display()),
                "check the name, or fetch it first (in CI: `git fetch origin main`, or check out with `fetch-depth: 0`)",
            ));
        }
        let relative = relative.to_path_buf();
        Ok((GitRevision::new(root, revision), relative))
    }

    /// `REV:rules/hubspot.rules`, as git spells an object and as reports
    /// name the file.
    pub fn spec(&self, path: &Path) -> String {
        let relative = normalize(path);
        let relative = relative.to_string_lossy();
        let relative = if relative == "." { "" } else { &relative };
        format!("{}:{relative}", self.revision)
    }

    fn git(&self, args: &[&str]) -> io::Result<Option<Vec<u8>>> {
        // A revision is always an argument of its own: one that starts
        // with `-` would be read as an option (`--output=…`).
        if self.revision.starts_with('-') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{}` is not a git revision", self.revision),
            ));
        }
        let output = Command::new("git")
            .arg("-C")
            .arg(&self.root)
            .args(args)
            .output()?;
        Ok(output.status.success().then_some(output.stdout))
    }

    /// What `path` is at the revision, `None` if nothing.
    fn entry(&self, path: &Path) -> io::Result<Option<Entry>> {
        let spec = self.spec(path);
        let Some(kind) = self.git(&["cat-file", "-t", &spec])? else {
            return Ok(None);
        };
        if kind.starts_with(b"tree") {
            return Ok(Some(Entry::Folder));
        }
        // A blob is a file or a symbolic link; only the tree entry's mode
        // tells which.
        let listing = self
            .git(&[
                "ls-tree",
                &self.revision,
                "--",
                &normalize(path).to_string_lossy(),
            ])?
            .unwrap_or_default();
        if listing.starts_with(b"120000") {
            let target = self.git(&["cat-file", "blob", &spec])?.unwrap_or_default();
            return Ok(Some(Entry::Link(target)));
        }
        Ok(Some(Entry::File))
    }

    /// Follows symbolic links to the path of the file or folder itself.
    fn resolve(&self, path: &Path) -> io::Result<PathBuf> {
        let mut current = normalize(path);
        for _ in 0..=MAX_LINKS {
            match self.entry(&current)? {
                None => return Err(not_found(path)),
                Some(Entry::File | Entry::Folder) => return Ok(current),
                Some(Entry::Link(target)) => {
                    let target = PathBuf::from(String::from_utf8_lossy(&target).into_owned());
                    let folder = current.parent().unwrap_or(Path::new("")).to_path_buf();
                    current = normalize(&folder.join(target));
                    if current.is_absolute() || current.starts_with("..") {
                        // Leads out of the repository: outside every folder.
                        return Ok(current);
                    }
                }
            }
        }
        Err(io::Error::other(format!(
            "`{}` is a chain of more than {MAX_LINKS} links",
            self.spec(path)
        )))
    }
}

impl RuleSource for GitRevision {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let resolved = self.resolve(path)?;
        // Streamed and cut at the limit, as files on disk are: a huge blob
        // at an old revision must not be held whole to be refused.
        let mut child = Command::new("git")
            .arg("-C")
            .arg(&self.root)
            .args(["cat-file", "blob", &self.spec(&resolved)])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut bytes = Vec::new();
        let read = child
            .stdout
            .take()
            .expect("stdout is piped")
            .take(MAX_RULE_FILE_BYTES as u64 + 1)
            .read_to_end(&mut bytes);
        let too_large = bytes.len() > MAX_RULE_FILE_BYTES;
        if too_large {
            // The rest is not wanted; git stops on the closed pipe.
            let _ = child.kill();
        }
        let status = child.wait()?;
        read?;
        if too_large || status.success() {
            Ok(bytes)
        } else {
            Err(not_found(path))
        }
    }

    fn identity(&self, path: &Path) -> io::Result<PathBuf> {
        self.resolve(path)
    }

    fn rule_names(&self, folder: &Path) -> Vec<String> {
        let tree = self.spec(folder);
        let listing = self
            .git(&["ls-tree", "--name-only", &tree])
            .ok()
            .flatten()
            .unwrap_or_default();
        let mut names: Vec<String> = String::from_utf8_lossy(&listing)
            .lines()
            .filter_map(|name| rule_stem(Path::new(name)))
            .collect();
        names.sort();
        names
    }

    fn display_name(&self, path: &Path) -> String {
        self.spec(path)
    }
}
