//! Child processes whose output lines the test reads as they come.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// A running child; its stdout and stderr lines arrive on channels.
pub struct Proc {
    pub child: Child,
    pub out: Receiver<String>,
    pub err: Receiver<String>,
}

fn lines(r: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Proc {
    /// Starts `exe args…`.
    pub fn spawn(exe: &str, args: &[&str]) -> Self {
        let mut child = Command::new(exe)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {exe}: {e}"));
        let out = lines(child.stdout.take().unwrap());
        let err = lines(child.stderr.take().unwrap());
        Proc { child, out, err }
    }

    /// Sends `sig` (SIGKILL, SIGTERM).
    pub fn signal(&self, sig: i32) {
        // SAFETY: `kill` on the pid of a child we have not reaped yet.
        let rc = unsafe { libc::kill(self.child.id() as i32, sig) };
        assert_eq!(rc, 0, "kill({}, {sig})", self.child.id());
    }

    /// Waits up to `limit` for the child to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let end = Instant::now() + limit;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < end, "pid {} still running after {limit:?}", self.child.id());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    /// A failed test leaves nothing running: SIGTERM (the producer removes
    /// its /dev/shm names on it), then SIGKILL if it lingers.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        // SAFETY: `kill` on the pid of a child we have not reaped yet.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let end = Instant::now() + Duration::from_secs(2);
        while Instant::now() < end {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `rx` until `pred` holds for a line (every line goes to `seen`),
/// failing after `limit`.
pub fn wait_line(
    rx: &Receiver<String>,
    limit: Duration,
    seen: &mut dyn FnMut(&str),
    pred: &dyn Fn(&str) -> bool,
) -> String {
    let end = Instant::now() + limit;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).unwrap_or_else(|_| panic!("no matching line within {limit:?}"));
        seen(&line);
        if pred(&line) {
            return line;
        }
    }
}

/// Every line available now.
pub fn drain(rx: &Receiver<String>) -> Vec<String> {
    rx.try_iter().collect()
}
