//! Diagnostics: everything callassign has to say about its inputs.
//! [`source`] holds source text and spans; [`finding`] defines the findings
//! of rule files and their stable codes, [`kind`] what each kind of
//! finding says; [`problem`] is everything wrong outside a rule file;
//! [`suggest`] finds the word a misspelling meant, [`report`] renders
//! findings for people, programs and CI. [`terminal`] escapes and pads user
//! text for every human report; [`fix`] applies the edits findings
//! suggest; [`explain`] holds each code's long explanation.

pub(crate) mod code;
pub mod explain;
pub mod finding;
pub mod fix;
#[doc(hidden)]
pub mod kind;
pub mod problem;
pub mod report;
pub mod source;
pub mod suggest;
pub mod terminal;
