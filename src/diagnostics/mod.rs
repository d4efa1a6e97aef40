//! Diagnostics: everything callassign has to say about a rule file.
//! [`finding`] defines the findings and their stable codes, [`kind`] what
//! each kind of finding says, [`suggest`]
//! finds the word a misspelling meant, [`report`] renders findings for
//! people, programs and CI. [`terminal`] escapes and pads user text for
//! every human report; [`fix`] applies the edits findings suggest;
//! [`explain`] holds each code's long explanation.

pub mod explain;
pub mod finding;
pub mod fix;
pub mod kind;
pub mod report;
pub mod suggest;
pub mod terminal;
