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
//! [`run`] compiles its rules (with their `extends` chain) and decides every
//! case with an [`Evaluator`], explaining each one so a failure can show why.
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
use crate::diagnostics::suggest::did_you_mean;
use crate::files::TextError;
use crate::runtime::batch::InputFormat;
use crate::runtime::cloudtalk;
use crate::runtime::evaluate::{DecidedBy, Evaluator, Outcome, TraceEntry};
use crate::runtime::model::context::{self, MAX_CONTEXT_BYTES};
use crate::runtime::model::{Call, Context, Fact};
use crate::semantics::load::Loader;
use crate::semantics::plan::{Builtin, Fallback, Plan, StepId};

pub mod report;

/// What a test file looks like, in one line, for help texts.
const SHAPE: &str = "a test file has `rules` (a path), `context` (a path or the context itself), optionally `input` (`native` or `cloudtalk`) and `cases`, each with `call`, `assignee` and optionally `name`, `step`, `context` and `input`; see README.md";

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
    /// The step that must decide, when the case says.
    pub step: Option<String>,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.assignee.as_deref().unwrap_or("unassigned"))?;
        if let Some(step) = &self.step {
            write!(f, " by {step}")?;
        }
        Ok(())
    }
}

/// Something wrong with a test file: which file and case, what, and how to
/// fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// The case's number and name, for a problem with one case.
    pub case: Option<(usize, String)>,
    pub message: String,
    pub help: String,
}

impl Problem {
    fn new(file: &Path, message: impl Into<String>, help: impl Into<String>) -> Problem {
        Problem {
            file: file.to_path_buf(),
            case: None,
            message: message.into(),
            help: help.into(),
        }
    }

    fn in_case(mut self, number: usize, name: &str) -> Problem {
        self.case = Some((number, name.to_string()));
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.file.display())?;
        if let Some((number, name)) = &self.case {
            write!(f, ", case {number} (`{name}`)")?;
        }
        write!(f, ": {}", self.message)
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
    pub undecided_steps: Vec<(String, String)>,
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
    /// As rule files name it: `contact_owner`, `user "ops@acme.com"`.
    pub actual_step: String,
    /// Where the call's fields came from (CloudTalk records only).
    pub facts: Vec<Fact>,
    pub trace: Vec<TraceEntry>,
}

/// A rule-test file: calls, each with the assignee a rule file must give it.
#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawFile {
    /// The rule file under test, relative to this file.
    rules: String,
    /// The integration context: a path (relative to this file) or the context itself.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "crate::runtime::model::schema::PathOr<Context>")
    )]
    context: serde_yaml::Value,
    /// What the calls are: `native` (the default) or `cloudtalk` records;
    /// a case may say otherwise.
    #[serde(default)]
    input: InputFormat,
    cases: Vec<RawCase>,
}

/// One case: a call and what the rules must decide for it.
#[derive(Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "Case")
)]
#[serde(deny_unknown_fields)]
struct RawCase {
    /// What the case proves; `--filter` matches it.
    #[serde(default)]
    name: Option<String>,
    /// The call: written inline, or a `.json`/`.yaml` file relative to this file.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "crate::runtime::model::schema::PathOr<Call<'static>>")
    )]
    call: serde_yaml::Value,
    /// A context for this case only, replacing the file's.
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::runtime::model::schema::PathOr<Context>>")
    )]
    context: Option<serde_yaml::Value>,
    /// `native` or `cloudtalk`: what this case's call is, when not the file's.
    #[serde(default)]
    input: Option<InputFormat>,
    /// The integration user id the call must go to, or null: it must stay unassigned.
    // Absent (`None`) is an error; `null` (`Some(None)`) means unassigned.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "schema", schemars(schema_with = "assignee_schema"))]
    assignee: Option<Option<String>>,
    /// The step that must decide.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "step_schema"))]
    step: Option<String>,
}

fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// Why a case's expectation can never be met, whatever the rules do: an
/// `assignee` that is no user of the context (or an e-mail where an id is
/// expected), or a `step` the plan does not contain. `(message, help)`.
fn expectation_problem(
    expected: &Expected,
    context: &Context,
    plan: &Plan,
) -> Option<(String, String)> {
    if let Some(assignee) = &expected.assignee {
        let ids = || context.users.iter().map(|user| user.id.as_str());
        if !ids().any(|id| id.trim() == assignee.trim()) {
            let by_email = context.users.iter().find(|user| {
                user.email.as_deref().is_some_and(|email| {
                    crate::runtime::model::context::normalize_email(email)
                        == crate::runtime::model::context::normalize_email(assignee)
                })
            });
            return Some(match by_email {
                Some(user) => (
                    format!("`assignee: {assignee}` is an e-mail; `assignee` takes the integration user's id"),
                    format!("write `assignee: {}`", user.id),
                ),
                None => (
                    format!("`assignee: {assignee}` is no user of the context"),
                    match did_you_mean(assignee, ids()) {
                        Some(suggestion) => format!("did you mean `{suggestion}`?"),
                        None => "`assignee` is the id of one of the context's `users`, or `null` for a call that stays unassigned".to_string(),
                    },
                ),
            });
        }
    }
    let step = expected.step.as_deref()?;
    let user_steps = || {
        plan.steps
            .iter()
            .filter_map(|step| match &step.step {
                StepId::User(email) => Some(email.as_str()),
                StepId::Builtin(_) => None,
            })
            .chain(match &plan.fallback.fallback {
                Fallback::User(email) => Some(email.as_str()),
                _ => None,
            })
    };
    let in_plan = match fixed_user(step) {
        Some(address) => user_steps().any(|email| {
            crate::runtime::model::context::normalize_email(email)
                == crate::runtime::model::context::normalize_email(address)
        }),
        None => match step {
            "user" => user_steps().next().is_some(),
            "integration_fallback" => plan.fallback.fallback == Fallback::Integration,
            "unassigned" => plan.fallback.fallback == Fallback::Unassigned,
            builtin => plan
                .steps
                .iter()
                .any(|planned| planned.step.to_string() == builtin),
        },
    };
    (!in_plan).then(|| {
        (
            format!("`step: {step}` is not a step of the plan `{}`", plan.name),
            "run `callassign plan` on the rules to see its steps".to_string(),
        )
    })
}

/// The address of an expected `step: user "ops@acme.com"`.
fn fixed_user(step: &str) -> Option<&str> {
    step.strip_prefix(crate::runtime::evaluate::USER_STEP)?
        .trim_start()
        .strip_prefix('"')?
        .strip_suffix('"')
}

/// Whether the step a case expects is the one that decided: a bare `user`
/// is any fixed user; `user "…"` that one (addresses compare as matching
/// does, trimmed and in any case).
fn step_matches(expected: &str, actual: DecidedBy<'_>) -> bool {
    match (fixed_user(expected), actual.user()) {
        (Some(expected), Some(actual)) => {
            crate::runtime::model::context::normalize_email(expected)
                == crate::runtime::model::context::normalize_email(actual)
        }
        (Some(_), None) => false,
        (None, _) => expected == actual.name(),
    }
}

/// Step names an assignment can carry.
fn step_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Builtin::ALL.iter().map(|step| step.name()).collect();
    names.extend([
        crate::runtime::evaluate::USER_STEP,
        DecidedBy::IntegrationFallback.name(),
        DecidedBy::Unassigned.name(),
    ]);
    names
}

