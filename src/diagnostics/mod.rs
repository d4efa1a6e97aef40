//! Diagnostics: everything callassign has to say about a rule file.
//! [`finding`] defines the findings and their stable codes, [`kind`] what
//! each kind of finding says, [`suggest`]
//! finds the word a misspelling meant, [`report`] renders findings for
//! people, programs and CI. [`terminal`] escapes and pads user text for
//! every human report.

pub(crate) mod code;
pub mod finding;
#[doc(hidden)]
pub mod kind;
pub mod problem;
pub mod report;
pub mod source;
pub mod suggest;
pub mod terminal;
