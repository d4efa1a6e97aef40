//! The `callassign` command: a thin layer over the library.

mod cli;
mod lsp;
mod scaffold;

fn main() -> std::process::ExitCode {
    cli::main()
}