/// The schema of a rule-test file (see [`crate::runtime::model::schema`]).
#[cfg(feature = "schema")]
pub fn schema() -> String {
    use crate::runtime::model::schema::{document, text};
    let mut schema = document::<RawFile>("callassign rule tests");
    // An inline call without `id` gets the case's name.
    if let Some(required) = schema
        .pointer_mut("/definitions/Call/required")
        .and_then(|required| required.as_array_mut())
    {
        required.retain(|field| field != "id");
    }
    // `assignee` has a serde default only to tell absent from `null`;
    // absent is an error.
    if let Some(required) = schema
        .pointer_mut("/definitions/Case/required")
        .and_then(|required| required.as_array_mut())
    {
        required.push("assignee".into());
    }
    // A case's call is a native call unless the case, or else the file,
    // says `input: cloudtalk`: then it is a CloudTalk record, which has a
    // shape of its own. So the case accepts any object as its call, and
    // the native shape is required where the input is native.
    let native_call = schema
        .pointer_mut("/definitions/Case/properties/call")
        .map(|call| {
            std::mem::replace(
                call,
                serde_json::json!({
                    "description": "The call: written inline, or a `.json`/`.yaml` file relative to this file. A CloudTalk record with `input: cloudtalk`.",
                    "anyOf": [{"type": "string"}, {"type": "object"}],
                }),
            )
        });
    if let Some(native_call) = native_call {
        let says = |input: &str| serde_json::json!({"required": ["input"], "properties": {"input": {"const": input}}});
        let native_case = serde_json::json!({"properties": {"call": native_call}});
        schema.insert("if".into(), says("cloudtalk"));
        schema.insert(
            "then".into(),
            serde_json::json!({"properties": {"cases": {"items": {"if": says("native"), "then": native_case}}}}),
        );
        schema.insert(
            "else".into(),
            serde_json::json!({"properties": {"cases": {"items": {"if": says("cloudtalk"), "else": native_case}}}}),
        );
    }
    text(&schema)
}

/// `assignee` must be written, but may be `null`.
#[cfg(feature = "schema")]
fn assignee_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "The integration user id the call must go to, or null: it must stay unassigned.",
        "type": ["string", "null"]
    })
}

/// `step` takes the names an assignment can carry.
#[cfg(feature = "schema")]
fn step_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let mut names: Vec<serde_json::Value> = step_names().into_iter().map(Into::into).collect();
    names.push(serde_json::Value::Null);
    schemars::json_schema!({"type": ["string", "null"], "enum": names})
}

/// Reads a test file and everything it names except the rules, which
/// [`run`] compiles.
pub fn load(path: &Path) -> Result<TestFile, Problem> {
    let text = read_text(path, path, "test file")?;
    from_text(path, &text)
}

/// Reads a test file's text as if it were at `path` (which its paths are
/// relative to), and everything it names except the rules.
pub fn from_text(path: &Path, text: &str) -> Result<TestFile, Problem> {
    let raw: RawFile = crate::files::yaml::from_str(text)
        .map_err(|error| Problem::new(path, format!("not a valid test file: {error}"), SHAPE))?;
    let folder = path.parent().unwrap_or(Path::new(""));
    let rules = clean_path(&folder.join(&raw.rules));
    let context = load_context(path, folder, raw.context)?;
    let context_of_file = &context;
    if raw.cases.is_empty() {
        return Err(Problem::new(
            path,
            "`cases` is empty",
            "add at least one case: a `call` and the `assignee` it must get",
        ));
    }
    let known_steps = step_names();
    let cases = raw
        .cases
        .into_iter()
        .enumerate()
        .map(|(index, raw_case)| {
            let number = index + 1;
            let name = raw_case
                .name
                .clone()
                .unwrap_or_else(|| format!("case {number}"));
            let mut context = None;
            let mut facts = Vec::new();
            let call = raw_case
                .context
                .map(|value| load_context(path, folder, value))
                .transpose()
                .and_then(|own| {
                    let input = raw_case.input.unwrap_or(raw.input);
                    let call = match input {
                        InputFormat::Native => load_call(path, folder, raw_case.call, &name),
                        InputFormat::CloudTalk => load_record(
                            path,
                            folder,
                            raw_case.call,
                            own.as_ref().unwrap_or(context_of_file),
                        )
                        .map(|record| {
                            facts = record.facts;
                            record.call
                        }),
                    };
                    context = own;
                    call
                })
                .and_then(|call| {
                    if raw_case.assignee.is_none() {
                        return Err(Problem::new(
                            path,
                            "no `assignee`",
                            "write the integration user id the call must go to, or `assignee: null` for a call that must stay unassigned",
                        ));
                    }
                    match &raw_case.step {
                        Some(step)
                            if !known_steps.contains(&step.as_str())
                                && fixed_user(step).is_none() =>
                        {
                            let help = match did_you_mean(step, known_steps.iter().copied()) {
                                Some(suggestion) => format!("did you mean `{suggestion}`?"),
                                None => format!("a step is one of `{}`, or a fixed user: `user \"ops@acme.com\"`", known_steps.join("`, `")),
                            };
                            Err(Problem::new(path, format!("`step: {step}` is not a step name"), help))
                        }
                        _ => Ok(call),
                    }
                })
                .map_err(|problem| problem.in_case(number, &name));
            Case {
                number,
                name,
                call,
                facts,
                context,
                expected: Expected {
                    assignee: raw_case.assignee.flatten(),
                    step: raw_case.step,
                },
            }
        })
        .collect();
    Ok(TestFile {
        path: path.to_path_buf(),
        rules,
        context,
        cases,
    })
}

