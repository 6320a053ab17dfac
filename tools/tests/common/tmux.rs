//! A terminal for the terminal UI's tests: a tmux server of its own, with
//! one window running a command, whose screen is read as text.

use std::process::Command;
use std::time::{Duration, Instant};

/// Whether tmux can be used (see [`super::require`]: missing, it fails
/// the test in CI and skips it elsewhere).
pub fn have_tmux() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    super::require(ok, "tmux (apt-get install tmux)")
}

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Runs `command` in a `width` x `height` window; the shell then
    /// prints `EXIT=` and the exit status and keeps the window open.
    pub fn start(name: &str, width: u16, height: u16, command: &str) -> Tmux {
        let socket = format!("switchyard-{name}-{}", std::process::id());
        let t = Tmux { socket };
        let shell = format!("{command}; echo EXIT=$?; sleep 600");
        let status = t
            .tmux()
            .args(["new-session", "-d", "-s", "main"])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg(shell)
            .env_remove("TMUX")
            .status()
            .unwrap();
        assert!(status.success(), "tmux new-session failed");
        t
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    pub fn keys(&self, keys: &str) {
        let status = self
            .tmux()
            .args(["send-keys", "-t", "main", keys])
            .status()
            .unwrap();
        assert!(status.success());
    }

    pub fn screen(&self) -> String {
        let o = self
            .tmux()
            .args(["capture-pane", "-p", "-t", "main"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// The screen once it contains every one of `texts`, on two captures
    /// in a row (the later one returned): a capture can fall in the middle
    /// of a redraw, with the new frame's first lines over the old frame's
    /// last ones.
    pub fn wait_for(&self, texts: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = false;
        loop {
            let screen = self.screen();
            if texts.iter().all(|t| screen.contains(t)) {
                if seen {
                    return screen;
                }
                seen = true;
            } else {
                seen = false;
            }
            assert!(
                Instant::now() < deadline,
                "never saw {texts:?} on the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}
