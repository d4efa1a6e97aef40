//! Reading a rule-test file: its YAML shape, the paths it names (relative
//! to the file), the contexts and calls it holds inline or by path, and
//! every problem named with the file and case.

use super::*;

/// A rule-test file: calls, each with the assignee a rule file must give it.
#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(
    deny_unknown_fields,
    expecting = "a test file: a mapping with `rules`, `context` and `cases`"
)]
pub(super) struct RawFile {
    /// The rule file under test, relative to this file.
    rules: String,
    /// The integration context: a path (relative to this file) or the context itself.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "crate::model::schema::PathOr<Context>")
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
#[serde(
    deny_unknown_fields,
    expecting = "a case: a mapping with `call` and `assignee`"
)]
pub(super) struct RawCase {
    /// What the case proves; `--filter` matches it.
    #[serde(default)]
    name: Option<String>,
    /// The call: written inline, or a `.json`/`.yaml` file relative to this file.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "crate::model::schema::PathOr<Call<'static>>")
    )]
    call: serde_yaml::Value,
    /// A context for this case only, replacing the file's.
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::model::schema::PathOr<Context>>")
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
    /// The step that must decide, as assignment lines name it.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "step_schema"))]
    step: Option<String>,
    /// With `step: user`: the fixed user's address, as assignment lines
    /// write it beside `"step":"user"` (without it, any fixed user).
    #[serde(default)]
    user: Option<String>,
}

pub(super) fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// Step names an assignment can carry.
pub(super) fn step_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Builtin::ALL.iter().map(|step| step.name()).collect();
    names.extend([
        crate::runtime::evaluate::USER_STEP,
        DecidedBy::IntegrationFallback.name(),
        DecidedBy::Unassigned.name(),
    ]);
    names
}

/// What is wrong with a case's `step` and `user`, if anything: `step`
/// takes exactly the names assignment lines carry, and a fixed user's
/// address goes in `user`, as it does on the line. `(message, help)`.
fn step_problem(
    step: Option<&str>,
    user: Option<&str>,
    known_steps: &[&'static str],
) -> Option<(String, String)> {
    let user_step = crate::runtime::evaluate::USER_STEP;
    let Some(step) = step else {
        return user.map(|user| {
            (
                format!("`user: {user}` without `step: user`"),
                format!("write `step: user` beside `user: {user}`, as assignment lines do"),
            )
        });
    };
    if known_steps.contains(&step) {
        return match user {
            Some(user) if step != user_step => Some((
                format!("`user: {user}` goes with `step: user`, not `step: {step}`"),
                "leave `user` out, or write `step: user`".to_string(),
            )),
            _ => None,
        };
    }
    let message = format!("`step: {step}` is not a step name");
    // The rule file's words for a step, which reports show beside its name.
    let fallback = step.strip_prefix("fallback").map(str::trim_start);
    let help = if let Some(address) = fixed_user(step).or_else(|| fallback.and_then(fixed_user)) {
        format!("a fixed user is `step: user`, its address in `user`, as assignment lines write it: `step: user` and `user: {address}`")
    } else if let Some(kind) = fallback.filter(|kind| !kind.is_empty()) {
        let name = match kind {
            "integration" => Some(crate::semantics::plan::Fallback::Integration.step_name()),
            "unassigned" => Some(crate::semantics::plan::Fallback::Unassigned.step_name()),
            _ => None,
        };
        match name {
            Some(name) => format!("the rule file's `fallback {kind}` decides calls as `step: {name}`, the name assignment lines carry"),
            None => format!("a step is one of `{}`", known_steps.join("`, `")),
        }
    } else {
        match did_you_mean(step, known_steps.iter().copied()) {
            Some(suggestion) => format!("did you mean `{suggestion}`?"),
            None => format!(
                "a step is one of `{}` (a fixed user: `step: user`, its address in `user`)",
                known_steps.join("`, `")
            ),
        }
    };
    Some((message, help))
}

/// The schema of a rule-test file (see [`crate::schema`]).
#[cfg(feature = "schema")]
pub(crate) fn schema() -> String {
    use crate::model::schema::{document, text};
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
pub(super) fn assignee_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "The integration user id the call must go to, or null: it must stay unassigned.",
        "type": ["string", "null"]
    })
}

/// `step` takes the names an assignment can carry.
#[cfg(feature = "schema")]
pub(super) fn step_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let mut names: Vec<serde_json::Value> = step_names().into_iter().map(Into::into).collect();
    names.push(serde_json::Value::Null);
    schemars::json_schema!({"type": ["string", "null"], "enum": names})
}

/// Reads a test file and everything it names except the rules, which
/// `run` compiles.
pub fn load(path: &Path) -> Result<TestFile, Problem> {
    let text = read_text(path, path, "test file")?;
    from_text(path, &text)
}

