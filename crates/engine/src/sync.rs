//! Mutex access for state shared by workers.

use std::sync::{Mutex, MutexGuard};

/// Lock, recovering from poisoning: a panicking worker cannot leave these collections
/// half-updated in a way that matters, and its panic is reported on its own.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