fn load_context(path: &Path, folder: &Path, value: serde_yaml::Value) -> Result<Context, Problem> {
    let context_help = context::SHAPE_HELP;
    let first_problem = |problems: Vec<context::ContextProblem>| {
        let problem = problems.into_iter().next().expect("at least one problem");
        Problem::new(
            path,
            format!("the context is not usable: {}", problem.message),
            problem.help,
        )
    };
    match value {
        serde_yaml::Value::String(relative) => {
            let context_path = clean_path(&folder.join(&relative));
            let text = read_text(path, &context_path, "context")?;
            let mut context = Context::from_yaml(&text).map_err(|error| {
                Problem::new(
                    path,
                    format!(
                        "the context `{}` is not valid: {}",
                        context_path.display(),
                        context::describe_yaml_error(&error)
                    ),
                    context_help,
                )
            })?;
            context
                .resolve(context_path.parent().unwrap_or(Path::new("")))
                .map_err(first_problem)?;
            Ok(context)
        }
        value @ serde_yaml::Value::Mapping(_) => {
            let mut context = reread(&value, Context::from_yaml).map_err(|error| {
                Problem::new(
                    path,
                    format!("`context` is not valid: {error}"),
                    context_help,
                )
            })?;
            context.resolve(folder).map_err(first_problem)?;
            Ok(context)
        }
        _ => Err(Problem::new(
            path,
            "`context` is neither a path nor a mapping",
            "name a context file (`context: hubspot.context.yaml`) or write it inline",
        )),
    }
}

/// Reads a case's CloudTalk record: inline, or a `.json` file holding one.
fn load_record(
    path: &Path,
    folder: &Path,
    value: serde_yaml::Value,
    context: &Context,
) -> Result<cloudtalk::Record, Problem> {
    let help = "with `input: cloudtalk`, `call` is one CloudTalk call-history item or call-detail record, inline or as a `.json` file";
    let record = match value {
        serde_yaml::Value::String(relative) => {
            let record_path = clean_path(&folder.join(&relative));
            let text = read_text(path, &record_path, "call")?;
            let invalid = |error: String| {
                Problem::new(
                    path,
                    format!("the call `{}` is not valid: {error}", record_path.display()),
                    help,
                )
            };
            let mut records =
                cloudtalk::read_document(&text, context).map_err(|error| invalid(error.message))?;
            if records.len() != 1 {
                return Err(invalid(format!(
                    "it holds {} records, and a case takes one",
                    records.len()
                )));
            }
            records.remove(0).map_err(invalid)?
        }
        value @ serde_yaml::Value::Mapping(_) => {
            let json = serde_json::to_value(&value).map_err(|error| {
                Problem::new(path, format!("`call` is not valid: {error}"), help)
            })?;
            cloudtalk::read_value(&json, context).map_err(|error| {
                Problem::new(path, format!("`call` is not valid: {error}"), help)
            })?
        }
        _ => {
            return Err(Problem::new(
                path,
                "`call` is neither a path nor a mapping",
                help,
            ))
        }
    };
    Ok(record)
}

