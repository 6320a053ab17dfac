//! The terminal: raw mode and the alternate screen on `/dev/tty`, always
//! restored (on return, on error, on panic), and the program's stdio moved
//! off it while a live program runs.

use std::fs::File;

use std::os::fd::{AsRawFd, FromRawFd};
use std::sync::Mutex;

use anyhow::{Context, bail};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::{cursor, execute, terminal};

/// Descriptors 0, 1, 2 as they were before a [`Redirect`], for the panic
/// hook to put back.
static SAVED_STDIO: Mutex<Option<[i32; 3]>> = Mutex::new(None);

/// The inspector's screen. Dropping it gives the terminal back.
pub struct Screen {
    /// The ratatui terminal on `/dev/tty`.
    pub terminal: Terminal<CrosstermBackend<File>>,
}

fn open_tty() -> anyhow::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .context("the inspector needs a terminal (/dev/tty cannot be opened)")
}

fn restore_terminal() {
    let _ = terminal::disable_raw_mode();
    if let Ok(mut tty) = open_tty() {
        let _ = execute!(tty, terminal::LeaveAlternateScreen, cursor::Show);
    }
}

fn restore_stdio() {
    let saved = SAVED_STDIO.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(saved) = saved {
        for (fd, old) in saved.into_iter().enumerate() {
            // SAFETY: `old` is a descriptor we duplicated and still own.
            unsafe {
                libc::dup2(old, fd as i32);
                libc::close(old);
            }
        }
    }
}

impl Screen {
    /// Takes over the terminal.
    pub fn open() -> anyhow::Result<Screen> {
        let mut tty = open_tty()?;
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            restore_stdio();
            hook(info);
        }));
        terminal::enable_raw_mode().context("cannot put the terminal in raw mode")?;
        execute!(tty, terminal::EnterAlternateScreen, cursor::Hide)?;
        let terminal = Terminal::new(CrosstermBackend::new(tty))?;
        Ok(Screen { terminal })
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// The program's stdin reads /dev/null and its stdout and stderr go to a
/// pipe whose text goes to `sink`, until this is dropped.
pub struct Redirect;

impl Redirect {
    /// Moves descriptors 0, 1 and 2.
    pub fn start(sink: impl Fn(&str) + Send + 'static) -> anyhow::Result<Redirect> {
        let mut fds = [0i32; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            bail!("cannot make a pipe for the program's output");
        }
        let null = File::open("/dev/null").context("/dev/null")?;
        let mut saved = [0i32; 3];
        for (fd, slot) in saved.iter_mut().enumerate() {
            // SAFETY: duplicating a standard descriptor has no memory
            // effects; a failure (-1) is checked below.
            *slot = unsafe { libc::fcntl(fd as i32, libc::F_DUPFD_CLOEXEC, 10) };
            if *slot < 0 {
                bail!("cannot save standard descriptor {fd}");
            }
        }
        *SAVED_STDIO.lock().unwrap_or_else(|e| e.into_inner()) = Some(saved);
        // SAFETY: dup2 onto the standard descriptors, from descriptors we
        // own; the write end is closed once duplicated.
        unsafe {
            libc::dup2(null.as_raw_fd(), 0);
            libc::dup2(fds[1], 1);
            libc::dup2(fds[1], 2);
            libc::close(fds[1]);
        }
        // SAFETY: the read end is ours alone from here on.
        let mut reader = unsafe { File::from_raw_fd(fds[0]) };
        std::thread::Builder::new()
            .name("program output".into())
            .spawn(move || {
                use std::io::Read;
                let mut buf = [0u8; 4096];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    sink(&String::from_utf8_lossy(&buf[..n]));
                }
            })?;
        Ok(Redirect)
    }
}

impl Drop for Redirect {
    fn drop(&mut self) {
        restore_stdio();
    }
}
