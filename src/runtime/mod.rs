//! Runtime: deciding calls. [`model`] is the data contract (calls,
//! contexts, assignment lines), [`evaluate`] runs a plan against a context
//! and a call, [`batch`] streams JSON Lines through an evaluator, and
//! [`time`] reads the timestamps that conditions compare.

pub mod batch;
pub mod evaluate;
pub mod model;
pub mod time;
