//! JSON Schemas: the committed files under `schema/` are what the types
//! generate, every example file is valid against its schema, and the
//! schemas refuse what callassign refuses.

use std::path::Path;

use serde_json::Value;

use crate::common::{callassign, repo};

const KINDS: [&str; 3] = ["call", "context", "test"];

fn generated(kind: &str) -> String {
    match kind {
        "call" => callassign::schema::call(),
        "context" => callassign::schema::context(),
        "test" => callassign::schema::test(),
        other => unreachable!("{other}"),
    }
}

fn validator(kind: &str) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&generated(kind)).unwrap();
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

/// Reads a JSON or YAML document.
fn document(text: &str) -> Value {
    serde_yaml::from_str(text).expect("YAML or JSON")
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|error| format!("{}: {error}", error.instance_path()))
        .collect()
}

#[test]
fn the_committed_schemas_are_current() {
    for kind in KINDS {
        let path = repo().join(format!("schema/{kind}.schema.json"));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated(kind),
            "schema/{kind}.schema.json is stale: run `callassign schema {kind} > schema/{kind}.schema.json`"
        );
        let printed = callassign(&["schema", kind]);
        assert_eq!(printed.code, 0);
        assert_eq!(printed.stdout, committed, "`callassign schema {kind}`");
    }
}

