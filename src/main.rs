//! The `callassign` command: a thin layer over the library.

mod cli;
#[cfg(feature = "live")]
mod live;

fn main() -> std::process::ExitCode {
    cli::main()
}
