//! Syntax: rule text as written. Source text and spans ([`crate::diagnostics::source`]), the
//! syntax tree ([`ast`]), pest parsing into that tree ([`parse`]), and the
//! canonical layout printed back from it ([`format`](mod@format)).
//!
//! Nothing here knows what a step kind or a field means; that is
//! [`crate::semantics`].

pub mod ast;
pub mod format;
pub mod parse;
