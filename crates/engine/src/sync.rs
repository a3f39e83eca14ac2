//! Mutex access for state shared by workers.

use std::sync::{Mutex, MutexGuard};

/// Lock, recovering from poisoning: a panicking worker cannot leave these collections
/// half-updated in a way that matters, and its panic is reported on its own.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A work list shared by workers, each taking the next item.
pub(crate) struct SharedQueue<T> {
    items: Mutex<std::collections::VecDeque<T>>,
}

impl<T> SharedQueue<T> {
    pub(crate) fn new(items: Vec<T>) -> Self {
        SharedQueue {
            items: Mutex::new(items.into()),
        }
    }

    pub(crate) fn pop(&self) -> Option<T> {
        lock(&self.items).pop_front()
    }
}