fn files_in(folder: &Path, suffix: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(suffix))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_file_is_valid_against_its_schema() {
    let mut checked = 0;
    let call = validator("call");
    for name in ["examples/call.json", "examples/call.yaml"] {
        let instance = document(&std::fs::read_to_string(repo().join(name)).unwrap());
        assert_eq!(errors(&call, &instance), Vec::<String>::new(), "{name}");
        checked += 1;
    }
    for (number, line) in std::fs::read_to_string(repo().join("examples/calls.jsonl"))
        .unwrap()
        .lines()
        .enumerate()
    {
        let instance: Value = serde_json::from_str(line).unwrap();
        assert_eq!(
            errors(&call, &instance),
            Vec::<String>::new(),
            "calls.jsonl line {}",
            number + 1
        );
        checked += 1;
    }

    let context = validator("context");
    let contexts = [
        files_in(&repo().join("examples"), ".context.yaml"),
        files_in(&repo().join("examples/cloudtalk"), ".context.yaml"),
        files_in(&repo().join("rules/tests/contexts"), ".yaml"),
    ]
    .concat();
    assert!(contexts.len() >= 3);
    for path in contexts {
        let instance = document(&std::fs::read_to_string(&path).unwrap());
        assert_eq!(
            errors(&context, &instance),
            Vec::<String>::new(),
            "{}",
            path.display()
        );
        checked += 1;
    }

    let test = validator("test");
    let mut tests = files_in(&repo().join("rules/tests"), ".yaml");
    tests.push(repo().join("examples/cloudtalk/hubspot.yaml"));
    assert!(tests.len() >= 7);
    for path in tests {
        let instance = document(&std::fs::read_to_string(&path).unwrap());
        assert_eq!(
            errors(&test, &instance),
            Vec::<String>::new(),
            "{}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked > 12, "{checked}");
}

/// Documents callassign accepts or refuses, and the schema must agree.
#[test]
fn the_schemas_accept_and_refuse_what_callassign_does() {
    let call = validator("call");
    for (text, accepted) in [
        (
            r#"{"id": 7, "direction": "incoming", "status": "missed"}"#,
            true,
        ),
        (
            r#"{"id": "c", "direction": "incoming", "status": "missed", "agent": null, "flow": null, "contact": null, "tags": [1, "vip"], "exporter_field": 1}"#,
            true,
        ),
        (
            r#"{"id": "c", "direction": "incoming", "status": "mised"}"#,
            false,
        ),
        (
            r#"{"id": "c", "direction": "sideways", "status": "missed"}"#,
            false,
        ),
        (r#"{"direction": "incoming", "status": "missed"}"#, false),
        (
            r#"{"id": "c", "direction": "incoming", "status": "missed", "flow": [{"agent": "a@b.c"}]}"#,
            false,
        ),
        (
            r#"{"id": "c", "direction": "incoming", "status": "missed", "duration_s": "long"}"#,
            false,
        ),
    ] {
        let read = callassign::model::Call::from_json(text).is_ok();
        assert_eq!(read, accepted, "callassign on {text}");
        assert_eq!(
            call.is_valid(&document(text)),
            accepted,
            "the schema on {text}"
        );
    }

    let context = validator("context");
    for (text, accepted) in [
        (
            "integration: hubspot\nusers:\n  - {id: 17, email: a@acme.com, active: false}\n",
            true,
        ),
        (
            "users:\n  - {id: hs-3, email: bob@acme.com, activ: false}\n",
            false,
        ),
        ("contact_owners: true\n", false),
        ("user_map:\n  max@acme.sk: 101\n  \"1234\": hs-2\nusers_from: {format: hubspot_owners, path: [a.json, b.json]}\n", true),
        ("users_from: {format: hubspot_owners}\n", false),
        ("users_from: {format: hubspot_owners, path: []}\n", false),
        ("users_from: {format: hubspot, path: a.json}\n", false),
        ("user_map: [max@acme.sk, \"101\"]\n", false),
        ("fallback: nobody\n", false),
        ("users:\n  - {email: a@acme.com}\n", false),
    ] {
        let read = callassign::model::Context::from_yaml(text).is_ok();
        assert_eq!(read, accepted, "callassign on {text}");
        assert_eq!(
            context.is_valid(&document(text)),
            accepted,
            "the schema on {text}"
        );
    }

    let test = validator("test");
    let valid = document("rules: a.rules\ncontext: a.context.yaml\ncases:\n  - name: no id needed inline\n    call: {direction: incoming, status: missed}\n    assignee: null\n    step: integration_fallback\n  - call: call.json\n    assignee: hs-1\n");
    assert_eq!(errors(&test, &valid), Vec::<String>::new());
    // A CloudTalk record is a call of its own shape, where the file or the
    // case says so; elsewhere the call must be native.
    let record = "{Cdr: {id: 1, type: incoming}}";
    for (text, valid) in [
        (format!("rules: a.rules\ncontext: c.yaml\ninput: cloudtalk\ncases:\n  - call: {record}\n    assignee: null\n"), true),
        (format!("rules: a.rules\ncontext: c.yaml\ncases:\n  - call: {record}\n    input: cloudtalk\n    assignee: null\n"), true),
        (format!("rules: a.rules\ncontext: c.yaml\ncases:\n  - call: {record}\n    assignee: null\n"), false),
        (format!("rules: a.rules\ncontext: c.yaml\ninput: cloudtalk\ncases:\n  - call: {record}\n    input: native\n    assignee: null\n"), false),
        ("rules: a.rules\ncontext: c.yaml\ninput: cloudtalk\ncases:\n  - call: {direction: incoming, status: missed}\n    input: native\n    assignee: null\n".to_string(), true),
    ] {
        assert_eq!(test.is_valid(&document(&text)), valid, "{text}");
    }
    for broken in [
        "rules: a.rules\ncontext: a.context.yaml\ncases:\n  - call: call.json\n",
        "rules: a.rules\ncontext: a.context.yaml\ncases:\n  - call: call.json\n    assignee: hs-1\n    step: favourite_agent\n",
        "rules: a.rules\ncontext: a.context.yaml\ncases:\n  - call: call.json\n    assignee: hs-1\n    expected: hs-1\n",
        "rules: a.rules\ncases: []\n",
    ] {
        assert!(!test.is_valid(&document(broken)), "the schema accepts {broken}");
    }
}

#[test]
fn schema_needs_a_known_file_kind() {
    let run = callassign(&["schema", "plan"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("call, context, test"), "{}", run.stderr);
}
