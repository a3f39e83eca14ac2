//! The copy phase: a bounded set of workers over chunks, each chunk one COPY in one transaction.
//!
//! A worker owns one PostgreSQL connection. For each chunk it starts a blocking reader thread that
//! encodes rows into binary COPY buffers and hands them over a bounded channel (so memory is
//! `workers x CHANNEL_DEPTH x BUFFER_BYTES`, whatever the table size), streams them into
//! `COPY ... FROM STDIN`, and commits only when the reader finished cleanly; a failed or
//! cancelled chunk rolls back and leaves nothing behind. The first error cancels the rest and
//! every error is reported.

use crate::plan::MigrationPlan;
use crate::progress::{ProgressEvent, ProgressSink};
use crate::source::ReadError;
use crate::source::Source;
use crate::EngineError;
use barge_model::{InvalidValuePolicy, KeyRange, Reject};
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::mpsc;

/// Size of one COPY buffer handed to PostgreSQL.
pub(crate) const BUFFER_BYTES: usize = 256 * 1024;
/// Buffers in flight per worker between the reader thread and the connection.
const CHANNEL_DEPTH: usize = 4;

struct CopyItem {
    table: usize,
    range: KeyRange,
}

struct TableProgress {
    remaining_chunks: AtomicUsize,
    rows: AtomicU64,
    started: Mutex<Option<Instant>>,
    seconds: Mutex<f64>,
}

/// Shared state of one copy phase.
struct CopyRun {
    plan: Arc<MigrationPlan>,
    source: Source,
    schema: String,
    policy: InvalidValuePolicy,
    queue: Mutex<VecDeque<CopyItem>>,
    tables: Vec<TableProgress>,
    cancel: Arc<AtomicBool>,
    errors: Mutex<Vec<String>>,
    rejects: Mutex<Vec<Reject>>,
    sink: Arc<dyn ProgressSink>,
    /// Called with a table's index once all its chunks are committed.
    on_table_done: Arc<dyn Fn(usize) + Send + Sync>,
}

/// What the copy phase produced: rows per table (plan order) and the rejected values.
pub(crate) struct CopyOutcome {
    pub rows: Vec<u64>,
    pub seconds: Vec<f64>,
    pub rejects: Vec<Reject>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking worker cannot leave these collections half-updated in a way that matters.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// How the copy phase runs.
pub(crate) struct CopyOptions<'a> {
    pub schema: &'a str,
    pub workers: usize,
    pub policy: InvalidValuePolicy,
}

pub(crate) async fn copy_all(
    plan: Arc<MigrationPlan>,
    source: Source,
    pg: &tokio_postgres::Config,
    options: CopyOptions<'_>,
    cancel: Arc<AtomicBool>,
    sink: Arc<dyn ProgressSink>,
    on_table_done: Arc<dyn Fn(usize) + Send + Sync>,
) -> Result<CopyOutcome, EngineError> {
    let CopyOptions {
        schema,
        workers,
        policy,
    } = options;
    // Largest tables first, so the longest stream starts early and the tail is short.
    let mut order: Vec<usize> = (0..plan.tables.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(plan.tables[i].rows));
    let mut queue = VecDeque::new();
    for &i in &order {
        for range in &plan.tables[i].chunks {
            queue.push_back(CopyItem {
                table: i,
                range: range.clone(),
            });
        }
    }
    let tables = plan
        .tables
        .iter()
        .map(|t| TableProgress {
            remaining_chunks: AtomicUsize::new(t.chunks.len()),
            rows: AtomicU64::new(0),
            started: Mutex::new(None),
            seconds: Mutex::new(0.0),
        })
        .collect();
    let workers = workers.clamp(1, queue.len().max(1));
    let run = Arc::new(CopyRun {
        plan: plan.clone(),
        source,
        schema: schema.to_string(),
        policy,
        queue: Mutex::new(queue),
        tables,
        cancel,
        errors: Mutex::new(Vec::new()),
        rejects: Mutex::new(Vec::new()),
        sink,
        on_table_done,
    });
    let mut handles = Vec::new();
    for _ in 0..workers {
        let run = run.clone();
        let pg = pg.clone();
        handles.push(tokio::spawn(async move { worker(run, pg).await }));
    }
    for h in handles {
        if let Err(e) = h.await {
            lock(&run.errors).push(format!("a copy worker failed: {e}"));
        }
    }
    let errors = std::mem::take(&mut *lock(&run.errors));
    if !errors.is_empty() {
        return Err(EngineError::Copy {
            count: errors.len(),
            errors,
        });
    }
    if run.cancel.load(Ordering::SeqCst) {
        return Err(EngineError::Interrupted);
    }
    let rejects = std::mem::take(&mut *lock(&run.rejects));
    let outcome = CopyOutcome {
        rows: run
            .tables
            .iter()
            .map(|t| t.rows.load(Ordering::SeqCst))
            .collect(),
        seconds: run.tables.iter().map(|t| *lock(&t.seconds)).collect(),
        rejects,
    };
    Ok(outcome)
}

fn fail(run: &CopyRun, message: String) {
    run.cancel.store(true, Ordering::SeqCst);
    lock(&run.errors).push(message);
}

