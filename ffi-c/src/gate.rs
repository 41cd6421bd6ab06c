//! A C callback the engine calls from its threads while the app may replace or clear it from
//! another: frame callbacks (`frame_callback.rs`) and the log callback (`log.rs`).

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// A callback (a C function with its `user_data`, `T`) shared with the threads that call it.
/// [`Gate::enter`] takes it for one call; [`Gate::retire`] empties it and, with `wait`,
/// returns once no call runs, so the app may free the old `user_data` when clearing returns.
pub(crate) struct Gate<T: Copy> {
    state: Mutex<GateState<T>>,
    idle: Condvar,
}

struct GateState<T> {
    /// `None` once retired: later calls are dropped.
    callback: Option<T>,
    /// Calls running now.
    running: usize,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded data stay consistent (no user code runs under these locks).
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One call in progress; ending it (also by unwinding) may wake a waiting `retire`.
pub(crate) struct Running<'a, T: Copy>(&'a Gate<T>);

impl<T: Copy> Drop for Running<'_, T> {
    fn drop(&mut self) {
        let mut state = lock(&self.0.state);
        state.running -= 1;
        if state.running == 0 {
            self.0.idle.notify_all();
        }
    }
}

impl<T: Copy> Gate<T> {
    pub(crate) fn new(callback: T) -> Gate<T> {
        Gate { state: Mutex::new(GateState { callback: Some(callback), running: 0 }), idle: Condvar::new() }
    }

    /// The callback for one call (which lasts as long as the `Running`), or `None` once retired.
    pub(crate) fn enter(&self) -> Option<(T, Running<'_, T>)> {
        let mut state = lock(&self.state);
        let callback = state.callback?;
        state.running += 1;
        Some((callback, Running(self)))
    }

    /// Empties the gate; with `wait`, returns once no call of the old callback runs (callers
    /// on a thread that may itself be inside a call pass `false`).
    pub(crate) fn retire(&self, wait: bool) {
        let mut state = lock(&self.state);
        state.callback = None;
        while wait && state.running > 0 {
            state = self.idle.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Calls running now.
    #[cfg(test)]
    pub(crate) fn running(&self) -> usize {
        lock(&self.state).running
    }
}
