//! Language server: `callassign lsp`, the rule language in an editor.
//!
//! This layer owns the editor protocol (LSP 3.17 over stdio, synchronous,
//! on `lsp-server` and `lsp-types`) and nothing else: every answer comes
//! from the same loader, checker, compiler and formatter as the command
//! line, on documents kept in the loader's in-memory overlay.
//!
//! * [`workspace`]: open documents and their analysis;
//! * [`diagnose`]: findings as diagnostics, suggestions as quick fixes;
//! * [`complete`]: what may be written at the cursor;
//! * [`navigate`]: hover, definition, symbols, formatting;
//! * [`docs`]: what step kinds and fields do, in the README's words;
//! * [`position`]: UTF-16 positions and `file:` addresses;
//! * [`publish`]: which documents are analyzed again, which files'
//!   diagnostics are sent.
//!
//! The server never trusts what the client sends: positions past the end
//! clamp, requests about documents that are not open get an empty answer,
//! parameters that do not deserialize get an `InvalidParams` error, and a
//! body that is not a JSON-RPC message gets the parse-error or
//! invalid-request response JSON-RPC 2.0 gives it.

mod complete;
mod diagnose;
mod docs;
mod navigate;
mod position;
mod publish;
mod transport;
mod workspace;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{self, Notification as _};
use lsp_types::request::{self, Request as _};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionProviderCapability, CompletionOptions, Diagnostic,
    HoverProviderCapability, InitializeParams, MessageType, OneOf, ServerCapabilities, ServerInfo,
    ShowMessageParams, TextDocumentSyncCapability, TextDocumentSyncKind, Uri,
};
use serde::de::DeserializeOwned;

use callassign::diagnostics::finding::Finding;
use serde_json::Value;

use publish::Analyzed;
use transport::read_client;
use workspace::Workspace;

/// How long diagnostics wait after an edit for the next one, so that
/// typing a word checks the file once, not once per key.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// `shutdown` then `exit`, as the protocol asks.
    Clean,
    /// `exit` without `shutdown`, or the client went away.
    Abrupt,
}

/// What the client may say in `initializationOptions`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(
    default,
    rename_all = "camelCase",
    expecting = "initialization options: an object such as `{\"context\": \"/path/to/context.yaml\"}`"
)]
struct Options {
    /// An integration context whose users' e-mails complete `user "…"`,
    /// for folders without a `callassign-lsp.json`.
    context: Option<PathBuf>,
}

/// The largest message read from the client. lsp-server would allocate
/// whatever a `Content-Length` header says, so the header is checked here
/// first: a rule file is at most 1 MiB, and its JSON escaping can at most
/// double-and-a-bit that.
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;

/// Serves one editor session over stdin and stdout.
pub fn serve_stdio() -> Result<Ending, String> {
    let (server_side, client_side) = Connection::memory();
    let Connection { sender, receiver } = client_side;
    let reader = std::thread::spawn(move || read_client(sender));
    let writer = std::thread::spawn(move || -> Result<(), String> {
        // Locked per message, not for the session: the reader answers
        // bodies that are not messages itself, between two of these.
        for message in receiver {
            message
                .write(&mut std::io::stdout().lock())
                .map_err(|error| format!("cannot write to the editor: {error}"))?;
        }
        Ok(())
    });
    let ending = serve(&server_side);
    drop(server_side);
    if ending.is_err() {
        // The session broke because reading did: say why reading did.
        // (If reading did not break, the reader may be waiting for input
        // that never comes: it is given a moment, not waited for.)
        let _ = writer.join();
        for _ in 0..20 {
            if reader.is_finished() {
                if let Ok(Err(reading)) = reader.join() {
                    return Err(reading);
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        return ending;
    }
    let ending = ending?;
    writer
        .join()
        .map_err(|_| "the writer thread failed".to_string())??;
    // The reader ends at end of input; a malformed or oversized message
    // ends it with an error worth reporting. After `exit` it may still be
    // waiting for input that never comes: it is not waited for then.
    if reader.is_finished() {
        reader
            .join()
            .map_err(|_| "the reader thread failed".to_string())??;
    }
    Ok(ending)
}

/// Serves one session on a connection: the handshake, then messages
/// until `exit`.
fn serve(connection: &Connection) -> Result<Ending, String> {
    let Some((id, params)) = wait_for_initialize(connection)? else {
        // `exit` before `initialize`: no `shutdown` came, so status 1.
        return Ok(Ending::Abrupt);
    };
    let params: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let options: Options = params
        .initialization_options
        .and_then(|options| serde_json::from_value(options).ok())
        .unwrap_or_default();
    let result = serde_json::json!({
        "capabilities": capabilities(),
        "serverInfo": ServerInfo {
            name: "callassign".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        },
    });
    connection
        .sender
        .send(Response::new_ok(id, result).into())
        .map_err(|_| "the editor closed the connection".to_string())?;
    // `initialized` is awaited in the main loop like any notification: a
    // client that sends `didOpen` first is served, not dropped.
    Server::new(connection, Workspace::new(options.context)).run()
}

/// The handshake's first half, as LSP 3.17 says: a request before
/// `initialize` gets error -32002 (server not initialized), a
/// notification is dropped, and `exit` ends the session (`None`).
fn wait_for_initialize(
    connection: &Connection,
) -> Result<Option<(lsp_server::RequestId, Value)>, String> {
    loop {
        let Ok(message) = connection.receiver.recv() else {
            return Err("the editor closed the connection before `initialize`".to_string());
        };
        match message {
            Message::Request(request) if request.method == request::Initialize::METHOD => {
                return Ok(Some((request.id, request.params)));
            }
            Message::Request(request) => {
                let response = Response::new_err(
                    request.id,
                    ErrorCode::ServerNotInitialized as i32,
                    format!(
                        "the server is not initialized yet: send `initialize` before `{}`",
                        request.method
                    ),
                );
                connection
                    .sender
                    .send(response.into())
                    .map_err(|_| "the editor closed the connection".to_string())?;
            }
            Message::Notification(notification)
                if notification.method == notification::Exit::METHOD =>
            {
                return Ok(None);
            }
            Message::Notification(_) | Message::Response(_) => {}
        }
    }
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(
            TextDocumentSyncKind::INCREMENTAL,
        )),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![" ".into(), "\"".into(), "[".into(), "(".into()]),
            ..CompletionOptions::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        ..ServerCapabilities::default()
    }
}

