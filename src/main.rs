//! The `callassign` command: a thin layer over the library.

#[macro_use]
mod cli;
#[cfg(feature = "live")]
mod live;
mod lsp;
mod project;
mod scaffold;
#[cfg(feature = "serve")]
mod serve;

fn main() -> std::process::ExitCode {
    cli::main()
}
