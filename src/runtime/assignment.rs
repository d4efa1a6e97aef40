//! Output lines: one per call, in input order.

use serde::Serialize;

use crate::runtime::evaluate::Assignee;

/// Who owns a call and which step decided it.
#[derive(Debug, Clone, Serialize)]
pub struct Assignment<'a> {
    pub call: &'a str,
    pub assignee: Option<Assignee<'a>>,
    pub step: &'static str,
    /// The address of the fixed user that decided (`"step":"user"`): a
    /// plan may hold several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
    /// Where the call's fields came from, for a call read from another
    /// system's record (`--explain` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts: Option<&'a [crate::model::Fact]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<&'a [crate::runtime::evaluate::TraceEntry]>,
}

/// A batch line that could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorLine<'a> {
    pub line: u64,
    /// The call's `id`, when the line got that far: which call to fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<&'a str>,
    pub error: &'a str,
}
