//! The data contract: calls and integration contexts in, assignments out.
//!
//! Shapes follow DESIGN.md section 2. Inputs accept absent and `null`
//! fields, unknown step types and unknown fields, so real export payloads
//! can be fed in as they are.

pub mod assignment;
pub mod call;
pub mod context;
#[cfg(feature = "schema")]
pub mod schema;

pub use assignment::{Assignment, ErrorLine};
pub use call::{Call, Contact, Direction, Fact, FlowStep, Status};
pub use context::{Context, ContextProblem, Directory, FallbackMode, Lookup, User};
