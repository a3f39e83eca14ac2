//! The checkpoint file, `barge_checkpoint.json` next to the config: a report of what the run
//! has done (phase, per-table items and rows) and the fingerprint a resume must match.
//!
//! The truth about done work is the ledger in the target database (see `ledger`); this file
//! lets `barge checkpoint status` answer offline and lets a resume refuse early with a reason.
//! It is written atomically (temp file, fsync, rename, fsync of the folder), at most twice a
//! second from a background task so the copy never waits on it, and deleted after success.

use crate::fingerprint::Fingerprint;
use crate::progress::{ProgressEvent, ProgressSink};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const FILE_NAME: &str = "barge_checkpoint.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointTable {
    pub name: String,
    pub items_total: usize,
    pub items_done: usize,
    pub rows: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    pub run_id: String,
    pub started_at: String,
    pub target_schema: String,
    pub fingerprint: Fingerprint,
    pub phase: String,
    pub tables: Vec<CheckpointTable>,
}

impl Checkpoint {
    pub fn path_for(dir: &Path) -> PathBuf {
        dir.join(FILE_NAME)
    }

    /// Read a checkpoint; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> Result<Option<Checkpoint>, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| format!("checkpoint `{}` is unreadable: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!(
                "checkpoint `{}` cannot be read: {e}",
                path.display()
            )),
        }
    }

    /// Write atomically: a crash leaves the old file or the new one, never a torn one.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&text)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

/// `YYYYMMDD-HHMMSS-xxxx` in UTC: sortable, and unique enough for one target.
pub fn new_run_id() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let (date, time) = utc_parts(now.as_secs() as i64);
    let noise = (now.subsec_nanos() ^ std::process::id().rotate_left(16)) & 0xffff;
    format!("{date}-{time}-{noise:04x}")
}

/// RFC 3339 UTC timestamp of now.
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64;
    let (d, t) = utc_parts(secs);
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &d[..4],
        &d[4..6],
        &d[6..],
        &t[..2],
        &t[2..4],
        &t[4..]
    )
}

/// (`YYYYMMDD`, `HHMMSS`) for Unix seconds (proleptic Gregorian).
fn utc_parts(secs: i64) -> (String, String) {
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = barge_pgcopy::temporal::civil_from_days(secs.div_euclid(86_400));
    (
        format!("{year:04}{month:02}{day:02}"),
        format!("{:02}{:02}{:02}", rem / 3600, rem % 3600 / 60, rem % 60),
    )
}

/// A progress sink that keeps the checkpoint up to date and forwards every event.
pub(crate) struct CheckpointSink {
    inner: Arc<dyn ProgressSink>,
    path: PathBuf,
    state: Mutex<Checkpoint>,
    dirty: AtomicBool,
}

impl CheckpointSink {
    pub(crate) fn start(
        inner: Arc<dyn ProgressSink>,
        path: PathBuf,
        checkpoint: Checkpoint,
    ) -> Arc<CheckpointSink> {
        let sink = Arc::new(CheckpointSink {
            inner,
            path,
            state: Mutex::new(checkpoint),
            dirty: AtomicBool::new(true),
        });
        sink.flush();
        let weak = Arc::downgrade(&sink);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let Some(s) = weak.upgrade() else { return };
                if s.dirty.swap(false, Ordering::SeqCst) {
                    let s2 = s.clone();
                    let _ = tokio::task::spawn_blocking(move || s2.write()).await;
                }
            }
        });
        sink
    }

    fn write(&self) {
        let snapshot = self.state.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Err(e) = snapshot.save(&self.path) {
            self.inner.event(ProgressEvent::Warning(format!(
                "cannot write the checkpoint `{}`: {e}",
                self.path.display()
            )));
        }
    }

    /// Write now (phase changes, the end of a run).
    pub(crate) fn flush(&self) {
        self.dirty.store(false, Ordering::SeqCst);
        self.write();
    }

    /// The run finished: the checkpoint has nothing left to say.
    pub(crate) fn remove(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl ProgressSink for CheckpointSink {
    fn event(&self, event: ProgressEvent) {
        {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            match &event {
                ProgressEvent::Phase(p) => s.phase = (*p).to_string(),
                ProgressEvent::ChunkDone { table, rows } => {
                    if let Some(t) = s.tables.iter_mut().find(|t| &t.name == table) {
                        t.items_done += 1;
                        t.rows += rows;
                    }
                    self.dirty.store(true, Ordering::SeqCst);
                }
                _ => {}
            }
        }
        if matches!(event, ProgressEvent::Phase(_)) {
            self.flush();
        }
        self.inner.event(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formatting() {
        assert_eq!(utc_parts(0), ("19700101".to_string(), "000000".to_string()));
        assert_eq!(
            utc_parts(1_700_000_000),
            ("20231114".to_string(), "221320".to_string())
        );
        assert_eq!(
            utc_parts(951_782_400),
            ("20000229".to_string(), "000000".to_string())
        );
    }
}
