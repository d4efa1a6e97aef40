//! `callassign lsp`: the real binary, spoken to over stdin and stdout as an
//! editor would. Every read has a deadline, so a server that stops
//! answering fails the test instead of hanging it.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::folder;

/// Generous: the test machine is shared and loaded.
const DEADLINE: Duration = Duration::from_secs(60);

struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    /// Notifications read while waiting for something else.
    notifications: Vec<Value>,
    next_id: i64,
}

impl Client {
    fn start(cwd: &Path, initialization_options: Value) -> Client {
        Client::start_with(cwd, &["lsp"], initialization_options)
    }

    fn start_with(cwd: &Path, args: &[&str], initialization_options: Value) -> Client {
        let cache = cwd.join(".cache");
        let mut child = Command::new(env!("CARGO_BIN_EXE_callassign"))
            .args(args)
            .current_dir(cwd)
            .env("XDG_CACHE_HOME", &cache)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        let mut client = Client {
            child,
            stdin,
            incoming,
            notifications: Vec::new(),
            next_id: 0,
        };
        let root = uri(cwd);
        let result = client.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root,
                "capabilities": {},
                "initializationOptions": initialization_options,
            }),
        );
        assert_eq!(result["result"]["serverInfo"]["name"], "callassign");
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: Value) {
        self.send_all(&[message]);
    }

    /// Sends messages in one write, as fast typing would.
    fn send_all(&mut self, messages: &[Value]) {
        let mut frames = String::new();
        for message in messages {
            let body = message.to_string();
            frames += &format!("Content-Length: {}\r\n\r\n{body}", body.len());
        }
        self.stdin
            .write_all(frames.as_bytes())
            .expect("server reads");
        self.stdin.flush().expect("server reads");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn next(&mut self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        self.incoming
            .recv_timeout(left)
            .expect("the server answers before the deadline")
    }

    /// The whole response (`result` or `error`) to a request.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + DEADLINE;
        loop {
            let message = self.next(deadline);
            if message["id"] == json!(id) && message.get("method").is_none() {
                return message;
            }
            self.notifications.push(message);
        }
    }

    /// The `result` of a request that must succeed.
    fn result(&mut self, method: &str, params: Value) -> Value {
        let response = self.request(method, params);
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    /// The codes of the next diagnostics published for `uri`.
    fn codes(&mut self, uri: &str) -> Vec<String> {
        self.diagnostics(uri)
            .iter()
            .map(|diagnostic| diagnostic["code"].as_str().expect("a code").to_string())
            .collect()
    }

    /// The quick fixes offered for `range` of `uri`.
    fn code_actions(&mut self, uri: &str, range: Value) -> Value {
        self.result(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": range, "context": {"diagnostics": []}}),
        )
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let is_for = |message: &Value| {
            message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
        };
        if let Some(index) = self.notifications.iter().position(is_for) {
            let message = self.notifications.remove(index);
            return message["params"]["diagnostics"]
                .as_array()
                .expect("a list")
                .clone();
        }
        let deadline = Instant::now() + DEADLINE;
        loop {
            let message = self.next(deadline);
            if is_for(&message) {
                return message["params"]["diagnostics"]
                    .as_array()
                    .expect("a list")
                    .clone();
            }
            self.notifications.push(message);
        }
    }

    fn open(&mut self, path: &Path, text: &str) -> String {
        let uri = uri(path);
        self.open_uri(&uri, text);
        uri
    }

    /// Opens a document at an address spelled as the test likes.
    fn open_uri(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "callassign", "version": 1, "text": text}}),
        );
    }

    /// Every notification received up to the answer to a request sent now
    /// (the server handles messages in order, so this includes all it sent
    /// for what came before).
    fn drain(&mut self) -> Vec<Value> {
        self.result("textDocument/hover", json!({"textDocument": {"uri": "file:///nowhere.rules"}, "position": {"line": 0, "character": 0}}));
        std::mem::take(&mut self.notifications)
    }

    fn at(&mut self, method: &str, uri: &str, line: u32, character: u32) -> Value {
        self.result(
            method,
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
        )
    }

    /// `shutdown`, `exit`, and the status the server exits with.
    fn shut_down(mut self) -> i32 {
        assert_eq!(self.result("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        self.wait()
    }

    fn wait(mut self) -> i32 {
        drop(self.stdin);
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                return status.code().expect("exited, not killed by a signal");
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the server did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for byte in path.to_str().expect("UTF-8 path").bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

/// The protocol position (UTF-16 columns) of the first `needle` in `text`,
/// computed here independently of the server.
fn position_of(text: &str, needle: &str) -> (u32, u32) {
    let offset = text.find(needle).expect("needle in text");
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..offset].matches('\n').count();
    let character = text[line_start..offset].encode_utf16().count();
    (line as u32, character as u32)
}

fn range_of(text: &str, needle: &str) -> Value {
    let (line, start) = position_of(text, needle);
    let end = start + needle.encode_utf16().count() as u32;
    json!({"start": {"line": line, "character": start}, "end": {"line": line, "character": end}})
}

fn labels(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("completion items")
        .iter()
        .map(|item| item["label"].as_str().expect("a label").to_string())
        .collect()
}

const BASE: &str = "ruleset base\nstep call_agent\nstep last_step_agent\nstep contact_owner\nfallback integration\n";

#[test]
fn diagnostics_on_open_count_utf16_columns_and_clear_after_the_fix() {
    let dir = folder(&[]);
    // `𝄞` is two UTF-16 units, `ë` one: a byte or character count is off.
    let text =
        "ruleset zendesk extends default\nstep user \"𝄞zoë@acme.com\" when status == mised\n";
    let mut client = Client::start(dir.path(), Value::Null);
    let uri = client.open(&dir.path().join("zendesk.rules"), text);

    let diagnostics = client.diagnostics(&uri);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let diagnostic = &diagnostics[0];
    assert_eq!(diagnostic["code"], "callassign::unknown_value");
    assert_eq!(diagnostic["severity"], 1);
    assert_eq!(diagnostic["source"], "callassign");
    assert_eq!(diagnostic["range"], range_of(text, "mised"));
    let message = diagnostic["message"].as_str().unwrap();
    assert!(
        message.starts_with("unknown status `mised`\nhelp: did you mean `missed`?"),
        "{message}"
    );

    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"range": range_of(text, "mised"), "text": "missed"}],
        }),
    );
    assert_eq!(client.diagnostics(&uri), Vec::<Value>::new());
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn a_file_sees_the_unsaved_text_of_the_file_it_extends() {
    let dir = folder(&[("base.rules", BASE)]);
    let leaf = "ruleset team extends base\ndisable favorite_agent\n";
    let mut client = Client::start(dir.path(), Value::Null);
    let leaf_uri = client.open(&dir.path().join("team.rules"), leaf);
    let codes = client.codes(&leaf_uri);
    assert_eq!(codes, ["callassign::unknown_step_reference"]);

    // The base gains the step in the editor, unsaved: the leaf is fine.
    let edited_base = BASE.replace("fallback", "step favorite_agent\nfallback");
    let base_uri = client.open(&dir.path().join("base.rules"), &edited_base);
    assert_eq!(client.diagnostics(&leaf_uri), Vec::<Value>::new());
    assert_eq!(client.diagnostics(&base_uri), Vec::<Value>::new());

    // Broken again in the base, as it is typed: published for the base.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": base_uri, "version": 2}, "contentChanges": [{"text": "ruleset base\nstep favourite_agent\nfallback integration\n"}]}),
    );
    let codes = client.codes(&base_uri);
    assert_eq!(codes, ["callassign::unknown_step"]);

    // Closed unsaved: the disk's base is back, the broken buffer's findings go.
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": base_uri}}),
    );
    assert_eq!(client.diagnostics(&base_uri), Vec::<Value>::new());
    assert_eq!(
        client.codes(&leaf_uri),
        ["callassign::unknown_step_reference"]
    );
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn quick_fixes_apply_the_help() {
    let dir = folder(&[("base.rules", BASE)]);
    let text = "ruleset team extends base.rules\nstep favorite_agent when staus = answered\nstep call_agent\n";
    let mut client = Client::start(dir.path(), Value::Null);
    let uri = client.open(&dir.path().join("team.rules"), text);
    client.diagnostics(&uri);
    let whole = json!({"start": {"line": 0, "character": 0}, "end": {"line": 3, "character": 0}});
    let actions = client.code_actions(&uri, whole);
    let fixes: Vec<(String, Value, String)> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|action| {
            assert_eq!(action["kind"], "quickfix");
            let edit = &action["edit"]["changes"][&uri][0];
            (
                action["title"].as_str().unwrap().to_string(),
                edit["range"].clone(),
                edit["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        (
            "replace with `base`".to_string(),
            range_of(text, "base.rules"),
            "base".to_string(),
        ),
        (
            "replace with `status`".to_string(),
            range_of(text, "staus"),
            "status".to_string(),
        ),
        (
            "replace with `==`".to_string(),
            range_of(text, "="),
            "==".to_string(),
        ),
    ];
    for fix in &expected {
        assert!(fixes.contains(fix), "{fix:?} not among {fixes:?}");
    }
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn a_duplicate_step_is_removed_with_its_line() {
    let dir = folder(&[("base.rules", BASE)]);
    let text = "ruleset team extends base\nstep call_agent\nstep favorite_agent\n";
    let mut client = Client::start(dir.path(), Value::Null);
    let uri = client.open(&dir.path().join("team.rules"), text);
    client.diagnostics(&uri);
    let (line, _) = position_of(text, "step call_agent");
    let actions = client.code_actions(
        &uri,
        json!({"start": {"line": line, "character": 6}, "end": {"line": line, "character": 6}}),
    );
    let action = &actions[0];
    assert_eq!(action["title"], "remove the duplicate step");
    assert_eq!(action["isPreferred"], true);
    let edit = &action["edit"]["changes"][&uri][0];
    assert_eq!(edit["newText"], "");
    assert_eq!(
        edit["range"],
        json!({"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}})
    );
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn completion_offers_what_fits_the_cursor() {
    let dir = folder(&[
        ("base.rules", BASE),
        ("callassign-lsp.json", r#"{"context": "contexts/team.yaml"}"#),
        (
            "contexts/team.yaml",
            "integration: hubspot\nfallback: unassigned\nusers:\n  - {id: u1, email: ops@acme.com}\n  - {id: u2, email: gone@acme.com, active: false}\n",
        ),
    ]);
    let text = "ruleset team extends base\nstep \nmove contact_owner before \nstep favorite_agent when status == \nstep user \"\ndisable contact_owner\n";
    let mut client = Client::start(dir.path(), Value::Null);
    let uri = client.open(&dir.path().join("team.rules"), text);
    let line_end = |line: u32| {
        text.lines()
            .nth(line as usize)
            .unwrap()
            .encode_utf16()
            .count() as u32
    };

    let steps = labels(&client.at("textDocument/completion", &uri, 1, line_end(1)));
    assert_eq!(
        steps,
        [
            "call_agent",
            "last_step_agent",
            "voicemail_email",
            "contact_owner",
            "favorite_agent",
            "user"
        ]
    );
    // What the base's plan holds, then the fallback.
    let anchors = labels(&client.at("textDocument/completion", &uri, 2, line_end(2)));
    assert_eq!(
        anchors,
        ["call_agent", "last_step_agent", "contact_owner", "fallback"]
    );
    let values = labels(&client.at("textDocument/completion", &uri, 3, line_end(3)));
    assert_eq!(values, ["answered", "missed", "voicemail"]);
    let fields = labels(&client.at("textDocument/completion", &uri, 3, 25));
    assert!(
        fields.contains(&"contact.owner".to_string()) && fields.contains(&"last_step".to_string()),
        "{fields:?}"
    );
    // Active users of the context the folder's settings name.
    let emails = labels(&client.at("textDocument/completion", &uri, 4, line_end(4)));
    assert_eq!(emails, ["ops@acme.com"]);
    let keywords = labels(&client.at("textDocument/completion", &uri, 6, 0));
    assert_eq!(keywords, ["step", "disable", "move", "fallback"]);
    assert_eq!(client.shut_down(), 0);
}

/// Every item replaces exactly the address inside the quotes or the whole
/// dotted field (an editor's own idea of the word, `ac` in `bob@ac`, would
/// throw them all away); inside a comment nothing.
#[test]
fn completion_items_say_what_they_replace_and_comments_get_none() {
    let dir = folder(&[(
        "team.context.yaml",
        "integration: hubspot\nfallback: unassigned\nusers:\n  - {id: u1, email: bob@acme.com}\n",
    )]);
    let options = json!({"context": dir.path().join("team.context.yaml")});
    let mut client = Client::start(dir.path(), options);
    let text = "ruleset team\nstep user \"bob@ac\"\nstep call_agent when contact.ow and é == 1\nstep call_agent # note: \n# step \n";
    let uri = client.open(&dir.path().join("team.rules"), text);
    let end_of = |needle: &str| {
        let (line, character) = position_of(text, needle);
        (line, character + needle.encode_utf16().count() as u32)
    };

    let (line, character) = end_of("bob@ac");
    let items = client.at("textDocument/completion", &uri, line, character);
    assert_eq!(labels(&items), ["bob@acme.com"]);
    assert_eq!(
        items[0]["textEdit"],
        json!({"range": range_of(text, "bob@ac"), "newText": "bob@acme.com"})
    );

    let (line, character) = end_of("contact.ow");
    let items = client.at("textDocument/completion", &uri, line, character);
    let owner = items
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["label"] == "contact.owner")
        .expect("contact.owner offered");
    assert_eq!(
        owner["textEdit"],
        json!({"range": range_of(text, "contact.ow"), "newText": "contact.owner"})
    );
    assert_eq!(owner["filterText"], "contact.owner");
    // Every item of one answer replaces the same text.
    for item in items.as_array().unwrap() {
        assert_eq!(
            item["textEdit"]["range"],
            range_of(text, "contact.ow"),
            "{item}"
        );
    }

    for comment in ["# note: ", "# step "] {
        let (line, character) = end_of(comment);
        let items = client.at("textDocument/completion", &uri, line, character);
        assert_eq!(items, json!([]), "in `{comment}`");
    }
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn completion_takes_the_context_from_initialization_options() {
    let dir = folder(&[(
        "team.context.yaml",
        "integration: hubspot\nfallback: unassigned\nusers:\n  - {id: u1, email: lead@acme.com}\n",
    )]);
    let options = json!({"context": dir.path().join("team.context.yaml")});
    let mut client = Client::start(dir.path(), options);
    let text = "ruleset team\nfallback user \"";
    let uri = client.open(&dir.path().join("team.rules"), text);
    assert_eq!(
        labels(&client.at("textDocument/completion", &uri, 1, 15)),
        ["lead@acme.com"]
    );
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn hover_explains_steps_fields_and_what_a_file_extends() {
    let dir = folder(&[("base.rules", BASE)]);
    let text = "ruleset team extends base\nmove contact_owner before last_step_agent\nstep favorite_agent when duration > 30\n";
    let mut client = Client::start(dir.path(), Value::Null);
    let uri = client.open(&dir.path().join("team.rules"), text);
    let hover = |client: &mut Client, needle: &str| {
        let (line, character) = position_of(text, needle);
        client.at("textDocument/hover", &uri, line, character + 1)["contents"]["value"]
            .as_str()
            .expect("a hover")
            .to_string()
    };
    let moved = hover(&mut client, "contact_owner");
    assert!(
        moved.starts_with("step `contact_owner`: decides when the integration has contact owners"),
        "{moved}"
    );
    assert!(
        moved.ends_with("added by `base.rules`, line 4: `step contact_owner`"),
        "{moved}"
    );
    let plan = hover(&mut client, "base");
    assert!(
        plan.contains("1. call_agent") && plan.contains("fallback integration"),
        "{plan}"
    );
    let field = hover(&mut client, "duration");
    assert!(
        field.starts_with("field `duration`: whole seconds"),
        "{field}"
    );
    // Nothing to say about a keyword.
    assert_eq!(client.at("textDocument/hover", &uri, 1, 1), Value::Null);
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn definition_goes_to_the_base_file_and_to_the_statement_that_added_a_step() {
    let dir = folder(&[("base.rules", BASE)]);
    let text = "ruleset team extends base\ndisable last_step_agent\n";
    let mut client = Client::start(dir.path(), Value::Null);
    let uri = client.open(&dir.path().join("team.rules"), text);
    let base_uri = uri.replace("team.rules", "base.rules");

    let base = client.at("textDocument/definition", &uri, 0, 23);
    assert_eq!(base["uri"], base_uri.as_str());
    assert_eq!(base["range"], range_of(BASE, "base"));
    let step = client.at("textDocument/definition", &uri, 1, 10);
    assert_eq!(step["uri"], base_uri.as_str());
    assert_eq!(step["range"], range_of(BASE, "step last_step_agent"));
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn definition_of_the_built_in_default_opens_a_read_only_copy() {
    let dir = folder(&[]);
    let text = "ruleset team extends default\ndisable contact_owner\n";
    let mut client = Client::start(dir.path(), Value::Null);
    let uri = client.open(&dir.path().join("team.rules"), text);
    assert_eq!(client.diagnostics(&uri), Vec::<Value>::new());

    let location = client.at("textDocument/definition", &uri, 0, 24);
    let target = location["uri"]
        .as_str()
        .unwrap()
        .strip_prefix("file://")
        .unwrap()
        .to_string();
    let copy = std::fs::read_to_string(&target).expect("the copy exists");
    let shipped =
        std::fs::read_to_string(crate::common::repo().join("rules/default.rules")).unwrap();
    assert_eq!(copy, shipped);
    assert!(std::fs::metadata(&target).unwrap().permissions().readonly());
    let step = client.at("textDocument/definition", &uri, 1, 10);
    assert_eq!(step["uri"], location["uri"]);
    assert_eq!(step["range"], range_of(&shipped, "step contact_owner"));
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn formatting_gives_the_fmt_layout_and_nothing_for_a_file_that_does_not_parse() {
    let dir = folder(&[]);
    let messy = "ruleset team   # ours\nstep  call_agent unless direction==incoming\n\n\n\nfallback   integration";
    let mut client = Client::start(dir.path(), Value::Null);
    let uri = client.open(&dir.path().join("team.rules"), messy);
    let options = json!({"tabSize": 4, "insertSpaces": true});
    let edits = client.result(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": options}),
    );
    // The same text as `fmt` gives for the same file on disk.
    std::fs::write(dir.path().join("team.rules"), messy).unwrap();
    let fmt = crate::common::callassign_in(dir.path(), &["fmt", "--stdout", "team.rules"], b"");
    assert_eq!(fmt.code, 0, "{}", fmt.stderr);
    let expected = fmt.stdout;
    assert_eq!(edits[0]["newText"], expected.as_str());
    assert_eq!(
        edits[0]["range"]["start"],
        json!({"line": 0, "character": 0})
    );
    assert_eq!(
        edits[0]["range"]["end"],
        json!({"line": 5, "character": "fallback   integration".len()})
    );

    let broken = client.open(
        &dir.path().join("broken.rules"),
        "ruleset broken\nstep call_agent when (\n",
    );
    let refused = client.result(
        "textDocument/formatting",
        json!({"textDocument": {"uri": broken}, "options": options}),
    );
    assert_eq!(refused, Value::Null);
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn document_symbols_are_one_per_statement() {
    let dir = folder(&[("base.rules", BASE)]);
    let text = "ruleset team extends base\n# comment\nstep user \"ops@acme.com\" when \"vip\" in tags\nmove user \"ops@acme.com\" first\ndisable contact_owner\nfallback unassigned\n";
    let mut client = Client::start(dir.path(), Value::Null);
    let uri = client.open(&dir.path().join("team.rules"), text);
    let symbols = client.result(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "step user \"ops@acme.com\" when \"vip\" in tags",
            "move user \"ops@acme.com\" first",
            "disable contact_owner",
            "fallback unassigned",
        ]
    );
    assert_eq!(symbols[2]["range"], range_of(text, "disable contact_owner"));
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn exit_without_shutdown_is_status_1() {
    let dir = folder(&[]);
    // `--stdio` is what VS Code's client adds.
    let mut client = Client::start_with(dir.path(), &["lsp", "--stdio"], Value::Null);
    client.notify("exit", Value::Null);
    assert_eq!(client.wait(), 1);
}

#[test]
fn bad_input_is_answered_or_ignored_never_a_crash() {
    let dir = folder(&[]);
    // Not UTF-8 on disk, extended by an open file.
    std::fs::write(
        dir.path().join("latin.rules"),
        b"ruleset latin\n# caf\xe9\nfallback integration\n",
    )
    .unwrap();
    let mut client = Client::start(dir.path(), Value::Null);

    let deep = format!(
        "ruleset deep\nstep call_agent when {}status == missed{}\nfallback integration\n",
        "(".repeat(200_000),
        ")".repeat(200_000)
    );
    let deep_uri = client.open(&dir.path().join("deep.rules"), &deep);
    let codes = client.codes(&deep_uri);
    assert_eq!(codes, ["callassign::nesting_too_deep"]);
    for method in [
        "textDocument/hover",
        "textDocument/completion",
        "textDocument/definition",
    ] {
        client.at(method, &deep_uri, 1, 100_000);
        // Far past the end of the line and of the file.
        client.at(method, &deep_uri, 1, u32::MAX);
        client.at(method, &deep_uri, 999_999, 5);
    }
    client.result(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": deep_uri}}),
    );
    client.result(
        "textDocument/formatting",
        json!({"textDocument": {"uri": deep_uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );

    // A change with a range past the end is clamped, not refused.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": deep_uri, "version": 2}, "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 99, "character": 99}}, "text": "ruleset deep\nfallback integration\n"}]}),
    );
    assert_eq!(client.diagnostics(&deep_uri), Vec::<Value>::new());

    let leaf = client.open(
        &dir.path().join("team.rules"),
        "ruleset team extends latin\n",
    );
    let latin_uri = leaf.replace("team.rules", "latin.rules");
    let codes = client.codes(&latin_uri);
    assert_eq!(codes, ["callassign::not_utf8"]);

    // Words right after a character of more than one byte.
    let accents = "ruleset accents\nstep call_agent when éduration > 1 and 𝄞status == missed\n";
    let accents_uri = client.open(&dir.path().join("accents.rules"), accents);
    for needle in ["éduration", "duration", "𝄞status", "status"] {
        let (line, character) = position_of(accents, needle);
        for method in [
            "textDocument/hover",
            "textDocument/completion",
            "textDocument/definition",
        ] {
            client.at(method, &accents_uri, line, character);
            client.at(method, &accents_uri, line, character + 1);
        }
    }

    // Never opened: nothing to say.
    let never = uri(&dir.path().join("never.rules"));
    assert_eq!(client.at("textDocument/hover", &never, 0, 0), Value::Null);
    assert_eq!(
        client.at("textDocument/completion", &never, 0, 0),
        Value::Null
    );
    // Neither a file nor an untitled document, and parameters that are
    // not a request's.
    let remote = "https://acme.com/rules/x.rules";
    client.open_uri(remote, "ruleset x\nstep x\n");
    assert_eq!(client.at("textDocument/hover", remote, 1, 6), Value::Null);
    let invalid = client.request("textDocument/hover", json!({"textDocument": 7}));
    assert_eq!(invalid["error"]["code"], -32602);
    assert_eq!(
        invalid["error"]["message"],
        "invalid parameters: invalid type: integer `7`, expected an object"
    );
    let invalid = client.request("textDocument/hover", Value::Null);
    assert_eq!(
        invalid["error"]["message"],
        "invalid parameters: invalid type: null, expected an object"
    );
    let unknown = client.request("textDocument/rename", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);
    client.notify("textDocument/didChange", json!({"bogus": true}));
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn diagnostics_and_hovers_read_as_check_and_the_readme_say() {
    let dir = folder(&[("base.rules", BASE)]);
    let text = "ruleset team extends base\nmove contact_owner before last_step_agent\nstep favorite_agent when direction = incoming and last_step == voicemial\nstep call_agent\n";
    let mut client = Client::start(dir.path(), Value::Null);
    let uri = client.open(&dir.path().join("team.rules"), text);
    let mut report = String::new();
    for diagnostic in client.diagnostics(&uri) {
        let start = &diagnostic["range"]["start"];
        report.push_str(&format!(
            "{}:{} {} [{}] {}\n",
            start["line"],
            start["character"],
            diagnostic["severity"],
            diagnostic["code"].as_str().unwrap(),
            diagnostic["message"].as_str().unwrap()
        ));
    }
    for needle in [
        "base",
        "contact_owner",
        "last_step_agent",
        "direction",
        "voicemial",
    ] {
        let (line, character) = position_of(text, needle);
        let hover = client.at("textDocument/hover", &uri, line, character);
        report.push_str(&format!(
            "\nhover on `{needle}`:\n{}\n",
            hover["contents"]["value"].as_str().unwrap_or("(none)")
        ));
    }
    insta::assert_snapshot!(report);
    assert_eq!(client.shut_down(), 0);
}

#[cfg(unix)]
#[test]
fn the_read_only_copy_never_writes_through_a_link_planted_in_the_cache() {
    let dir = folder(&[("victim.txt", "keep me\n")]);
    let cached = dir
        .path()
        .join(".cache/callassign")
        .join(env!("CARGO_PKG_VERSION"))
        .join("built-in");
    std::fs::create_dir_all(&cached).unwrap();
    std::os::unix::fs::symlink(dir.path().join("victim.txt"), cached.join("default.rules"))
        .unwrap();
    let mut client = Client::start(dir.path(), Value::Null);
    let uri = client.open(
        &dir.path().join("team.rules"),
        "ruleset team extends default\n",
    );
    let location = client.at("textDocument/definition", &uri, 0, 24);
    assert!(location["uri"]
        .as_str()
        .unwrap()
        .ends_with("built-in/default.rules"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("victim.txt")).unwrap(),
        "keep me\n"
    );
    assert!(!std::fs::symlink_metadata(cached.join("default.rules"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn a_message_claiming_a_huge_length_ends_the_session_with_a_message_not_an_abort() {
    let frame = |body: &str| format!("Content-Length: {}\r\n\r\n{body}", body.len());
    let mut input =
        frame(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#);
    input += &frame(r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#);
    input += "Content-Length: 99999999999\r\n\r\n{}";
    let dir = folder(&[]);
    let run = crate::common::callassign_in(dir.path(), &["lsp"], input.as_bytes());
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("a message of 99999999999 bytes is over the"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_body_that_is_not_json_rpc_gets_an_error_response_and_the_session_goes_on() {
    let frame = |body: &str| format!("Content-Length: {}\r\n\r\n{body}", body.len());
    let mut input =
        frame(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#);
    input += &frame(r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#);
    input += &frame("not json");
    input += &frame("[]");
    input += &frame(r#"[{"jsonrpc":"2.0","id":5,"method":"shutdown"}]"#);
    input += &frame(
        r#"{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"file:///x.rules","version":2},"contentChanges":[{"text":"\ud800"}]}}"#,
    );
    // JSON, and an id the client waits on, but no method name.
    input += &frame(r#"{"jsonrpc":"2.0","id":7,"method":42}"#);
    // Ids LSP does not allow (its integers have 32 bits): a client waits on
    // them all the same, so they are answered, not read as notifications.
    input += &frame(r#"{"jsonrpc":"2.0","id":3000000000,"method":"shutdown"}"#);
    input += &frame(r#"{"jsonrpc":"2.0","id":1.5,"method":"textDocument/hover","params":{}}"#);
    input += &frame(r#"{"jsonrpc":"2.0","id":2,"method":"shutdown"}"#);
    input += &frame(r#"{"jsonrpc":"2.0","method":"exit"}"#);
    let dir = folder(&[]);
    let run = crate::common::callassign_in(dir.path(), &["lsp"], input.as_bytes());
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("ignored a message that is not JSON-RPC"),
        "{}",
        run.stderr
    );
    let mut output = BufReader::new(run.stdout.as_bytes());
    let mut responses = Vec::new();
    while let Some(message) = read_message(&mut output) {
        responses.push(message);
    }
    // JSON-RPC 2.0: a parse error (-32700) or an invalid request (-32600),
    // with the id when one could be read, else `null`; in input order (the
    // reader sends them, so they may come before the answer to `initialize`).
    let errors: Vec<(Value, i64)> = responses
        .iter()
        .filter(|response| response.get("error").is_some())
        .map(|response| {
            assert_eq!(response["jsonrpc"], "2.0", "{response}");
            let message = response["error"]["message"].as_str().expect("a message");
            assert!(!message.is_empty() && !message.ends_with('.'), "{message}");
            (
                response["id"].clone(),
                response["error"]["code"].as_i64().expect("a code"),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (Value::Null, -32700),
            (Value::Null, -32600),
            (Value::Null, -32600),
            (Value::Null, -32700),
            (json!(7), -32600),
            (json!(3000000000u64), -32600),
            (json!(1.5), -32600),
        ]
    );
    // The session went on past the bad bodies.
    let last = responses.last().expect("responses");
    assert_eq!(last["id"], 2);
    assert_eq!(last["result"], Value::Null);
    assert_eq!(responses.len(), errors.len() + 2, "{responses:?}");
}

#[test]
fn odd_but_valid_file_addresses_are_decoded_and_answered_at_the_address_the_editor_used() {
    // A folder whose name needs escaping: a space, a `+`, an `é`.
    let dir = folder(&[("My Rules+é/base.rules", BASE)]);
    let root = uri(dir.path());
    let mut client = Client::start(dir.path(), Value::Null);
    let broken = "step favorite_agent when status == mised\n";
    // Lowercase hex, `+` escaped, an unreserved letter escaped.
    let team = format!("{root}/My%20Rules%2b%c3%a9/te%61m.rules");
    client.open_uri(&team, &format!("ruleset team extends base\n{broken}"));
    // Uppercase hex, `+` as itself.
    let other = format!("{root}/My%20Rules+%C3%A9/other.rules");
    let other_text = format!("ruleset other extends team\n{broken}");
    client.open_uri(&other, &other_text);
    // A host of `localhost`, and no authority at all (`file:/path`).
    let local = format!(
        "{}/My%20Rules+%C3%A9/local.rules",
        root.replacen("file://", "file://localhost", 1)
    );
    client.open_uri(&local, &format!("ruleset local extends base\n{broken}"));
    let bare = format!(
        "{}/My%20Rules+%C3%A9/bare.rules",
        root.replacen("file://", "file:", 1)
    );
    client.open_uri(&bare, &format!("ruleset bare extends base\n{broken}"));

    for address in [&team, &other, &local, &bare] {
        assert_eq!(
            client.codes(address),
            ["callassign::unknown_value"],
            "{address}"
        );
    }
    // Nothing published under another spelling of the same files.
    let published: Vec<String> = client
        .drain()
        .iter()
        .filter(|message| message["method"] == "textDocument/publishDiagnostics")
        .map(|message| message["params"]["uri"].as_str().unwrap().to_string())
        .collect();
    for address in &published {
        assert!(
            [&team, &other, &local, &bare].contains(&address),
            "{address}"
        );
    }
    // Definition into an open document: the address the editor opened it at.
    let (line, character) = position_of(&other_text, "team");
    let location = client.at("textDocument/definition", &other, line, character);
    assert_eq!(location["uri"], team.as_str());
    // Into a file on disk: a canonical `file:` address of the same file.
    let location = client.at("textDocument/definition", &team, 0, 23);
    let base = location["uri"].as_str().unwrap();
    assert!(base.ends_with("/My%20Rules%2B%C3%A9/base.rules"), "{base}");
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn untitled_documents_are_checked_on_their_own() {
    let dir = folder(&[("base.rules", BASE)]);
    let mut client = Client::start(dir.path(), Value::Null);
    // Any ruleset name: an unsaved document has no file name to match.
    let scratch = "untitled:Untitled-1";
    let text = "ruleset scratch extends default\nstep user \"ops@acme.com\" when status == mised\n";
    client.open_uri(scratch, text);
    assert_eq!(client.codes(scratch), ["callassign::unknown_value"]);
    let (line, character) = position_of(text, "default");
    let plan = client.at("textDocument/hover", scratch, line, character)["contents"]["value"]
        .as_str()
        .expect("a hover")
        .to_string();
    assert!(plan.contains("1. call_agent"), "{plan}");
    let (line, character) = position_of(text, "mised");
    let values = labels(&client.at("textDocument/completion", scratch, line, character));
    assert!(values.contains(&"missed".to_string()), "{values:?}");

    // Only the built-in default is within reach: not the files of the
    // folder the server runs in, which the document is not saved in.
    let other = "untitled:Untitled-2";
    client.open_uri(other, "ruleset scratch extends base\n");
    let diagnostics = client.diagnostics(other);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["code"], "callassign::missing_extends");
    let message = diagnostics[0]["message"].as_str().unwrap();
    assert!(
        message.contains("save the document beside `base.rules`"),
        "{message}"
    );

    // The address the Neovim configuration gives a buffer with no file.
    let neovim = "untitled://callassign/7";
    client.open_uri(neovim, text);
    assert_eq!(client.codes(neovim), ["callassign::unknown_value"]);
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn a_file_that_leads_into_an_extends_cycle_is_told_at_its_extends_line() {
    // `b` and `c` extend each other; `a` only leads into that circle.
    let dir = folder(&[
        (
            "b.rules",
            "ruleset b extends c\nstep call_agent\nfallback integration\n",
        ),
        ("c.rules", "ruleset c extends b\n"),
    ]);
    let mut client = Client::start(dir.path(), Value::Null);
    let text = "# ours\nruleset a extends b\ndisable call_agent\n";
    let a = client.open(&dir.path().join("a.rules"), text);
    let diagnostics = client.diagnostics(&a);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["code"], "callassign::extends_cycle");
    assert_eq!(diagnostics[0]["range"], range_of(text, "b"));
    let message = diagnostics[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("`extends` goes round in a circle: a → b → c → b\n"),
        "{message}"
    );
    // The file that closes the circle has it too, as `check` says it.
    let c = a.replace("a.rules", "c.rules");
    let closing = client.diagnostics(&c);
    assert_eq!(
        closing[0]["message"].as_str().unwrap().lines().next(),
        Some("`extends` goes round in a circle: b → c → b")
    );

    // Open a file of the circle: it is told once, in the words the file
    // that closes the circle from its side would get, whichever of them
    // is open.
    let b_text = std::fs::read_to_string(dir.path().join("b.rules")).unwrap();
    let b = client.open(&dir.path().join("b.rules"), &b_text);
    let on_b = client.diagnostics(&b);
    assert_eq!(on_b.len(), 1, "{on_b:?}");
    assert_eq!(on_b[0]["range"], range_of(&b_text, "c"));
    assert_eq!(
        on_b[0]["message"].as_str().unwrap().lines().next(),
        Some("`extends` goes round in a circle: c → b → c")
    );
    client.open(&dir.path().join("c.rules"), "ruleset c extends b\n");
    let published: Vec<Value> = client
        .drain()
        .into_iter()
        .filter(|message| message["params"]["uri"] == b.as_str())
        .collect();
    assert!(
        published
            .iter()
            .all(|message| message["params"]["diagnostics"] == json!(on_b)),
        "{published:?}"
    );
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn a_bad_settings_file_or_context_is_shown_once_and_the_defaults_serve() {
    const LEAD: &str =
        "integration: hubspot\nfallback: unassigned\nusers:\n  - {id: u1, email: lead@acme.com}\n";
    let dir = folder(&[
        ("fallback.context.yaml", LEAD),
        // A misspelt key.
        ("typo/callassign-lsp.json", "{\n  \"contxt\": \"team.yaml\"\n}\n"),
        // A context that is not there, and one that is not a context.
        ("missing/callassign-lsp.json", r#"{"context": "contexts/gone.yaml"}"#),
        ("broken/callassign-lsp.json", r#"{"context": "team.yaml"}"#),
        ("broken/team.yaml", "integration: hubspot\nusers: 7\n"),
        // Users from a directory export, as `eval` reads them.
        ("exported/callassign-lsp.json", r#"{"context": "team.yaml"}"#),
        (
            "exported/team.yaml",
            "integration: hubspot\nfallback: unassigned\nusers_from: {format: csv, path: users.csv}\n",
        ),
        ("exported/users.csv", "id,email,active\nu7,csv@acme.com,true\n"),
    ]);
    let options = json!({"context": dir.path().join("fallback.context.yaml")});
    let mut client = Client::start(dir.path(), options);
    let text = "ruleset team\nfallback user \"";
    let emails = |client: &mut Client, folder: &str| {
        let uri = client.open(&dir.path().join(folder).join("team.rules"), text);
        labels(&client.at("textDocument/completion", &uri, 1, 15))
    };
    let shown = |client: &mut Client| -> Vec<String> {
        client
            .drain()
            .iter()
            .filter(|message| message["method"] == "window/showMessage")
            .map(|message| {
                assert_eq!(message["params"]["type"], 2, "a warning: {message}");
                message["params"]["message"].as_str().unwrap().to_string()
            })
            .collect()
    };

    // The settings cannot be used: the initialization options' context can.
    assert_eq!(emails(&mut client, "typo"), ["lead@acme.com"]);
    let typo = dir.path().join("typo/callassign-lsp.json");
    assert_eq!(
        shown(&mut client),
        [format!(
            "`{}` is not a valid settings file: unknown field `contxt`, expected `context` at line 2 column 10 (user e-mails are completed from the initialization options' context meanwhile)\nhelp: write `{{\"context\": \"path/to/context.yaml\"}}`, the path relative to this file",
            typo.display()
        )]
    );
    // Said once, however often it is met.
    emails(&mut client, "typo");
    assert_eq!(shown(&mut client), Vec::<String>::new());

    assert_eq!(emails(&mut client, "missing"), Vec::<String>::new());
    let missing = shown(&mut client);
    let gone = dir.path().join("missing/contexts/gone.yaml");
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(
        missing[0].starts_with(&format!("`{}` does not exist (", gone.display()))
            && missing[0].contains(
                &dir.path()
                    .join("missing/callassign-lsp.json")
                    .display()
                    .to_string()
            ),
        "{missing:?}"
    );

    assert_eq!(emails(&mut client, "broken"), Vec::<String>::new());
    let broken = shown(&mut client);
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert!(
        broken[0].starts_with(&format!(
            "`{}` is not a valid context: users: invalid type",
            dir.path().join("broken/team.yaml").display()
        )),
        "{broken:?}"
    );

    assert_eq!(emails(&mut client, "exported"), ["csv@acme.com"]);
    assert_eq!(shown(&mut client), Vec::<String>::new());
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn fast_typing_publishes_once_when_it_settles() {
    let dir = folder(&[]);
    let mut client = Client::start(dir.path(), Value::Null);
    let uri = client.open(
        &dir.path().join("team.rules"),
        "ruleset team\nstep bogus\nfallback integration\n",
    );
    assert_eq!(client.codes(&uri), ["callassign::unknown_step"]);
    let mut version = 1;
    for burst in 0..2 {
        // Every keystroke's text has findings of its own, so each would be
        // published if each were checked.
        let changes: Vec<Value> = (0..12)
            .map(|key| {
                version += 1;
                json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"text": format!("ruleset team\nstep bogus{burst}x{key}\nfallback integration\n")}],
                }})
            })
            .collect();
        client.send_all(&changes);
        let diagnostics = client.diagnostics(&uri);
        let message = diagnostics[0]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("unknown step `bogus{burst}x11`")),
            "{message}"
        );
        // Well past the server's 150 ms debounce: nothing more comes for
        // this burst.
        std::thread::sleep(std::time::Duration::from_millis(600));
        let later: Vec<Value> = client
            .drain()
            .into_iter()
            .filter(|message| message["method"] == "textDocument/publishDiagnostics")
            .collect();
        assert_eq!(later, Vec::<Value>::new());
    }
    assert_eq!(client.shut_down(), 0);
}

/// A whole session written at once, stdin then closed: the exit status,
/// every message the server wrote, and its stderr.
fn scripted_session(cwd: &Path, messages: &[Value]) -> (i32, Vec<Value>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_callassign"))
        .arg("lsp")
        .current_dir(cwd)
        .env("XDG_CACHE_HOME", cwd.join(".cache"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut frames = String::new();
    for message in messages {
        let body = message.to_string();
        frames += &format!("Content-Length: {}\r\n\r\n{body}", body.len());
    }
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(frames.as_bytes()).unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let mut reader = BufReader::new(&output.stdout[..]);
    let mut written = Vec::new();
    while let Some(message) = read_message(&mut reader) {
        written.push(message);
    }
    (
        output.status.code().expect("exited"),
        written,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn initialize(id: i64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {"capabilities": {}}})
}

fn exit() -> Value {
    json!({"jsonrpc": "2.0", "method": "exit"})
}

fn shutdown(id: i64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "shutdown"})
}

#[test]
fn the_handshake_and_exit_follow_the_specification() {
    let dir = folder(&[]);
    let hover = json!({"jsonrpc": "2.0", "id": 1, "method": "textDocument/hover",
        "params": {"textDocument": {"uri": "file:///x.rules"}, "position": {"line": 0, "character": 0}}});
    let initialized = json!({"jsonrpc": "2.0", "method": "initialized", "params": {}});

    // A request before `initialize`: error -32002, in JSON-RPC words; a
    // notification then is dropped; the session goes on.
    let (status, written, stderr) = scripted_session(
        dir.path(),
        &[
            hover.clone(),
            json!({"jsonrpc": "2.0", "method": "textDocument/didSave", "params": {}}),
            initialize(2),
            initialized.clone(),
            shutdown(3),
            exit(),
        ],
    );
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(
        written[0],
        json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32002,
            "message": "the server is not initialized yet: send `initialize` before `textDocument/hover`"}})
    );
    assert_eq!(written[1]["id"], 2);
    assert!(written[1]["result"]["capabilities"].is_object());
    assert_eq!(
        written[2],
        json!({"jsonrpc": "2.0", "id": 3, "result": null})
    );
    assert_eq!(stderr, "");

    // A second `initialize` is an error, and the session goes on.
    let (status, written, _) = scripted_session(
        dir.path(),
        &[
            initialize(1),
            initialized.clone(),
            initialize(2),
            shutdown(3),
            exit(),
        ],
    );
    assert_eq!(status, 0);
    assert_eq!(written[1]["id"], 2);
    assert_eq!(written[1]["error"]["code"], -32600);
    assert_eq!(written[2]["id"], 3);

    // `exit`: 0 after `shutdown`, 1 without, before `initialize` too.
    for (messages, expected) in [
        (
            vec![initialize(1), initialized.clone(), shutdown(2), exit()],
            0,
        ),
        (vec![initialize(1), initialized.clone(), exit()], 1),
        (vec![initialize(1), exit()], 1),
        (vec![exit()], 1),
    ] {
        let (status, _, stderr) = scripted_session(dir.path(), &messages);
        assert_eq!(status, expected, "{messages:?}: {stderr}");
        assert_eq!(stderr, "", "{messages:?}");
    }
}

#[test]
fn a_document_opened_before_initialized_is_served_and_never_printed() {
    let dir = folder(&[]);
    let path = dir.path().join("team.rules");
    let secret = "ruleset team\nstep user \"secret-person@acme.com\"\nstep favourite_agent\nfallback integration\n";
    let open = json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri(&path), "languageId": "callassign", "version": 1, "text": secret}}});
    let (status, written, stderr) = scripted_session(
        dir.path(),
        &[
            initialize(1),
            open,
            json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
            shutdown(2),
            exit(),
        ],
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(!stderr.contains("secret-person"), "{stderr}");
    let published = written
        .iter()
        .find(|message| message["method"] == "textDocument/publishDiagnostics")
        .expect("the document is checked");
    assert_eq!(
        published["params"]["diagnostics"][0]["code"],
        "callassign::unknown_step"
    );
}

#[test]
fn two_spellings_of_one_file_share_one_copy_until_both_are_closed() {
    // `a.rules` and `%61.rules` are one file. Closing one spelling must
    // not drop the text the other still has open: a ranged edit on it
    // would then apply to nothing.
    let dir = folder(&[]);
    let root = uri(dir.path());
    let plain = format!("{root}/a.rules");
    let escaped = format!("{root}/%61.rules");
    let text = "ruleset a\nstep call_agent\nfallback integration\n";
    let mut client = Client::start(dir.path(), Value::Null);
    client.open_uri(&plain, text);
    client.open_uri(&escaped, text);
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": plain}}),
    );
    let (line, character) = position_of(text, "call_agent");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": escaped, "version": 2}, "contentChanges": [{
            "range": {"start": {"line": line, "character": character},
                      "end": {"line": line, "character": character + 4}},
            "text": "last_step"}]}),
    );
    // The server's copy is the edited text: formatting has nothing to
    // change, and the diagnostics are those of the edited text.
    let edits = client.result(
        "textDocument/formatting",
        json!({"textDocument": {"uri": escaped}, "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    assert_eq!(edits, json!([]), "the copy is not `{text}` edited");
    let hover = client.at("textDocument/hover", &escaped, line, character + 2);
    let shown = hover["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(shown.contains("last_step_agent"), "{hover}");
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn completion_of_a_large_context_is_filtered_by_what_is_typed_and_capped() {
    // 5,000 users: every address on every keystroke was megabytes.
    let mut context = String::from("integration: hubspot\nfallback: unassigned\nusers:\n");
    for index in 0..5_000 {
        context.push_str(&format!(
            "  - {{id: u{index}, email: user{index}@acme.com}}\n"
        ));
    }
    let dir = folder(&[("team.context.yaml", &context)]);
    let options = json!({"context": dir.path().join("team.context.yaml")});
    let mut client = Client::start(dir.path(), options);
    let text = "ruleset team\nfallback user \"USER12";
    let uri = client.open(&dir.path().join("team.rules"), text);
    let answer = client.at("textDocument/completion", &uri, 1, 21);
    assert_eq!(answer["isIncomplete"], true, "{answer}");
    let shown = labels(&answer["items"]);
    // user12, user120…user129, user1200…user1299: 111 hold `user12`.
    assert_eq!(shown.len(), 111);
    assert!(
        shown.iter().all(|label| label.contains("user12")),
        "{shown:?}"
    );
    // Nothing typed yet: at most the cap, and the editor asks again.
    let text = "ruleset team\nfallback user \"";
    let other = client.open(
        &dir.path().join("other.rules"),
        &text.replace("team", "other"),
    );
    let answer = client.at("textDocument/completion", &other, 1, 15);
    assert_eq!(answer["isIncomplete"], true);
    assert_eq!(labels(&answer["items"]).len(), 200);
    assert_eq!(client.shut_down(), 0);
}
