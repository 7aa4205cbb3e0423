//! Ctrl-C while rtgen changes files on disk.
//!
//! During the interview a Ctrl-C ends rtgen at once (see `interview::interrupt`): nothing
//! has been written yet. Once files are being written, ending mid-way would leave a
//! half-written project, so [`deferred`] turns SIGINT into a request that the writer
//! polls between files: it then rolls back and reports `Interrupted` (exit 130), or, past
//! the point of no return, finishes.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asked by the writer between steps: has the user pressed Ctrl-C?
pub struct Deferred(());

impl Deferred {
    pub fn requested(&self) -> bool {
        REQUESTED.load(Ordering::SeqCst)
    }
}

/// Runs `step` with Ctrl-C deferred, then restores whatever handling was in place before
/// (the default, or the interview's exit-on-Ctrl-C).
#[cfg(unix)]
pub fn deferred<T>(step: impl FnOnce(&Deferred) -> T) -> T {
    extern "C" fn on_sigint(_signal: libc::c_int) {
        // An atomic store is async-signal-safe.
        REQUESTED.store(true, Ordering::SeqCst);
    }

    REQUESTED.store(false, Ordering::SeqCst);
    let handler = on_sigint as extern "C" fn(libc::c_int);
    // SAFETY: the handler only stores to an atomic; the previous handler is put back below.
    let previous = unsafe { libc::signal(libc::SIGINT, handler as libc::sighandler_t) };
    let result = step(&Deferred(()));
    // SAFETY: restores the handler that was installed before, unchanged.
    unsafe {
        libc::signal(libc::SIGINT, previous);
    }
    result
}

#[cfg(not(unix))]
pub fn deferred<T>(step: impl FnOnce(&Deferred) -> T) -> T {
    REQUESTED.store(false, Ordering::SeqCst);
    step(&Deferred(()))
}

/// Test hook, documented in README.md: with `RTGEN_TEST_INTERRUPT_DURING_COMMIT=1` rtgen
/// sends itself SIGINT right after the first file of the commit step has been replaced,
/// so a test can prove that an interrupted write restores the project byte for byte.
/// A signal from outside cannot be timed to land inside that step reliably.
pub fn test_hook_interrupt_during_commit() {
    #[cfg(unix)]
    if std::env::var_os("RTGEN_TEST_INTERRUPT_DURING_COMMIT").is_some() {
        // SAFETY: raise(3) runs the deferring handler installed by `deferred`.
        unsafe {
            libc::raise(libc::SIGINT);
        }
    }
}
