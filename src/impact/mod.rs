//! Impact: what rules do to a history of real calls. [`history`] reads it
//! once, [`diff`] compares two rule files over it, [`stats`] counts how
//! often each step decides.

pub mod diff;
pub mod history;
pub mod stats;
