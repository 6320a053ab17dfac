//! The attached source: another Switchyard process, stopped for a moment
//! at each refresh (ptrace), read through its registry, and let go. It is
//! never changed: no stepping, no break points.

use std::path::PathBuf;

use anyhow::anyhow;
use switchyard_unwind::CfiUnwinder;
use switchyard_unwind::elf;
use switchyard_unwind::ptrace::StoppedProcess;
use switchyard_unwind::registry::Snapshot;
use switchyard_unwind::report::{record_containing, report_threads};

use super::picture::{self, LIMITS, RunningWalk};
use super::{Progress, SourceKind, State};
use crate::app::Control;

/// Another process.
pub struct Attached {
    pid: i32,
    registry: u64,
}

impl Attached {
    /// Finds process `pid`'s registry; fails with a one-line reason.
    pub fn open(pid: i32) -> anyhow::Result<Attached> {
        if pid <= 0 || std::fs::metadata(format!("/proc/{pid}")).is_err() {
            anyhow::bail!("no process with pid {pid}");
        }
        if pid as u32 == std::process::id() {
            anyhow::bail!("cannot attach to the inspector itself");
        }
        let exe = PathBuf::from(format!("/proc/{pid}/exe"));
        let bias = elf::load_bias(pid, &exe).map_err(|e| anyhow!("process {pid}: {e}"))?;
        let registry =
            elf::registry_address(&exe, bias).map_err(|e| anyhow!("process {pid}: {e}"))?;
        Ok(Attached { pid, registry })
    }

    /// An empty state for this process.
    pub fn state(&self) -> State {
        let comm = std::fs::read_to_string(format!("/proc/{}/cmdline", self.pid))
            .map(|c| c.replace('\0', " ").trim().to_string())
            .unwrap_or_default();
        State::new(SourceKind::Attached, format!("pid {} {comm}", self.pid))
    }

    /// Stops the process, reads every stack, lets it go. An error means the
    /// process is gone or cannot be read.
    pub fn refresh(&mut self, state: &mut State) -> anyhow::Result<()> {
        let pid = self.pid;
        if std::fs::metadata(format!("/proc/{pid}")).is_err() {
            anyhow::bail!("process {pid} has exited");
        }
        let stopped = StoppedProcess::stop(pid).map_err(|e| {
            match std::fs::metadata(format!("/proc/{pid}")) {
                Err(_) => anyhow!("process {pid} has exited"),
                Ok(_) => anyhow!("process {pid}: {e}"),
            }
        })?;
        let memory = stopped.memory();
        let picture = match Snapshot::read(&memory, self.registry) {
            Ok(snapshot) => {
                let cfi = CfiUnwinder::for_generated_code(&memory, &snapshot);
                let threads = report_threads(&memory, &snapshot, &cfi, stopped.threads(), LIMITS);
                let running: Vec<RunningWalk> = threads
                    .into_iter()
                    .zip(stopped.threads())
                    .filter(|(t, _)| !t.steps.is_empty())
                    .map(|(t, regs)| RunningWalk {
                        steps: t.steps,
                        sp: regs.rsp,
                        record: record_containing(&snapshot, regs.rsp).cloned(),
                    })
                    .collect();
                picture::build(&memory, &snapshot, &running, &Default::default())
            }
            Err(e) => {
                drop(stopped);
                anyhow::bail!("process {pid}: {e}");
            }
        };
        stopped.resume();
        state.picture = picture;
        state.progress = Progress::Running;
        Ok(())
    }
}

/// Controls of a read-only view: none.
pub struct ReadOnly;

impl Control for ReadOnly {
    fn step(&mut self, _: u64) -> Result<(), String> {
        Err("read-only: stepping needs the program run under `switchyard inspect FILE`".into())
    }
    fn resume(&mut self) -> Result<(), String> {
        Err("read-only: nothing to continue".into())
    }
    fn pause(&mut self) -> Result<(), String> {
        Err("read-only: nothing to pause".into())
    }
    fn set_breaks(&mut self, _: &[String]) -> Result<(), String> {
        Err("read-only: break points need the program run under `switchyard inspect FILE`".into())
    }
}
