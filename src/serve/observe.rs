//! What each decision tells the service besides its answer: the metrics
//! count it, the decision log records it, and the keys a call had that
//! callassign does not read are named (a header on a single call).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use callassign::{Call, Decision, Observer, TraceEntry};

use super::store::Entry;

/// The most unknown keys a `callassign-unknown-keys` value names; the
/// rest are counted (`+3 more`).
pub const KEYS_NAMED: usize = 16;
/// The longest part of a key a header value names, in bytes; a longer key
/// is cut there (`...`). Proxies refuse answers with headers of a few
/// KiB; the decision log names every key whole.
pub const KEY_NAMED_BYTES: usize = 64;
/// Keys are named until the value is this long; the others are counted.
const HEADER_BYTES: usize = 1024;

/// Hears the decisions of one request (or one piece of a stream).
pub struct Observing<'a> {
    entry: &'a Entry,
    /// Whether the decision log is on: then each output line is matched
    /// with what became of its call.
    logging: bool,
    /// Per output line, in order, when logging: the call's unknown keys
    /// as a JSON array (empty: none), or `None` for an error line.
    events: Vec<Option<String>>,
    /// For a single call's header: the unknown keys, as named in a batch
    /// summary (`recording`, `flow[].ring_s`, `contact.name`), sorted. A
    /// set: a call of a megabyte may hold a hundred thousand of them.
    pub keys: BTreeSet<String>,
    /// Whether this is one call (not a stream): then its unknown keys
    /// and its error are kept for the answer.
    single: bool,
    /// What the last unreadable call's error line says (one call only).
    pub unreadable: Option<String>,
}

impl<'a> Observing<'a> {
    pub fn new(entry: &'a Entry, logging: bool, single: bool) -> Observing<'a> {
        Observing {
            entry,
            logging,
            events: Vec::new(),
            keys: BTreeSet::new(),
            single,
            unreadable: None,
        }
    }

    /// Appends to `log` one decision-log line per decision among the
    /// output `lines` written since the last call, at time `at`.
    pub fn log_lines(&mut self, lines: &[u8], at: &str, log: &mut Vec<u8>) {
        if !self.logging {
            return;
        }
        let mut events = self.events.drain(..);
        for line in lines.split_inclusive(|&byte| byte == b'\n') {
            let Some(event) = events.next() else { break };
            let Some(keys) = event else { continue };
            // `{"call":…,"step":…}\n` → `{"time":…,"ruleset":…,"hash":…,"call":…,"step":…}\n`
            let Some(inner) = line
                .strip_suffix(b"\n")
                .and_then(|line| line.strip_prefix(b"{"))
                .and_then(|line| line.strip_suffix(b"}"))
            else {
                continue;
            };
            log.extend_from_slice(b"{\"time\":\"");
            log.extend_from_slice(at.as_bytes());
            log.extend_from_slice(b"\",");
            log.extend_from_slice(self.entry.log_fields.as_bytes());
            log.extend_from_slice(inner);
            if !keys.is_empty() {
                log.extend_from_slice(b",\"unknown_keys\":");
                log.extend_from_slice(keys.as_bytes());
            }
            log.extend_from_slice(b"}\n");
        }
    }

    /// The `callassign-unknown-keys` value: the keys named (at most
    /// [`KEYS_NAMED`]), sorted, comma-separated, bytes a header cannot
    /// carry percent-encoded.
    pub fn keys_header(&self) -> Option<String> {
        // Sorted, as a batch summary names them.
        header_value(self.keys.iter().map(String::as_str), self.keys.len())
    }
}

/// `recording, flow[].ring_s, +3 more`: `total` keys, the first
/// [`KEYS_NAMED`] of `keys` named.
pub fn header_value<'k>(keys: impl Iterator<Item = &'k str>, total: usize) -> Option<String> {
    if total == 0 {
        return None;
    }
    let mut value = String::new();
    let mut named = 0;
    for key in keys.take(KEYS_NAMED) {
        if value.len() >= HEADER_BYTES {
            break;
        }
        named += 1;
        if !value.is_empty() {
            value.push_str(", ");
        }
        let mut end = key.len().min(KEY_NAMED_BYTES);
        while !key.is_char_boundary(end) {
            end -= 1;
        }
        for byte in key[..end].bytes() {
            if (0x21..=0x7e).contains(&byte) && byte != b'%' && byte != b',' {
                value.push(byte as char);
            } else {
                let _ = write!(value, "%{byte:02X}");
            }
        }
        if end < key.len() {
            value.push_str("...");
        }
    }
    if total > named {
        let _ = write!(value, ", +{} more", total - named);
    }
    Some(value)
}

/// `flow[].` and `ring_s` as one name (without `format!`'s machinery: a
/// single call names its keys on every request).
fn named(place: &str, key: &str) -> String {
    let mut named = String::with_capacity(place.len() + key.len());
    named.push_str(place);
    named.push_str(key);
    named
}

/// A call's unknown keys, each as a batch summary names it.
fn unknown_keys<'c>(call: &'c Call<'_>) -> impl Iterator<Item = (&'static str, &'c str)> {
    call.unknown_keys
        .iter()
        .map(|key| ("", key))
        .chain(call.unknown_flow_keys.iter().map(|key| ("flow[].", key)))
        .chain(
            call.unknown_contact_keys
                .iter()
                .map(|key| ("contact.", key)),
        )
}

impl Observer for Observing<'_> {
    fn decided(&mut self, call: &Call<'_>, decision: &Decision<'_>, _: Option<&[TraceEntry]>) {
        self.entry.metrics.decided(decision.step);
        let has_unknown = call.has_unknown_keys();
        if has_unknown {
            self.entry.metrics.unknown_keys.inc();
            if self.single {
                for (place, key) in unknown_keys(call) {
                    self.keys.insert(named(place, key));
                }
            }
        }
        if self.logging {
            let keys = if has_unknown {
                let named: Vec<String> = unknown_keys(call)
                    .map(|(place, key)| named(place, key))
                    .collect();
                serde_json::to_string(&named).expect("strings serialize")
            } else {
                String::new()
            };
            self.events.push(Some(keys));
        }
    }

    fn unreadable(&mut self, _line: u64, _call: Option<&str>, message: &str) {
        self.entry.metrics.refused.inc();
        if self.single {
            self.unreadable = Some(message.to_string());
        }
        if self.logging {
            self.events.push(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_capped_and_printable() {
        assert_eq!(header_value(std::iter::empty(), 0), None);
        assert_eq!(
            header_value(["recording", "flow[].ring_s", "a b,ü"].into_iter(), 3).unwrap(),
            "recording, flow[].ring_s, a%20b%2C%C3%BC"
        );
        let many: Vec<String> = (0..20).map(|n| format!("k{n}")).collect();
        let value = header_value(many.iter().map(String::as_str), 20).unwrap();
        assert!(value.starts_with("k0, k1, "), "{value}");
        assert!(value.ends_with("k15, +4 more"), "{value}");
        let long = format!("é{}", "k".repeat(200));
        let value = header_value([long.as_str()].into_iter(), 1).unwrap();
        assert_eq!(value, format!("%C3%A9{}...", "k".repeat(62)));
        let wide: Vec<String> = (0..16)
            .map(|n| format!("{n:02}{}", "ü".repeat(40)))
            .collect();
        let value = header_value(wide.iter().map(String::as_str), 16).unwrap();
        assert!(value.len() < 1024 + 200, "{}", value.len());
        assert!(value.ends_with(" more"), "{value}");
    }
}