fn load_call(
    path: &Path,
    folder: &Path,
    value: serde_yaml::Value,
    name: &str,
) -> Result<Call<'static>, Problem> {
    let call_help = "a call has `direction`, `status` and optionally `agent`, `flow`, `contact`, `tags` and the other fields of README.md";
    match value {
        serde_yaml::Value::String(relative) => {
            let call_path = clean_path(&folder.join(&relative));
            let text = read_text(path, &call_path, "call")?;
            let is_json = call_path
                .extension()
                .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
            let call = if is_json {
                Call::from_json(&text)
                    .map(Call::into_owned)
                    .map_err(|error| error.to_string())
            } else {
                Call::from_yaml(&text).map_err(|error| error.to_string())
            };
            call.map_err(|error| {
                Problem::new(
                    path,
                    format!("the call `{}` is not valid: {error}", call_path.display()),
                    call_help,
                )
            })
        }
        serde_yaml::Value::Mapping(mut mapping) => {
            let id = serde_yaml::Value::String("id".into());
            if !mapping.contains_key(&id) {
                mapping.insert(id, serde_yaml::Value::String(name.to_string()));
            }
            reread(&serde_yaml::Value::Mapping(mapping), Call::from_yaml).map_err(|error| {
                Problem::new(path, format!("`call` is not valid: {error}"), call_help)
            })
        }
        _ => Err(Problem::new(
            path,
            "`call` is neither a path nor a mapping",
            "write the call inline (`call: {direction: incoming, status: missed}`) or name a `.json` or `.yaml` file",
        )),
    }
}

/// Reads an inline value as text, so that an error names the field it is
/// about (`status: unknown variant …`). Its line and column would be those
/// of the re-serialized text, so they are left out.
fn reread<T>(
    value: &serde_yaml::Value,
    read: impl FnOnce(&str) -> Result<T, serde_yaml::Error>,
) -> Result<T, String> {
    let text = serde_yaml::to_string(value).map_err(|error| error.to_string())?;
    read(&text).map_err(|error| {
        let message = error.to_string();
        match message.rfind(" at line ") {
            Some(at) if error.location().is_some() => message[..at].to_string(),
            _ => message,
        }
    })
}