async fn worker(run: Arc<CopyRun>, pg: tokio_postgres::Config) {
    let client = match barge_pg::connect(&pg).await {
        Ok(c) => c,
        Err(e) => return fail(&run, e.to_string()),
    };
    // A chunk and its effects commit together or not at all, so a commit lost in a server
    // crash loses the whole chunk, which a rerun copies again: waiting for each flush buys
    // nothing here.
    if let Err(e) = client.batch_execute("SET synchronous_commit = off").await {
        return fail(&run, barge_pg::target::db_message(&e));
    }
    loop {
        if run.cancel.load(Ordering::SeqCst) {
            return;
        }
        let Some(item) = lock(&run.queue).pop_front() else {
            return;
        };
        if let Err(message) = copy_item(&run, &client, &item).await {
            if let Some(m) = message {
                fail(&run, m);
            }
            return;
        }
    }
}

/// Copy one chunk in its own transaction. `Err(None)` means cancelled by someone else's error.
async fn copy_item(
    run: &Arc<CopyRun>,
    client: &tokio_postgres::Client,
    item: &CopyItem,
) -> Result<(), Option<String>> {
    let table_plan = &run.plan.tables[item.table];
    let table = &run.plan.schema.tables[item.table];
    let progress = &run.tables[item.table];
    {
        let mut started = lock(&progress.started);
        if started.is_none() {
            *started = Some(Instant::now());
            run.sink.event(ProgressEvent::TableStarted {
                table: table_plan.source_name.clone(),
                rows: table_plan.rows,
            });
        }
    }
    let (tx, rx) = mpsc::channel::<Bytes>(CHANNEL_DEPTH);
    let reader = {
        let run = run.clone();
        let range = item.range.clone();
        let index = item.table;
        let name = table_plan.source_name.clone();
        let sink = run.sink.clone();
        let cancel = run.cancel.clone();
        let on_rows = move |rows: u64| {
            sink.event(ProgressEvent::Rows {
                table: name.clone(),
                rows,
            })
        };
        run.source.clone().read_chunk(
            run.plan.clone(),
            index,
            range,
            run.policy,
            tx,
            cancel,
            Box::new(on_rows),
        )
    };
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|c| c.target_name.clone())
        .collect();
    // A table copied as one stream starts from empty in its own transaction: a rerun never
    // duplicates rows, and the rows can be written frozen.
    let whole = item.range == KeyRange::WHOLE;
    let begin = if whole {
        let truncate = format!(
            "BEGIN; TRUNCATE {}",
            barge_pg::ddl::qualified(&run.schema, &table.target_name)
        );
        client.batch_execute(&truncate).await
    } else {
        client.batch_execute("BEGIN").await
    };
    let copied = match begin {
        Ok(()) => {
            barge_pg::target::copy_in(client, &run.schema, &table.target_name, &columns, whole, rx)
                .await
        }
        Err(e) => {
            drop(rx);
            Err(barge_pg::PgError::Copy {
                table: table.target_name.clone(),
                message: barge_pg::target::db_message(&e),
            })
        }
    };
    let (read, rejects) = reader
        .await
        .map_err(|e| Some(format!("reader of table `{}` failed: {e}", table.name)))?;
    let outcome = match (read, copied) {
        (Ok(rows), Ok(loaded)) if rows == loaded => Ok(rows),
        (Ok(rows), Ok(loaded)) => Err(Some(format!(
            "table `{}`: read {rows} rows but PostgreSQL loaded {loaded}",
            table.name
        ))),
        (Err(ReadError::Cancelled), Err(e)) => Err(Some(e.to_string())),
        (Err(ReadError::Cancelled), Ok(_)) => Err(None),
        (Err(ReadError::Failed(e)), _) => Err(Some(e)),
        (Ok(_), Err(e)) => Err(Some(e.to_string())),
    };
    match outcome {
        Ok(rows) => {
            client.batch_execute("COMMIT").await.map_err(|e| {
                Some(format!(
                    "committing a chunk of table `{}`: {}",
                    table.name,
                    barge_pg::target::db_message(&e)
                ))
            })?;
            for r in &rejects {
                run.sink.event(ProgressEvent::Rejected {
                    table: r.table.clone(),
                    column: r.column.clone(),
                });
            }
            lock(&run.rejects).extend(rejects);
            let total = progress.rows.fetch_add(rows, Ordering::SeqCst) + rows;
            if progress.remaining_chunks.fetch_sub(1, Ordering::SeqCst) == 1 {
                let seconds = lock(&progress.started)
                    .map(|s| s.elapsed().as_secs_f64())
                    .unwrap_or(0.0);
                *lock(&progress.seconds) = seconds;
                run.sink.event(ProgressEvent::TableDone {
                    table: table_plan.source_name.clone(),
                    rows: total,
                    seconds,
                });
                (run.on_table_done)(item.table);
            }
            Ok(())
        }
        Err(e) => {
            // The connection may be mid-COPY or in a failed transaction; either way discard it.
            let _ = client.batch_execute("ROLLBACK").await;
            Err(e)
        }
    }
}
