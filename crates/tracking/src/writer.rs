//! The writer task: records arrive over an unbounded channel (sending never waits, so the
//! copy never waits on the tracking database), are batched, and written one transaction
//! per batch.
//!
//! When the tracking database cannot be reached the records stay in memory, the writer
//! warns once, reconnects with backoff (0.25 s doubling to 10 s) and writes everything when
//! it is back. At the end of a run it keeps trying for `finish_timeout`, then reports how
//! many records were not written. A batch that fails for another reason (a statement error)
//! is retried record by record so one bad record costs only itself.
//!
//! Limits, by choice: records wait in memory without a cap while the database is away (a
//! run produces a few per table, not per row); and a batch whose COMMIT succeeded but whose
//! acknowledgement was lost is written again, which upserts make harmless everywhere but
//! in the append-only event log, where those events then appear twice.

use crate::error::TrackingError;
use crate::record::Record;
use crate::store::TrackingStore;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// Receives the writer's warnings (for the terminal and logs).
pub type WarningSink = Arc<dyn Fn(String) + Send + Sync>;

#[derive(Debug, Clone, Copy)]
pub struct WriterOptions {
    /// Write as soon as this many records wait.
    pub batch_size: usize,
    /// Write at least this often while records wait.
    pub interval: Duration,
    /// How long `finish` keeps retrying an unreachable database.
    pub finish_timeout: Duration,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            batch_size: 500,
            interval: Duration::from_millis(250),
            finish_timeout: Duration::from_secs(30),
        }
    }
}

enum Command {
    Record(Box<Record>),
    Flush(oneshot::Sender<()>),
    Finish(oneshot::Sender<usize>),
}

/// Sends records to the writer; cheap to clone, never blocks.
#[derive(Clone)]
pub struct RecordSender {
    tx: mpsc::UnboundedSender<Command>,
}

impl RecordSender {
    pub fn send(&self, record: Record) {
        // A closed writer (after finish) drops late records; nothing may block here.
        let _ = self.tx.send(Command::Record(Box::new(record)));
    }

    /// Wait until everything sent so far has been tried once.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Command::Flush(ack)).is_ok() {
            let _ = done.await;
        }
    }

    /// Write what is left (retrying up to the finish timeout) and stop the writer.
    /// Returns the number of records that could not be written.
    pub async fn finish(&self) -> usize {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Command::Finish(ack)).is_err() {
            return 0;
        }
        done.await.unwrap_or(0)
    }
}

struct Writer {
    store: TrackingStore,
    pending: Vec<Record>,
    /// Set while the database is unreachable: when to try again, and the current backoff.
    down: Option<(Instant, Duration)>,
    warn: WarningSink,
    options: WriterOptions,
}

/// Start the writer task on the current tokio runtime.
pub fn start(store: TrackingStore, warn: WarningSink, options: WriterOptions) -> RecordSender {
    let (tx, rx) = mpsc::unbounded_channel();
    let writer = Writer {
        store,
        pending: Vec::new(),
        down: None,
        warn,
        options,
    };
    tokio::spawn(writer.run(rx));
    RecordSender { tx }
}

impl Writer {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        let mut due: Option<Instant> = None;
        loop {
            let wake = match (self.down, due) {
                (Some((retry, _)), _) => Some(retry),
                (None, d) => d,
            };
            let cmd = match wake {
                Some(at) => tokio::select! {
                    cmd = rx.recv() => cmd,
                    () = tokio::time::sleep_until(at) => {
                        self.flush().await;
                        due = None;
                        continue;
                    }
                },
                None => rx.recv().await,
            };
            match cmd {
                Some(Command::Record(r)) => {
                    self.pending.push(*r);
                    if self.pending.len() >= self.options.batch_size && self.down.is_none() {
                        self.flush().await;
                        due = None;
                    } else if due.is_none() {
                        due = Some(Instant::now() + self.options.interval);
                    }
                }
                Some(Command::Flush(ack)) => {
                    self.flush().await;
                    due = None;
                    let _ = ack.send(());
                }
                Some(Command::Finish(ack)) => {
                    // Records sent before Finish are already queued in order.
                    while let Ok(Command::Record(r)) = rx.try_recv() {
                        self.pending.push(*r);
                    }
                    let left = self.finish().await;
                    let _ = ack.send(left);
                    return;
                }
                None => {
                    self.finish().await;
                    return;
                }
            }
        }
    }

    async fn finish(&mut self) -> usize {
        let deadline = Instant::now() + self.options.finish_timeout;
        loop {
            if let Some((retry, _)) = self.down {
                if retry > deadline {
                    break;
                }
                tokio::time::sleep_until(retry).await;
            }
            self.flush().await;
            if self.pending.is_empty() || Instant::now() >= deadline {
                break;
            }
        }
        let left = self.pending.len();
        if left > 0 {
            (self.warn)(format!(
                "{left} tracking record(s) could not be written to `{}` and are lost; the migration itself is not affected",
                self.store.description()
            ));
        }
        left
    }

    /// Try to write everything pending.
    async fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        if let Some((_, backoff)) = self.down {
            if self.store.reconnect().await.is_err() {
                let backoff = (backoff * 2).min(Duration::from_secs(10));
                self.down = Some((Instant::now() + backoff, backoff));
                return;
            }
        }
        while !self.pending.is_empty() {
            let n = self.pending.len().min(self.options.batch_size.max(1));
            match self.store.write(&self.pending[..n]).await {
                Ok(()) => {
                    self.pending.drain(..n);
                    if self.down.take().is_some() {
                        (self.warn)(format!(
                            "the tracking database `{}` is reachable again; records kept in memory are being written",
                            self.store.description()
                        ));
                    }
                }
                Err(e) if e.is_connection() => {
                    self.went_down(&e);
                    return;
                }
                Err(e) => {
                    if !self.write_one_by_one(n, &e).await {
                        return;
                    }
                }
            }
        }
    }

    /// After a statement error, isolate the failing record(s); false if the database went
    /// away meanwhile.
    async fn write_one_by_one(&mut self, n: usize, first: &TrackingError) -> bool {
        let batch: Vec<Record> = self.pending.drain(..n).collect();
        let mut failed = 0;
        let mut last = first.to_string();
        for (i, r) in batch.iter().enumerate() {
            match self.store.write(std::slice::from_ref(r)).await {
                Ok(()) => {}
                Err(e) if e.is_connection() => {
                    // Keep the rest, in order, for the retry.
                    let rest: Vec<Record> = batch[i..].to_vec();
                    self.pending.splice(0..0, rest);
                    self.went_down(&e);
                    return false;
                }
                Err(e) => {
                    failed += 1;
                    last = e.to_string();
                }
            }
        }
        if failed > 0 {
            (self.warn)(format!(
                "{failed} tracking record(s) were rejected by the tracking database and dropped: {last}"
            ));
        }
        true
    }

    fn went_down(&mut self, e: &TrackingError) {
        if self.down.is_none() {
            (self.warn)(format!(
                "{e}; the migration goes on, keeping {} tracking record(s) in memory and retrying",
                self.pending.len()
            ));
        }
        let backoff = self.down.map_or(Duration::from_millis(250), |(_, b)| {
            (b * 2).min(Duration::from_secs(10))
        });
        self.down = Some((Instant::now() + backoff, backoff));
    }
}