/// Reads a file a test file needs; `what` names it in messages.
fn read_text(test_file: &Path, path: &Path, what: &str) -> Result<String, Problem> {
    let relative_help = if test_file == path {
        "check the path".to_string()
    } else {
        format!(
            "paths in a test file are relative to its folder, `{}`",
            test_file
                .parent()
                .filter(|folder| !folder.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .display()
        )
    };
    crate::files::read_text(path, MAX_CONTEXT_BYTES).map_err(|error| {
        let help = match &error {
            TextError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => relative_help,
            _ => error
                .help()
                .unwrap_or("check the file's permissions")
                .to_string(),
        };
        Problem::new(
            test_file,
            format!("the {what} {}", error.describe(path)),
            help,
        )
    })
}

/// `rules/tests/../hubspot.rules` → `rules/hubspot.rules`, without touching
/// the file system.
fn clean_path(path: &Path) -> PathBuf {
    let mut clean = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(clean.components().next_back(), Some(Component::Normal(_))) =>
            {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    if clean.as_os_str().is_empty() {
        clean.push(".");
    }
    clean
}

impl TestFile {
    /// Keeps only the cases whose name contains `text` (`test --filter`);
    /// returns how many were left out.
    pub fn retain_cases(&mut self, text: &str) -> usize {
        let before = self.cases.len();
        self.cases.retain(|case| case.name.contains(text));
        before - self.cases.len()
    }
}

/// Why a test file could not be run: its rule file cannot be read or has
/// errors.
#[derive(Debug)]
pub struct Unrunnable {
    pub problem: Problem,
    /// The rule file's findings, to show as `check` shows them.
    pub findings: Vec<Finding>,
}

/// Compiles the rules of a test file and runs its cases.
pub fn run(file: &TestFile, loader: &mut Loader) -> Result<FileReport, Box<Unrunnable>> {
    let compiled = crate::compile_with(loader, &file.rules).map_err(|error| {
        let message = match error.kind() {
            std::io::ErrorKind::NotFound => {
                format!("the rule file `{}` does not exist", file.rules.display())
            }
            _ => format!(
                "cannot read the rule file `{}`: {error}",
                file.rules.display()
            ),
        };
        Box::new(Unrunnable {
            problem: Problem::new(
                &file.path,
                message,
                "`rules` is relative to the test file's folder",
            ),
            findings: Vec::new(),
        })
    })?;
    let mut findings = compiled.findings;
    sort_and_dedup(&mut findings);
    let Some(plan) = compiled.plan else {
        let problem = Problem::new(
            &file.path,
            format!(
                "the rule file `{}` has errors ({})",
                file.rules.display(),
                crate::diagnostics::report::summary(&findings)
            ),
            format!(
                "run `callassign check {}` for the full report",
                file.rules.display()
            ),
        );
        return Err(Box::new(Unrunnable { problem, findings }));
    };
    let evaluator = Evaluator::new(&plan, &file.context);
    let mut decided: Vec<(String, String)> = Vec::new();
    let results = file
        .cases
        .iter()
        .map(|case| {
            let context = case.context.as_ref().unwrap_or(&file.context);
            let expectation =
                expectation_problem(&case.expected, context, &plan).map(|(message, help)| {
                    Problem::new(&file.path, message, help).in_case(case.number, &case.name)
                });
            let outcome = match (&case.call, expectation) {
                (Err(problem), _) => CaseOutcome::Broken(problem.clone()),
                // A case that can never pass is a problem of the test file,
                // not a failure of the rules.
                (Ok(_), Some(problem)) => CaseOutcome::Broken(problem),
                (Ok(call), None) => {
                    let own_evaluator;
                    let evaluator = match &case.context {
                        Some(context) => {
                            own_evaluator = Evaluator::new(&plan, context);
                            &own_evaluator
                        }
                        None => &evaluator,
                    };
                    let (decision, trace) = evaluator.explain(call);
                    if let Some(entry) = trace.iter().find(|entry| entry.result == Outcome::Decided)
                    {
                        decided.push((entry.step.to_string(), entry.from.to_string()));
                    }
                    let assignee = decision.assignee.map(|user| user.id.as_str());
                    let matches = assignee == case.expected.assignee.as_deref()
                        && case
                            .expected
                            .step
                            .as_deref()
                            .is_none_or(|expected| step_matches(expected, decision.step));
                    if matches {
                        CaseOutcome::Passed
                    } else {
                        CaseOutcome::Failed(Box::new(Mismatch {
                            expected: case.expected.clone(),
                            actual_assignee: decision.assignee.map_or_else(
                                || "unassigned".to_string(),
                                |user| match &user.email {
                                    Some(email) => format!("{} ({email})", user.id),
                                    None => user.id.clone(),
                                },
                            ),
                            actual_id: assignee.map(str::to_string),
                            actual_step: decision.step.label().into_owned(),
                            facts: case.facts.clone(),
                            trace,
                        }))
                    }
                }
            };
            CaseResult {
                number: case.number,
                name: case.name.clone(),
                outcome,
            }
        })
        .collect();
    Ok(FileReport {
        findings,
        results,
        undecided_steps: undecided_steps(&plan, &decided),
    })
}

/// The plan's steps and fallback that decided none of the cases.
fn undecided_steps(plan: &Plan, decided: &[(String, String)]) -> Vec<(String, String)> {
    plan.steps
        .iter()
        .map(|step| (step.step.to_string(), step.origin.short()))
        .chain(std::iter::once((
            format!("fallback {}", plan.fallback.fallback),
            plan.fallback.origin.short(),
        )))
        .filter(|step| !decided.contains(step))
        .collect()
}

/// The test files a path stands for: the file itself, or the `.yaml` and
/// `.yml` files directly in a folder, sorted. Contexts and calls that tests
/// name can live beside them as `*.context.yaml`, or in subfolders.
pub fn test_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !std::fs::metadata(path)?.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut found = Vec::new();
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        let entry_path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let is_yaml = name.ends_with(".yaml") || name.ends_with(".yml");
        let is_context = name.ends_with(".context.yaml") || name.ends_with(".context.yml");
        if is_yaml && !is_context && entry.file_type()?.is_file() {
            found.push(entry_path);
        }
    }
    found.sort();
    Ok(found)
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
                .to_string()
                .starts_with(&format!("`{}`", path.display())));
            assert!(!problem.help.is_empty());
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
                format!("{problem} / {}", problem.help)
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
            unrunnable.findings[0].code,
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
