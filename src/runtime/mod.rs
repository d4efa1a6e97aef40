//! Runtime: deciding calls. [`model`] is the data contract (calls,
//! contexts, assignment lines), [`evaluate`] runs a plan against a context
//! and a call, [`directory`] reads the user lists a context names, [`batch`] streams JSON Lines through an evaluator, and
//! [`time`] reads the timestamps that conditions compare.

pub mod batch;
pub mod directory;
pub mod evaluate;
pub mod model;
pub mod time;
