//! A stored event and its decision, as `GET /v1/decisions/{call}`, a
//! repeated event and `callassign decisions` show it:
//!
//! ```json
//! {"ruleset":"hubspot","call":"1002","state":"decided","hash":"9f…",
//!  "assignee":{"id":"104","email":"ola@acme.com"},"step":"last_step_agent",
//!  "decided_at":"2026-12-02T03:15:36.123Z","received_at":"…","attempts":1,"last_error":null,
//!  "deliveries":[{"target":"https://hooks.example.com/calls","state":"delivered","attempts":1,"last_error":null}]}
//! ```
//!
//! `state` is `pending` (CloudTalk's records not fetched yet), `decided`,
//! `gave_up` or `unreadable`; a delivery's is `pending`, `delivered` or
//! `failed`. Targets are shown without passwords or queries.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::value::RawValue;

use super::clock::rfc3339;
use super::store::View;

#[derive(Serialize)]
struct Shown<'a> {
    ruleset: &'a str,
    call: &'a str,
    state: &'static str,
    hash: Option<&'a str>,
    assignee: Option<&'a RawValue>,
    step: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a RawValue>,
    decided_at: Option<&'a RawValue>,
    received_at: String,
    attempts: i64,
    last_error: Option<&'a str>,
    deliveries: Vec<ShownDelivery<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace: Option<&'a RawValue>,
}

#[derive(Serialize)]
struct ShownDelivery<'a> {
    target: String,
    state: &'static str,
    attempts: i64,
    last_error: Option<&'a str>,
}

/// The view as JSON.
pub fn json(view: &View) -> String {
    let decision: BTreeMap<&str, &RawValue> = view
        .decision
        .as_deref()
        .and_then(|decision| serde_json::from_str(decision).ok())
        .unwrap_or_default();
    let trace: Option<&RawValue> = view
        .trace
        .as_deref()
        .and_then(|trace| serde_json::from_str(trace).ok());
    serde_json::to_string(&Shown {
        ruleset: &view.key.ruleset,
        call: &view.key.call,
        state: view.state.name(),
        hash: view.hash.as_deref(),
        assignee: decision.get("assignee").copied(),
        step: decision.get("step").copied(),
        user: decision.get("user").copied(),
        decided_at: decision.get("decided_at").copied(),
        received_at: rfc3339(view.received_at),
        attempts: view.attempts,
        last_error: view.last_error.as_deref(),
        deliveries: view
            .deliveries
            .iter()
            .map(|delivery| ShownDelivery {
                target: super::shown_target(&delivery.target),
                state: delivery.state.name(),
                attempts: delivery.attempts,
                last_error: delivery.last_error.as_deref(),
            })
            .collect(),
        trace,
    })
    .expect("a view serializes")
}

/// The view as lines of text for a terminal.
pub fn human(view: &View) -> String {
    let mut text = format!(
        "{}:{}  {}  received {}",
        view.key.ruleset,
        view.key.call,
        view.state.name(),
        rfc3339(view.received_at)
    );
    if let Some(decision) = view
        .decision
        .as_deref()
        .and_then(|decision| serde_json::from_str::<serde_json::Value>(decision).ok())
    {
        let assignee = match &decision["assignee"] {
            serde_json::Value::Object(user) => format!(
                "{} ({})",
                user.get("id").and_then(|id| id.as_str()).unwrap_or("?"),
                user.get("email")
                    .and_then(|email| email.as_str())
                    .unwrap_or("?")
            ),
            _ => "unassigned".to_string(),
        };
        text.push_str(&format!(
            "\n  decided   {assignee} by {} at {}",
            decision["step"].as_str().unwrap_or("?"),
            decision["decided_at"].as_str().unwrap_or("?")
        ));
    } else {
        text.push_str(&format!("\n  attempts  {}", view.attempts));
    }
    if let Some(error) = &view.last_error {
        text.push_str(&format!("\n  error     {error}"));
    }
    for delivery in &view.deliveries {
        text.push_str(&format!(
            "\n  deliver   {}  {}  {} attempt{}",
            super::shown_target(&delivery.target),
            delivery.state.name(),
            delivery.attempts,
            if delivery.attempts == 1 { "" } else { "s" }
        ));
        if let Some(error) = &delivery.last_error {
            text.push_str(&format!("  ({error})"));
        }
    }
    text
}
