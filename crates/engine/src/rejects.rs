//! The reject report: one JSON line per value loaded as NULL under
//! `on_invalid_value = "null"`. Each chunk's lines are stored in the ledger in the chunk's
//! own transaction; the file is appended as chunks commit and rewritten complete from the
//! ledger when the copy ends, so a crash at any moment loses no line.

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

    pub(crate) fn append(&self, lines: &[String]) -> Result<(), String> {
        if lines.is_empty() {
            return Ok(());
        }
        let err =
            |e: std::io::Error| format!("writing the reject report `{}`: {e}", self.path.display());
        let mut text = String::new();
        for l in lines {
            text.push_str(l);
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
        self.count.fetch_add(lines.len(), Ordering::SeqCst);
        Ok(())
    }

    /// Write the complete report (every line of the run, this process's and earlier ones').
    pub(crate) fn rewrite(&self, lines: &[String]) -> Result<(), String> {
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        *guard = None;
        self.count.store(lines.len(), Ordering::SeqCst);
        if lines.is_empty() {
            let _ = std::fs::remove_file(&self.path);
            return Ok(());
        }
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(&self.path, text)
            .map_err(|e| format!("writing the reject report `{}`: {e}", self.path.display()))
    }

    /// Values rejected in the run.
    pub(crate) fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}