struct Server<'c> {
    connection: &'c Connection,
    workspace: Workspace,
    /// What was last published per file, to clear a file's diagnostics
    /// once it has none, and to skip sending the same list again.
    published: BTreeMap<String, (Uri, Vec<Diagnostic>)>,
    /// When pending edits are checked, if any are.
    due: Option<Instant>,
    shut_down: bool,
    /// What the last analysis of each open document (by its workspace
    /// key) reached and found.
    analyzed: BTreeMap<String, Analyzed>,
    /// The documents whose analysis reads each path: the files of their
    /// `extends` chain, and a missing base's path.
    dependents: BTreeMap<PathBuf, BTreeSet<String>>,
    /// Open documents whose analysis may be out of date: only these are
    /// analyzed again, not every open document on each open or edit.
    stale: BTreeSet<String>,
    /// By file address (as text): its address, and each document's
    /// findings in it.
    found: BTreeMap<String, (Uri, BTreeMap<String, Vec<Finding>>)>,
}

/// A request answer, or the error to send instead.
type Answer = Result<Value, (ErrorCode, String)>;

impl<'c> Server<'c> {
    fn new(connection: &'c Connection, workspace: Workspace) -> Server<'c> {
        Server {
            connection,
            workspace,
            published: BTreeMap::new(),
            due: None,
            shut_down: false,
            analyzed: BTreeMap::new(),
            dependents: BTreeMap::new(),
            stale: BTreeSet::new(),
            found: BTreeMap::new(),
        }
    }

    fn run(&mut self) -> Result<Ending, String> {
        loop {
            let received = match self.due {
                Some(due) => self
                    .connection
                    .receiver
                    .recv_timeout(due.saturating_duration_since(Instant::now())),
                None => self
                    .connection
                    .receiver
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
            };
            let message = match received {
                Ok(message) => message,
                Err(RecvTimeoutError::Timeout) => {
                    self.publish()?;
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return Ok(Ending::Abrupt),
            };
            match message {
                Message::Request(request) => {
                    let id = request.id.clone();
                    // A bug in one answer must not take the editor's session
                    // down with it: the request fails, the server goes on.
                    let answered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        self.answer(request)
                    }))
                    .unwrap_or_else(|_| {
                        Err((
                            ErrorCode::InternalError,
                            "callassign failed on this request".into(),
                        ))
                    });
                    let response = match answered {
                        Ok(result) => Response::new_ok(id, result),
                        Err((code, message)) => Response::new_err(id, code as i32, message),
                    };
                    self.send(response.into())?;
                }
                Message::Notification(notification)
                    if notification.method == notification::Exit::METHOD =>
                {
                    return Ok(if self.shut_down {
                        Ending::Clean
                    } else {
                        Ending::Abrupt
                    });
                }
                Message::Notification(notification) => self.notice(notification)?,
                // The server sends no requests, so expects no responses.
                Message::Response(_) => {}
            }
            self.tell_problems()?;
        }
    }

    /// Shows the editor what is wrong with a settings file or a context
    /// met since last time: completion goes on with the defaults, and
    /// without this it would only come up empty.
    fn tell_problems(&self) -> Result<(), String> {
        for problem in self.workspace.take_problems() {
            let mut message = problem.message;
            if let Some(help) = &problem.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            let params = ShowMessageParams {
                typ: MessageType::WARNING,
                message,
            };
            self.send(
                Notification::new(notification::ShowMessage::METHOD.to_string(), params).into(),
            )?;
        }
        Ok(())
    }

    fn send(&self, message: Message) -> Result<(), String> {
        self.connection
            .sender
            .send(message)
            .map_err(|_| "the editor closed the connection".to_string())
    }

    fn answer(&mut self, request: Request) -> Answer {
        if self.shut_down {
            return Err((
                ErrorCode::InvalidRequest,
                "the server is shutting down".into(),
            ));
        }
        let Request { method, params, .. } = request;
        let method = method.as_str();
        let workspace = &self.workspace;
        match method {
            request::Initialize::METHOD => Err((
                ErrorCode::InvalidRequest,
                "the server is initialized already: `initialize` is sent once a session".into(),
            )),
            request::Shutdown::METHOD => {
                self.shut_down = true;
                Ok(Value::Null)
            }
            request::HoverRequest::METHOD => {
                let params: lsp_types::HoverParams = parameters(params)?;
                let at = params.text_document_position_params;
                answer(
                    workspace
                        .analyze(&at.text_document.uri)
                        .and_then(|analysis| navigate::hover(&analysis, at.position)),
                )
            }
            request::GotoDefinition::METHOD => {
                let params: lsp_types::GotoDefinitionParams = parameters(params)?;
                let at = params.text_document_position_params;
                answer(
                    workspace
                        .analyze(&at.text_document.uri)
                        .and_then(|analysis| {
                            navigate::definition(workspace, &analysis, at.position)
                        }),
                )
            }
            request::Completion::METHOD => {
                let params: lsp_types::CompletionParams = parameters(params)?;
                let at = params.text_document_position;
                answer(
                    workspace
                        .analyze(&at.text_document.uri)
                        .map(|analysis| navigate::completion(workspace, &analysis, at.position)),
                )
            }
            request::DocumentSymbolRequest::METHOD => {
                let params: lsp_types::DocumentSymbolParams = parameters(params)?;
                answer(
                    workspace
                        .analyze(&params.text_document.uri)
                        .map(|analysis| navigate::symbols(&analysis)),
                )
            }
            request::Formatting::METHOD => {
                let params: lsp_types::DocumentFormattingParams = parameters(params)?;
                answer(
                    workspace
                        .analyze(&params.text_document.uri)
                        .and_then(|analysis| navigate::format(&analysis)),
                )
            }
            request::CodeActionRequest::METHOD => {
                let params: lsp_types::CodeActionParams = parameters(params)?;
                answer(
                    workspace
                        .analyze(&params.text_document.uri)
                        .map(|analysis| diagnose::quick_fixes(&analysis, params.range)),
                )
            }
            _ => Err((
                ErrorCode::MethodNotFound,
                format!("`{method}` is not served"),
            )),
        }
    }

    fn notice(&mut self, notification: Notification) -> Result<(), String> {
        let Notification { method, params } = notification;
        match method.as_str() {
            notification::DidOpenTextDocument::METHOD => {
                let Ok(params) = parameters::<lsp_types::DidOpenTextDocumentParams>(params) else {
                    return Ok(());
                };
                let document = params.text_document;
                let uri = document.uri.clone();
                if self
                    .workspace
                    .open(document.uri, document.version, document.text)
                {
                    // A file just opened is checked at once.
                    self.outdate(&uri);
                    self.publish()?;
                    self.workspace.check_configuration(&uri);
                }
            }
            notification::DidChangeTextDocument::METHOD => {
                let Ok(params) = parameters::<lsp_types::DidChangeTextDocumentParams>(params)
                else {
                    return Ok(());
                };
                let document = params.text_document;
                if self
                    .workspace
                    .change(&document.uri, document.version, params.content_changes)
                {
                    self.outdate(&document.uri);
                    self.due = Some(Instant::now() + DEBOUNCE);
                }
            }
            notification::DidCloseTextDocument::METHOD => {
                let Ok(params) = parameters::<lsp_types::DidCloseTextDocumentParams>(params) else {
                    return Ok(());
                };
                self.workspace.close(&params.text_document.uri);
                self.outdate(&params.text_document.uri);
                self.publish()?;
            }
            // Saving changes nothing: the overlay already has the text.
            _ => {}
        }
        Ok(())
    }
}

fn parameters<P: DeserializeOwned>(params: Value) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(params).map_err(|error| {
        (
            ErrorCode::InvalidParams,
            format!(
                "invalid parameters: {}",
                without_type_names(&error.to_string())
            ),
        )
    })
}

/// serde's message in the words of the protocol's JSON: it names the Rust
/// type it expected (`expected struct HoverParams`), which the client
/// never sees; JSON has an object there.
fn without_type_names(message: &str) -> String {
    let mut words = String::new();
    let mut rest = message;
    while let Some(at) = rest.find("expected struct ") {
        words.push_str(&rest[..at]);
        words.push_str("expected an object");
        let name = &rest[at + "expected struct ".len()..];
        let end = name
            .find(|c: char| !c.is_alphanumeric() && c != '_')
            .unwrap_or(name.len());
        rest = &name[end..];
    }
    words.push_str(rest);
    words
}

/// A result as JSON; `null` when there is nothing to say (a document that
/// is not open, no hover here), as the protocol allows for every request
/// served.
fn answer<T: serde::Serialize>(result: Option<T>) -> Answer {
    serde_json::to_value(result).map_err(|error| (ErrorCode::InternalError, error.to_string()))
}
