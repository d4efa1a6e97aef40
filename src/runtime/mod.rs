//! Runtime: deciding calls. [`evaluate`] runs a plan against a context
//! and a call (the [`Engine`](evaluate::Engine)); [`batch`] streams JSON
//! Lines of calls through it, on one thread or several, writing one output
//! line per input line.

pub mod batch;
pub mod evaluate;
