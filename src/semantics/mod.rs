//! Semantics: what rule files mean. [`load`] reads a file and follows its
//! `extends` chain, [`check`] gives names their meaning and types values,
//! [`compile`] applies the edits of a chain into one flat, typed [`plan`].

pub mod allow;
pub mod check;
pub mod compile;
pub mod fit;
pub mod load;
pub mod plan;
