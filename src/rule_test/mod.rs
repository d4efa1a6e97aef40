//! Rule tests: YAML files of calls, each with the assignee (and optionally
//! the step) a rule file must give it.
//!
//! ```yaml
//! rules: ../hubspot.rules                          # relative to this file
//! context: ../../examples/hubspot.context.yaml     # a path, or the context inline
//! cases:
//!   - name: a missed call goes to the agent it last rang
//!     call: {direction: incoming, status: missed,
//!            flow: [{type: call_to_agent, agent: Bob@Acme.com}]}
//!     assignee: hs-3              # an integration user id, or null for unassigned
//!     step: last_step_agent       # optional
//! ```
//!
//! A call is written inline or named by a path (`.json` or `.yaml`); an
//! inline call without `id` gets the case's name. A case may carry its own
//! `context` (a path or inline), which replaces the file's for that case. [`load`] reads a file and
//! `run` compiles its rules (with their `extends` chain) and decides every
//! case with an [`Engine`], explaining each one so a failure can show why.
//!
//! ```
//! use callassign::{semantics::load::Loader, rule_test};
//!
//! let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/tests");
//! let file = rule_test::load(&folder.join("hubspot.yaml")).unwrap();
//! let report = rule_test::run(&file, &mut Loader::new()).unwrap();
//! assert!(report.results.iter().all(|result| result.passed()));
//! ```

use std::fmt;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use crate::diagnostics::finding::{sort_and_dedup, Finding};
use crate::diagnostics::problem::{Problem, ProblemCode};
use crate::diagnostics::suggest::did_you_mean;
use crate::files::TextError;
use crate::model::cloudtalk;
use crate::model::context::{self, MAX_CONTEXT_BYTES};
use crate::model::{Call, Context, Fact};
use crate::runtime::batch::InputFormat;
use crate::runtime::evaluate::{DecidedBy, Engine, Outcome, TraceEntry};
use crate::semantics::load::Loader;
use crate::semantics::plan::{EntryName, Plan};
use crate::vocabulary::Builtin;

mod file;
pub mod report;
mod run;

pub use file::*;
pub use run::*;

/// What a test file looks like, in one line, for help texts.
const SHAPE: &str = "a test file has `rules` (a path), `context` (a path or the context itself), optionally `input` (`native` or `cloudtalk`) and `cases`, each with `call`, `assignee` and optionally `name`, `step`, `context` and `input`; `callassign schema test` describes each";

/// A loaded test file.
#[derive(Debug)]
pub struct TestFile {
    /// The test file, as given.
    pub path: PathBuf,
    /// The rule file under test, relative to the working directory.
    pub rules: PathBuf,
    pub context: Context,
    pub cases: Vec<Case>,
}

/// One call and what the rules must decide for it.
#[derive(Debug)]
pub struct Case {
    /// 1-based position in the file.
    pub number: usize,
    pub name: String,
    /// The call, or why it could not be read (the case then fails with
    /// that message; the other cases still run).
    pub call: Result<Call<'static>, Problem>,
    /// Where the call's fields came from, for a CloudTalk record; empty for
    /// a native call.
    pub facts: Vec<Fact>,
    /// The case's own context, replacing the file's.
    pub context: Option<Context>,
    pub expected: Expected,
}

/// The expected outcome of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// An integration user id; `None` for a call left unassigned.
    pub assignee: Option<String>,
    /// The step that must decide, when the case says, as assignment
    /// lines name it.
    pub step: Option<String>,
    /// With `step: user`, the fixed user's address, when the case says.
    pub user: Option<String>,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.assignee.as_deref().unwrap_or("unassigned"))?;
        match (&self.step, &self.user) {
            (Some(step), Some(user)) => write!(f, " by {step} \"{user}\"")?,
            (Some(step), None) => write!(f, " by {step}")?,
            (None, _) => {}
        }
        Ok(())
    }
}

/// Something wrong with a test file: a [`Problem`] of code
/// `invalid_rule_test` naming the file, and the case when it is about one.
fn problem(file: &Path, message: impl Into<String>, help: impl Into<String>) -> Problem {
    Problem::new(ProblemCode::InvalidRuleTest, message, help).in_file(file)
}

/// A problem about one case of a test file.
trait InCase {
    fn in_case(self, number: usize, name: &str) -> Problem;
}

