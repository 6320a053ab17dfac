//! `switchyard wast`: runs specification test scripts.

use std::process::ExitCode;

use crate::cli::WastArgs;

pub fn main(_args: WastArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("switchyard wast is not written yet")
}
