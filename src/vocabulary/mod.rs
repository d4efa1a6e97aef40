//! The words rule files, calls and reports share.

pub mod time;