impl InCase for Problem {
    fn in_case(self, number: usize, name: &str) -> Problem {
        self.at_place(format!("case {number} (`{name}`)"))
    }
}

/// What running a test file gives.
#[derive(Debug)]
pub struct FileReport {
    /// Findings of the rule file and the files it extends (warnings only:
    /// a rule file in error is a [`Problem`]).
    pub findings: Vec<Finding>,
    pub results: Vec<CaseResult>,
    /// Plan steps (and the fallback) that decided none of the cases, as
    /// `(step, where it is written)`.
    pub undecided_steps: Vec<(EntryName, String)>,
}

#[derive(Debug)]
pub struct CaseResult {
    pub number: usize,
    pub name: String,
    pub outcome: CaseOutcome,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        matches!(self.outcome, CaseOutcome::Passed)
    }
}

#[derive(Debug)]
pub enum CaseOutcome {
    Passed,
    /// The rules decided something else.
    Failed(Box<Mismatch>),
    /// The case could not be run.
    Broken(Problem),
}

/// What a failing case expected and what came out.
#[derive(Debug)]
pub struct Mismatch {
    pub expected: Expected,
    /// `hs-4 (support@acme.com)`, or `unassigned`.
    pub actual_assignee: String,
    /// The id alone, `None` for unassigned: what reports for programs show.
    pub actual_id: Option<String>,
    /// As text output shows it: `contact_owner`, `user "ops@acme.com"`.
    pub actual_step: String,
    /// As assignment lines name it: `contact_owner`, `user`.
    pub actual_step_name: &'static str,
    /// The fixed user that decided, beside `actual_step_name` `user`.
    pub actual_user: Option<String>,
    /// Why the expectation can never be met (`step:` names a step the
    /// plan lacks): `(message, help)`.
    pub note: Option<(String, String)>,
    /// Where the call's fields came from (CloudTalk records only).
    pub facts: Vec<Fact>,
    pub trace: Vec<TraceEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(folder: &Path, name: &str, text: &str) -> PathBuf {
        let path = folder.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    const RULES: &str = "ruleset demo\nstep call_agent unless direction == incoming and status in [missed, voicemail]\nstep last_step_agent\nfallback integration\n";
    const CONTEXT: &str = "{integration: demo, fallback: installer, installer: u-1, users: [{id: u-1, email: admin@acme.com}, {id: u-2, email: Bob@Acme.com}, {id: u-3, email: old@acme.com, active: false}]}";

    #[test]
    fn cases_pass_and_fail_as_the_rules_decide() {
        let folder = tempfile::tempdir().unwrap();
        write(folder.path(), "demo.rules", RULES);
        let test = write(
            folder.path(),
            "demo.yaml",
            &format!(
                "rules: demo.rules\ncontext: {CONTEXT}\ncases:\n\
                 - name: to the last agent\n  call: {{direction: incoming, status: missed, flow: [{{type: call_to_agent, agent: ' BOB@acme.com'}}]}}\n  assignee: u-2\n  step: last_step_agent\n\
                 - name: wrong step\n  call: {{direction: incoming, status: missed, flow: [{{type: call_to_agent, agent: bob@acme.com}}]}}\n  assignee: u-2\n  step: call_agent\n\
                 - name: inactive agent falls back\n  call: {{direction: outgoing, status: answered, agent: old@acme.com}}\n  assignee: u-1\n\
                 - name: wrong assignee\n  call: {{direction: outgoing, status: answered, agent: bob@acme.com}}\n  assignee: null\n"
            ),
        );
        let file = load(&test).unwrap();
        let report = run(&file, &mut Loader::new()).unwrap();
        let outcomes: Vec<(&str, bool)> = report
            .results
            .iter()
            .map(|result| (result.name.as_str(), result.passed()))
            .collect();
        assert_eq!(
            outcomes,
            [
                ("to the last agent", true),
                ("wrong step", false),
                ("inactive agent falls back", true),
                ("wrong assignee", false)
            ]
        );
        let CaseOutcome::Failed(mismatch) = &report.results[3].outcome else {
            panic!("{:?}", report.results[3].outcome)
        };
        assert_eq!(mismatch.actual_assignee, "u-2 (Bob@Acme.com)");
        assert_eq!(mismatch.actual_step, "call_agent");
        assert_eq!(mismatch.expected.to_string(), "unassigned");
        // Every step decided some case.
        assert!(
            report.undecided_steps.is_empty(),
            "{:?}",
            report.undecided_steps
        );
    }

    #[test]
    fn problems_name_the_file_and_the_case() {
        let folder = tempfile::tempdir().unwrap();
        write(folder.path(), "demo.rules", RULES);
        let table: &[(&str, &str)] = &[
            ("rules: [", "not a valid test file"),
            ("rules: demo.rules\ncontext: nope.yaml\ncases: []\n", "the context `"),
            (&format!("rules: demo.rules\ncontext: {CONTEXT}\ncases: []\n"), "`cases` is empty"),
            (&format!("rules: demo.rules\ncontext: {CONTEXT}\ncases: [{{call: {{}}, assignee: null}}]\nextra: 1\n"), "unknown field `extra`"),
            ("rules: demo.rules\ncontext: {users: [{id: a}, {id: a}]}\ncases: []\n", "the context is not usable: users[1] (`a`) has the id of users[0] (`a`)"),
        ];
        for (index, (text, expected)) in table.iter().enumerate() {
            let path = write(folder.path(), &format!("t{index}.yaml"), text);
            let problem = load(&path).unwrap_err();
            assert!(problem.message.contains(expected), "{text:?}: {problem}");
            assert!(problem
                .located()
                .starts_with(&format!("`{}`", path.display())));
            assert!(problem.help.is_some());
        }

        let path = write(
            folder.path(),
            "cases.yaml",
            &format!(
                "rules: demo.rules\ncontext: {CONTEXT}\ncases:\n\
                 - {{name: typo, call: {{direction: incoming, status: mised}}, assignee: null}}\n\
                 - {{call: {{direction: incoming, status: missed}}}}\n\
                 - {{call: {{direction: incoming, status: missed}}, assignee: null, step: last_step_agnet}}\n\
                 - {{call: calls/missing.json, assignee: null}}\n"
            ),
        );
        let file = load(&path).unwrap();
        let problems: Vec<String> = file
            .cases
            .iter()
            .map(|case| {
                let problem = case.call.as_ref().unwrap_err();
                format!("{} / {}", problem.located(), problem.help_text())
            })
            .collect();
        let shown = problems.join("\n");
        assert!(
            shown.contains("case 1 (`typo`): `call` is not valid: status: unknown value `mised`, expected `answered`, `missed` or `voicemail`"),
            "{shown}"
        );
        assert!(
            shown.contains("case 2 (`case 2`): no `assignee`"),
            "{shown}"
        );
        assert!(shown.contains("did you mean `last_step_agent`?"), "{shown}");
        assert!(shown.contains("case 4 (`case 4`): the call `"), "{shown}");
        assert!(
            shown.contains(
                "missing.json` does not exist / paths in a test file are relative to its folder"
            ),
            "{shown}"
        );
    }

    #[test]
    fn a_rule_file_in_error_is_a_problem_with_its_findings() {
        let folder = tempfile::tempdir().unwrap();
        write(
            folder.path(),
            "demo.rules",
            "ruleset demo\nstep call_agnet\nfallback integration\n",
        );
        let path = write(
            folder.path(),
            "demo.yaml",
            &format!("rules: demo.rules\ncontext: {CONTEXT}\ncases: [{{call: {{direction: incoming, status: missed}}, assignee: null}}]\n"),
        );
        let unrunnable = run(&load(&path).unwrap(), &mut Loader::new()).unwrap_err();
        let problem = &unrunnable.problem;
        assert!(
            problem.message.contains("has errors (1 error)"),
            "{problem}"
        );
        assert_eq!(
            unrunnable.findings[0].code(),
            crate::diagnostics::finding::Code::UnknownStep
        );
    }

    #[test]
    fn paths_are_cleaned_lexically() {
        assert_eq!(
            clean_path(Path::new("rules/tests/../hubspot.rules")),
            Path::new("rules/hubspot.rules")
        );
        assert_eq!(clean_path(Path::new("./a/./b")), Path::new("a/b"));
        assert_eq!(clean_path(Path::new("../x")), Path::new("../x"));
        assert_eq!(clean_path(Path::new("a/..")), Path::new("."));
    }
}
