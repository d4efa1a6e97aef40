//! Runtime: deciding calls. [`model`] is the data contract (calls,
//! contexts, assignment lines); [`directory`] reads the user lists, agents
//! and contact owners a context names; [`cloudtalk`] reads CloudTalk's own
//! call records as calls; [`evaluate`] runs a plan against a context and a
//! call; [`batch`] streams JSON Lines through an evaluator; [`time`] reads
//! the timestamps that conditions compare; and [`fit`] checks a plan
//! against one context before any call is decided.

pub mod assignment;
pub mod batch;
pub mod evaluate;
