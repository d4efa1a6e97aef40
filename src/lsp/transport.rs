//! The wire: messages read from the client by hand, so that a body that
//! is not a JSON-RPC message gets the error JSON-RPC 2.0 gives it instead
//! of ending the session.

use super::*;

/// Reads the client's messages from stdin, refusing a frame whose
/// `Content-Length` is over [`MAX_MESSAGE_BYTES`] before reading its body.
pub(super) fn read_client(sender: crossbeam_channel::Sender<Message>) -> Result<(), String> {
    use std::io::{BufRead, Read, Write as _};

    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    loop {
        let mut length = None;
        loop {
            let mut line = String::new();
            // A header line is short; one that is not is no header.
            let read = (&mut input)
                .take(4096)
                .read_line(&mut line)
                .map_err(|error| format!("cannot read from the editor: {error}"))?;
            if read == 0 {
                return Ok(()); // end of input
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
            if let Some(value) = line
                .split_once(':')
                .filter(|(name, _)| name.eq_ignore_ascii_case("content-length"))
                .map(|(_, value)| value.trim())
            {
                let value: usize = value
                    .parse()
                    .map_err(|_| format!("`Content-Length: {value}` is not a length"))?;
                if value > MAX_MESSAGE_BYTES {
                    return Err(format!(
                        "a message of {value} bytes is over the {MAX_MESSAGE_BYTES} bytes a message may have"
                    ));
                }
                length = Some(value);
            }
        }
        let Some(length) = length else {
            return Err("a message without `Content-Length`".to_string());
        };
        let mut body = vec![0; length];
        input
            .read_exact(&mut body)
            .map_err(|error| format!("cannot read from the editor: {error}"))?;
        // A well-framed body that is not a JSON-RPC message (not JSON, a
        // lone surrogate, a batch) is answered with the error JSON-RPC 2.0
        // gives it, and the session goes on.
        let message = match decode(&body) {
            Ok(message) => message,
            Err(rejection) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "callassign lsp: ignored a message that is not JSON-RPC: {}",
                    rejection.message
                );
                let body = rejection.response().to_string();
                let mut stdout = std::io::stdout().lock();
                write!(stdout, "Content-Length: {}\r\n\r\n{body}", body.len())
                    .and_then(|()| stdout.flush())
                    .map_err(|error| format!("cannot write to the editor: {error}"))?;
                continue;
            }
        };
        let is_exit = matches!(&message, Message::Notification(n) if n.method == "exit");
        if sender.send(message).is_err() || is_exit {
            return Ok(());
        }
    }
}

/// Why a well-framed body is not a message, as JSON-RPC 2.0 answers it.
struct Rejection {
    /// The request's id when it could be read, so that a client waiting
    /// for an answer gets one; else `null`, as JSON-RPC asks.
    id: Value,
    code: ErrorCode,
    message: String,
}

impl Rejection {
    fn response(&self) -> Value {
        serde_json::json!({
            "jsonrpc": "2.0",
            "id": self.id,
            "error": {"code": self.code as i32, "message": self.message},
        })
    }
}

/// One message from a frame's body: JSON (-32700 otherwise, a lone
/// surrogate included: it is no Unicode text), then a request, response
/// or notification (-32600 otherwise: a batch, which LSP does not use, or
/// a member of the wrong type).
fn decode(body: &[u8]) -> Result<Message, Rejection> {
    let value: Value = serde_json::from_slice(body).map_err(|error| Rejection {
        id: Value::Null,
        code: ErrorCode::ParseError,
        message: format!("the message is not JSON: {error}"),
    })?;
    if value.is_array() {
        return Err(Rejection {
            id: Value::Null,
            code: ErrorCode::InvalidRequest,
            message: "a batch of messages is not served: send one message per frame".into(),
        });
    }
    let id = value
        .get("id")
        .filter(|id| id.is_string() || id.is_number())
        .cloned()
        .unwrap_or(Value::Null);
    let message = serde_json::from_value(value).map_err(|_| Rejection {
        id: id.clone(),
        code: ErrorCode::InvalidRequest,
        message: "the message is not a JSON-RPC request, response or notification".into(),
    })?;
    // lsp-server reads a request whose id it cannot hold (LSP's integers
    // have 32 bits: `3000000000`, `1.5`) as a notification, which is never
    // answered: the client would wait on it for ever.
    if matches!(message, Message::Notification(_)) && !id.is_null() {
        return Err(Rejection {
            id,
            code: ErrorCode::InvalidRequest,
            message: "a request's `id` is a string or a whole number of 32 bits (LSP's integer)"
                .into(),
        });
    }
    Ok(message)
}
