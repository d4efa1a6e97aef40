//! The `callassign` command: a thin layer over the library.

#[macro_use]
mod cli;
#[cfg(feature = "live")]
mod live;
#[cfg(feature = "serve")]
mod serve;

fn main() -> std::process::ExitCode {
    cli::main()
}
