//! callassign's integration tests, one binary: each module is a topic,
//! and its test names say the behaviour they prove.

mod common;
mod support;

mod bad_input;
mod check_context;
mod ci_formats;
mod ci_integration;
mod cli_check;
mod cli_completions;
mod cli_eval;
mod cli_fmt;
mod cli_init;
mod cli_plan;
mod cli_test;
mod cloudtalk;
mod compile;
mod conditions;
mod corpus;
mod deploy;
mod diff;
mod docs;
mod editors;
mod embed;
mod engine;
mod findings;
mod fmt_properties;
mod hardening;
mod layers;
mod live;
mod lsp;
mod project;
mod quick_fixes;
mod regressions;
mod schemas;
mod serve;
mod sources;
mod stats;
mod steps;
mod vocabulary;
