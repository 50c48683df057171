//! Linux shared memory for the ring: a memfd (anonymous, passed to a child
//! process by file descriptor) or a POSIX shm object (`/dev/shm/<name>`,
//! found by name, as `vigil run --source shm:<name>` does).
//!
//! This is the Linux stand-in for the Windows path, where the analyzer's
//! buffer is lent to the driver through an IOCTL. The ring code on both sides
//! is the protocol crate's; only how the bytes are shared differs.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::ptr::NonNull;

use vigil_protocol::ring::{RingError, SharedMemory};

/// A shared mapping of a file descriptor; unmapped on drop.
#[derive(Debug)]
pub struct ShmMapping {
    ptr: NonNull<u8>,
    len: usize,
    file: File,
}

// SAFETY: the mapping is plain shared memory with no thread affinity; the
// ring types built on it synchronize their own access.
unsafe impl Send for ShmMapping {}
// SAFETY: as above.
unsafe impl Sync for ShmMapping {}

impl ShmMapping {
    /// A new anonymous memfd of `len` bytes, zero-filled, mapped. The fd is
    /// inheritable, so a child process can map it with [`ShmMapping::from_fd`].
    pub fn memfd(name: &str, len: usize) -> io::Result<Self> {
        let cname =
            std::ffi::CString::new(name).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in name"))?;
        // SAFETY: `cname` is a valid NUL-terminated string; flags 0 (no
        // MFD_CLOEXEC) keep the fd inheritable on purpose.
        let fd = unsafe { libc::memfd_create(cname.as_ptr(), 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just returned by memfd_create and is owned by no one else.
        let file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        file.set_len(len as u64)?;
        Self::map(file, len)
    }

    /// Maps an inherited descriptor (a memfd from the parent).
    ///
    /// # Safety
    /// `fd` is an open descriptor this process owns and nothing else closes.
    pub unsafe fn from_fd(fd: RawFd) -> io::Result<Self> {
        // SAFETY: per this function's contract.
        let file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        let len = file.metadata()?.len() as usize;
        Self::map(file, len)
    }

    /// Creates (or truncates) the POSIX shm object `/dev/shm/<name>`.
    pub fn create_named(name: &str, len: usize) -> io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(Self::path_of(name)?)?;
        file.set_len(len as u64)?;
        Self::map(file, len)
    }

    /// Opens the existing POSIX shm object `/dev/shm/<name>`.
    pub fn open_named(name: &str) -> io::Result<Self> {
        let file = std::fs::OpenOptions::new().read(true).write(true).open(Self::path_of(name)?)?;
        let len = file.metadata()?.len() as usize;
        Self::map(file, len)
    }

    /// The path of POSIX shm object `name`: `/dev/shm/<name>`. A name with a
    /// `/`, starting with `.`, or empty is refused.
    pub fn path_of(name: &str) -> io::Result<PathBuf> {
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("invalid shm name {name:?}")));
        }
        Ok(PathBuf::from("/dev/shm").join(name))
    }

    fn map(file: File, len: usize) -> io::Result<Self> {
        if len == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty shared memory object"));
        }
        // SAFETY: a fresh shared read/write mapping of `len` bytes of an open
        // file; the kernel picks the address. Failure is MAP_FAILED, checked.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(p.cast::<u8>()).ok_or_else(io::Error::last_os_error)?;
        Ok(Self { ptr, len, file })
    }

    /// The mapped file.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The descriptor (to pass to a child process).
    pub fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is empty (never: `map` refuses that).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The mapping as ring memory. The mapping must outlive every ring
    /// object built from the result.
    pub fn shared_memory(&self) -> Result<SharedMemory, RingError> {
        // SAFETY: 1. `ptr` is valid for `len` bytes until `self` is dropped,
        // which the caller keeps alive (documented above); 2. in this process
        // only the ring types access it (another process may do anything:
        // the ring validates whatever it reads).
        unsafe { SharedMemory::new(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for ShmMapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly what mmap returned and are unmapped
        // once, here.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// An eventfd used as the ring's wakeup: the producer writes, the consumer
/// waits with a timeout.
#[derive(Debug)]
pub struct EventFd {
    fd: OwnedFd,
}

impl EventFd {
    /// A new, inheritable eventfd.
    pub fn new() -> io::Result<Self> {
        // SAFETY: plain syscall; flags 0 keep it inheritable.
        let fd = unsafe { libc::eventfd(0, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is fresh and owned by no one else.
        Ok(Self { fd: unsafe { OwnedFd::from_raw_fd(fd) } })
    }

    /// Wraps an inherited eventfd.
    ///
    /// # Safety
    /// `fd` is an open eventfd this process owns and nothing else closes.
    pub unsafe fn from_fd(fd: RawFd) -> Self {
        // SAFETY: per this function's contract.
        Self { fd: unsafe { OwnedFd::from_raw_fd(fd) } }
    }

    /// The descriptor.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Signals the consumer.
    pub fn signal(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a valid local to an eventfd we own; a
        // failed write (counter overflow) only means a wakeup is pending.
        let _ = unsafe { libc::write(self.fd.as_raw_fd(), (&raw const one).cast(), 8) };
    }

    /// Waits up to `timeout_ms` for a signal; true if signalled.
    pub fn wait(&self, timeout_ms: i32) -> bool {
        let mut pfd = libc::pollfd { fd: self.fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: `pfd` is a valid pollfd array of length 1.
        let n = unsafe { libc::poll(&raw mut pfd, 1, timeout_ms) };
        if n <= 0 {
            return false;
        }
        let mut v: u64 = 0;
        // SAFETY: reads 8 bytes into a valid local.
        let _ = unsafe { libc::read(self.fd.as_raw_fd(), (&raw mut v).cast(), 8) };
        true
    }
}

impl vigil_protocol::ring::Notify for EventFd {
    fn notify(&self) {
        self.signal();
    }
}
