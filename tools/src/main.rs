//! The `switchyard` command.

mod bt;
mod cli;
mod gdb_autoload;
mod inspect;
mod output;
mod perf;
mod profile;
mod run;
mod stacks;
mod trace;
mod wasi_setup;
mod wast;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(e) => {
            // Help and version go to stdout with success; usage errors get
            // the first line of clap's message (which names the option)
            // and status 2.
            if e.use_stderr() {
                let text = e.render().to_string();
                eprintln!("{}", text.lines().next().unwrap_or("error: bad arguments"));
                return ExitCode::from(2);
            }
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    let result = match args.command {
        cli::Command::Run(run) => run::main(run),
        cli::Command::Trace(args) => trace::main(args),
        cli::Command::Wast(wast) => wast::main(wast),
        cli::Command::Bt(bt) => bt::main(bt),
        cli::Command::Inspect(args) => inspect::main(args),
        cli::Command::Perf(perf) => perf::main(perf),
        cli::Command::Profile(profile) => profile::main(profile),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // One line, whatever names the message quotes.
            eprintln!(
                "error: {}",
                switchyard_engine::display_name(&format!("{e:#}"))
            );
            ExitCode::FAILURE
        }
    }
}
