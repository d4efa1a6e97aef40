//! Diagnostics: everything callassign has to say about a rule file.
//! [`finding`] defines the findings and their stable codes, [`kind`] what
//! each kind of finding says, [`suggest`]
//! finds the word a misspelling meant, [`report`] renders findings for
//! people, programs and CI.

pub mod finding;
pub mod kind;
pub mod report;
pub mod suggest;
