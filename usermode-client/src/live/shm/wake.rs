//! The stand-in's wakeup: a named FIFO beside the region.
//!
//! On Windows the consumer hands the driver an event handle with the loan.
//! A shm region found by name has no such hand-over, so the producer signals
//! by writing a byte to `/dev/shm/<name>.wake` and the consumer polls it.
//! Both ends open it read-write and non-blocking: opening never waits for
//! the other side, a write never blocks (a full pipe means a wakeup is
//! already pending) and never raises SIGPIPE, whoever is or is not there.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

/// One end of the wakeup FIFO.
#[derive(Debug)]
pub struct WakeFifo {
    file: File,
}

impl WakeFifo {
    /// Creates the FIFO at `path` if it does not exist, and opens it
    /// (producer).
    pub fn create(path: &Path) -> io::Result<Self> {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))?;
        // SAFETY: `c` is a valid NUL-terminated path that lives across the call.
        let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
        if rc != 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::AlreadyExists {
                return Err(e);
            }
        }
        Self::open(path)
    }

    /// Opens an existing FIFO (consumer).
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)?;
        if !file.metadata().is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_fifo(&m.file_type())) {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("{} is not a FIFO", path.display())));
        }
        Ok(Self { file })
    }

    /// Signals the consumer. Never blocks.
    pub fn signal(&self) {
        // A full pipe (EAGAIN) already holds a pending wakeup.
        let _ = (&self.file).write(&[1]);
    }

    /// Waits up to `timeout` for a signal and consumes every pending one.
    pub fn wait(&self, timeout: Duration) -> bool {
        let mut pfd = libc::pollfd { fd: self.file.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: `pfd` is a valid array of one pollfd for the call's duration.
        let n = unsafe { libc::poll(&raw mut pfd, 1, ms) };
        if n <= 0 {
            return false;
        }
        let mut buf = [0u8; 256];
        while matches!((&self.file).read(&mut buf), Ok(n) if n == buf.len()) {}
        true
    }
}

impl vigil_protocol::ring::Notify for WakeFifo {
    fn notify(&self) {
        self.signal();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_wakes_and_a_full_pipe_never_blocks() {
        let dir = std::env::temp_dir().join(format!("vigil-wake-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        let producer = WakeFifo::create(&dir).unwrap();
        let consumer = WakeFifo::open(&dir).unwrap();
        assert!(!consumer.wait(Duration::from_millis(1)));
        producer.signal();
        assert!(consumer.wait(Duration::from_millis(100)));
        assert!(!consumer.wait(Duration::from_millis(1)), "pending signals are consumed");
        // Far more than a pipe holds, with no reader: must return.
        for _ in 0..200_000 {
            producer.signal();
        }
        assert!(consumer.wait(Duration::from_millis(100)));
        assert!(WakeFifo::open(Path::new("/dev/null")).is_err(), "not a FIFO");
        std::fs::remove_file(&dir).unwrap();
    }
}