/// Reads a test file's text as if it were at `path` (which its paths are
/// relative to), and everything it names except the rules.
pub fn from_text(path: &Path, text: &str) -> Result<TestFile, Problem> {
    let raw: RawFile = crate::files::yaml::from_str(text)
        .map_err(|error| problem(path, format!("not a valid test file: {error}"), SHAPE))?;
    let folder = path.parent().unwrap_or(Path::new(""));
    let rules = clean_path(&folder.join(&raw.rules));
    let context = load_context(path, folder, raw.context)?;
    let context_of_file = &context;
    if raw.cases.is_empty() {
        return Err(problem(
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
                        InputFormat::Native => load_call(path, folder, raw_case.call, &name)
                            .and_then(|call| refuse_unread_keys(path, call)),
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
                        return Err(problem(
                            path,
                            "no `assignee`",
                            "write the integration user id the call must go to, or `assignee: null` for a call that must stay unassigned",
                        ));
                    }
                    match step_problem(raw_case.step.as_deref(), raw_case.user.as_deref(), &known_steps) {
                        Some((message, help)) => Err(problem(path, message, help)),
                        None => Ok(call),
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
                    user: raw_case.user,
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

pub(super) fn load_context(
    path: &Path,
    folder: &Path,
    value: serde_yaml::Value,
) -> Result<Context, Problem> {
    let context_help = context::SHAPE_HELP;
    let first_problem = |problems: Vec<Problem>| {
        let first = problems.into_iter().next().expect("at least one problem");
        problem(
            path,
            format!("the context is not usable: {}", first.message),
            first.help_text(),
        )
    };
    match value {
        serde_yaml::Value::String(relative) => {
            let context_path = clean_path(&folder.join(&relative));
            let text = read_text(path, &context_path, "context")?;
            let mut context = Context::read_yaml(&text).map_err(|error| {
                problem(
                    path,
                    format!(
                        "the context `{}` is not valid: {}",
                        context_path.display(),
                        context::describe_yaml_error(&error, &text)
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
            let mut context = reread(&value, Context::read_yaml).map_err(|error| {
                problem(
                    path,
                    format!("`context` is not valid: {error}"),
                    context_help,
                )
            })?;
            context.resolve(folder).map_err(first_problem)?;
            Ok(context)
        }
        _ => Err(problem(
            path,
            "`context` is neither a path nor a mapping",
            "name a context file (`context: hubspot.context.yaml`) or write it inline",
        )),
    }
}

/// Reads a case's CloudTalk record: inline, or a `.json` file holding one.
pub(super) fn load_record(
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
                problem(
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
            records.remove(0).map_err(|error| invalid(error.message))?
        }
        value @ serde_yaml::Value::Mapping(_) => {
            let json = serde_json::to_value(&value)
                .map_err(|error| problem(path, format!("`call` is not valid: {error}"), help))?;
            cloudtalk::read_value(&json, context)
                .map_err(|error| problem(path, format!("`call` is not valid: {error}"), help))?
        }
        _ => {
            return Err(problem(
                path,
                "`call` is neither a path nor a mapping",
                help,
            ))
        }
    };
    Ok(record)
}

pub(super) fn load_call(
    path: &Path,
    folder: &Path,
    value: serde_yaml::Value,
    name: &str,
) -> Result<Call<'static>, Problem> {
    let call_help = "a call has `direction`, `status` and optionally `agent`, `flow`, `contact`, `tags` and the other fields `callassign schema call` describes";
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
                problem(
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
            reread(&serde_yaml::Value::Mapping(mapping), Call::read_yaml).map_err(|error| {
                problem(path, format!("`call` is not valid: {error}"), call_help)
            })
        }
        _ => Err(problem(
            path,
            "`call` is neither a path nor a mapping",
            "write the call inline (`call: {direction: incoming, status: missed}`) or name a `.json` or `.yaml` file",
        )),
    }
}

/// A case's call with keys callassign does not read is refused: `eval`
/// would name them in its summary, but a case that passed without them
/// would have tested another call than the one written (`caller:` for
/// `number:`, say). CloudTalk records are exempt, as in `eval`: the
/// vendor adds fields.
pub(super) fn refuse_unread_keys(
    path: &Path,
    call: Call<'static>,
) -> Result<Call<'static>, Problem> {
    let unread: Vec<String> = call
        .unknown_keys
        .iter()
        .map(|key| format!("`{key}`"))
        .chain(
            call.unknown_flow_keys
                .iter()
                .map(|key| format!("`flow[].{key}`")),
        )
        .chain(
            call.unknown_contact_keys
                .iter()
                .map(|key| format!("`contact.{key}`")),
        )
        .collect();
    if unread.is_empty() {
        return Ok(call);
    }
    let (keys, them) = if unread.len() == 1 {
        ("a key", "it")
    } else {
        ("keys", "them")
    };
    Err(problem(
        path,
        format!(
            "`call` has {keys} callassign does not read: {}",
            unread.join(", ")
        ),
        format!("the case would test the call without {them}: remove {them}, or write the field callassign reads (`id`, `direction`, `status`, `agent`, `started_at`, `duration_s`, `number`, `tags`, `flow`, `contact`)"),
    ))
}

/// Reads an inline value as text, so that an error names the field it is
/// about (`status: unknown variant …`). Its line and column would be those
/// of the re-serialized text, so they are left out.
pub(super) fn reread<T>(
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
pub(super) fn read_text(test_file: &Path, path: &Path, what: &str) -> Result<String, Problem> {
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
        problem(
            test_file,
            format!("the {what} {}", error.describe(path)),
            help,
        )
    })
}

/// `rules/tests/../hubspot.rules` → `rules/hubspot.rules`, without touching
/// the file system.
pub(super) fn clean_path(path: &Path) -> PathBuf {
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
