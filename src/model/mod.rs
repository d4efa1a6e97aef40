//! The data contract: calls and integration contexts in, assignments out.
//!
//! Shapes follow docs/contract.md section 2. Inputs accept absent and `null`
//! fields, unknown step types and unknown fields, so real export payloads
//! can be fed in as they are.

pub(crate) mod call;
pub mod cloudtalk;
pub mod context;
#[cfg(feature = "schema")]
pub(crate) mod schema;

pub use call::{Call, Contact, Fact, FlowStep};
pub use context::{Context, Directory, FallbackMode, Lookup, User};
