//! Runtime: deciding calls. [`model`] is the data contract (calls,
//! contexts, assignment lines); [`directory`] reads the user lists, agents
//! and contact owners a context names; [`cloudtalk`] reads CloudTalk's own
//! call records as calls; [`evaluate`] runs a plan against a context and a
//! call; [`batch`] streams JSON Lines through an evaluator; and [`time`]
//! reads the timestamps that conditions compare.

pub mod batch;
pub mod cloudtalk;
pub mod directory;
pub mod evaluate;
pub mod model;
pub mod time;
