//! The reject report: one JSON line per value loaded as NULL under
//! `on_invalid_value = "null"`, appended as soon as its chunk commits so a resumed run keeps
//! the lines of the run it continues.

use barge_model::Reject;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

pub(crate) struct RejectLog {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
    count: AtomicUsize,
}

impl RejectLog {
    /// A fresh run starts a new report; a resumed one appends to the one it continues.
    pub(crate) fn new(path: &Path, fresh: bool) -> RejectLog {
        if fresh {
            let _ = std::fs::remove_file(path);
        }
        RejectLog {
            path: path.to_path_buf(),
            file: Mutex::new(None),
            count: AtomicUsize::new(0),
        }
    }

    pub(crate) fn append(&self, rejects: &[Reject]) -> Result<(), String> {
        if rejects.is_empty() {
            return Ok(());
        }
        let err =
            |e: std::io::Error| format!("writing the reject report `{}`: {e}", self.path.display());
        let mut text = String::new();
        for r in rejects {
            text.push_str(&serde_json::to_string(r).map_err(|e| err(std::io::Error::other(e)))?);
            text.push('\n');
        }
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(err)?;
            *guard = Some(f);
        }
        if let Some(f) = guard.as_mut() {
            f.write_all(text.as_bytes()).map_err(err)?;
        }
        self.count.fetch_add(rejects.len(), Ordering::SeqCst);
        Ok(())
    }

    /// Values rejected by this process.
    pub(crate) fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}
