//! The stop request: set by SIGINT/SIGTERM (Unix), Ctrl-C/Ctrl-Break/close
//! (Windows console) or a service stop, read by the live loop, which then
//! drains the ring and flushes. A second SIGINT/Ctrl-C while stopping
//! takes the default action (the process ends at once).

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

/// The process-wide stop flag.
pub fn flag() -> &'static AtomicBool {
    &STOP
}

/// Asks the live loop to stop.
pub fn request() {
    STOP.store(true, Ordering::SeqCst);
}

/// Installs SIGINT and SIGTERM handlers that set the flag.
#[cfg(unix)]
pub fn install_handlers() -> std::io::Result<()> {
    extern "C" fn on_signal(_sig: libc::c_int) {
        // Only an atomic store: async-signal-safe.
        STOP.store(true, Ordering::SeqCst);
    }
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: `sigaction` is a plain C struct for which all-zero bytes
        // are a valid value (empty mask, no flags, SIG_DFL).
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
        // SA_RESETHAND restores the default action after the first signal,
        // so a second one ends the process.
        action.sa_flags = libc::SA_RESETHAND;
        // SAFETY: 1. `action` is a valid sigaction that lives across the
        // call; its handler only performs an atomic store, which is
        // async-signal-safe; 2. the old action is not asked for (null).
        let rc = unsafe { libc::sigaction(sig, &action, std::ptr::null_mut()) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Installs a console control handler (Ctrl-C, Ctrl-Break, console close,
/// logoff, shutdown) that sets the flag.
#[cfg(windows)]
pub fn install_handlers() -> std::io::Result<()> {
    use windows_sys::Win32::System::Console::SetConsoleCtrlHandler;

    unsafe extern "system" fn on_ctrl(_kind: u32) -> windows_sys::core::BOOL {
        // Handled: the loop stops, drains and exits; Windows gives a close
        // or shutdown event a few seconds before it ends the process.
        STOP.store(true, Ordering::SeqCst);
        1
    }
    // SAFETY: 1. `on_ctrl` has the PHANDLER_ROUTINE signature and only
    // performs an atomic store; 2. it is a plain function, valid for the
    // life of the process.
    let ok = unsafe { SetConsoleCtrlHandler(Some(on_ctrl), 1) };
    if ok == 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
