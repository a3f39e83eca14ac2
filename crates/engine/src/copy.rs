//! The copy phase: a bounded set of workers over chunks, each chunk one COPY in one transaction
//! together with its ledger record (exactly once: see `ledger`).
//!
//! A worker owns one PostgreSQL connection. For each chunk it starts a reader (a blocking
//! thread for SQLite) that encodes rows into binary COPY buffers and hands them over a bounded
//! channel (so memory is `workers x CHANNEL_DEPTH x BUFFER_BYTES`, twice that with checksum
//! validation, which hashes each buffer on its way; whatever the table size),
//! streams them into `COPY ... FROM STDIN`, and commits only when the reader finished cleanly;
//! a failed or cancelled chunk rolls back and leaves nothing behind. A transient failure (lost
//! connection, server restart) retries that chunk alone with backoff on a new connection;
//! any other error cancels the rest and every error is reported.

use crate::ledger::{item, Ledger};
use crate::plan::MigrationPlan;
use crate::progress::{ProgressEvent, ProgressSink};
use crate::rejects::RejectLog;
use crate::source::{ReadError, Source};
use crate::sync::lock;
use crate::validate::CopySums;
use crate::EngineError;
use barge_model::{InvalidValuePolicy, KeyRange};
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Size of one COPY buffer handed to PostgreSQL.
pub(crate) const BUFFER_BYTES: usize = 256 * 1024;
/// Buffers in flight per worker between the reader and the connection.
const CHANNEL_DEPTH: usize = 4;
/// Tries of one chunk after a transient failure, with backoff 0.5 s, 1 s, 2 s, ...
const MAX_RETRIES: u32 = 6;

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
    ledger: Arc<Ledger>,
    queue: Mutex<VecDeque<CopyItem>>,
    tables: Vec<TableProgress>,
    cancel: Arc<AtomicBool>,
    errors: Mutex<Vec<String>>,
    rejects: Arc<RejectLog>,
    sums: Option<Arc<CopySums>>,
    sink: Arc<dyn ProgressSink>,
    /// Called with a table's index once all its chunks are committed.
    on_table_done: Arc<dyn Fn(usize) + Send + Sync>,
}

/// What the copy phase produced: rows per table (plan order), including rows a previous,
/// interrupted run already committed.
pub(crate) struct CopyOutcome {
    pub rows: Vec<u64>,
    pub seconds: Vec<f64>,
}

/// How the copy phase runs.
pub(crate) struct CopyOptions<'a> {
    pub schema: &'a str,
    pub workers: usize,
    pub policy: InvalidValuePolicy,
    pub ledger: Arc<Ledger>,
    pub rejects: Arc<RejectLog>,
    /// With `validation = "checksum"`: hash every chunk on its way to PostgreSQL.
    pub sums: Option<Arc<CopySums>>,
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
        ledger,
        rejects,
        sums,
    } = options;
    // Largest tables first, so the longest stream starts early and the tail is short.
    let mut order: Vec<usize> = (0..plan.tables.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(plan.tables[i].rows));
    let mut queue = VecDeque::new();
    let mut tables = Vec::new();
    for t in &plan.tables {
        let mut remaining = 0;
        let mut rows = 0;
        for range in &t.chunks {
            let key = item::copy(&t.source_name, range);
            if ledger.is_done(&key) {
                rows += ledger.rows(&key);
            } else {
                remaining += 1;
            }
        }
        tables.push(TableProgress {
            remaining_chunks: AtomicUsize::new(remaining),
            rows: AtomicU64::new(rows),
            started: Mutex::new(None),
            seconds: Mutex::new(0.0),
        });
    }
    for &i in &order {
        let t = &plan.tables[i];
        for range in &t.chunks {
            if !ledger.is_done(&item::copy(&t.source_name, range)) {
                queue.push_back(CopyItem {
                    table: i,
                    range: range.clone(),
                });
            }
        }
    }
    // Tables an earlier run finished copying go straight to their keys and indexes.
    for (i, t) in tables.iter().enumerate() {
        if t.remaining_chunks.load(Ordering::SeqCst) == 0 {
            on_table_done(i);
        }
    }
    let workers = workers.clamp(1, queue.len().max(1));
    let run = Arc::new(CopyRun {
        plan: plan.clone(),
        source,
        schema: schema.to_string(),
        policy,
        ledger,
        queue: Mutex::new(queue),
        tables,
        cancel,
        errors: Mutex::new(Vec::new()),
        rejects,
        sums,
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
    Ok(CopyOutcome {
        rows: run
            .tables
            .iter()
            .map(|t| t.rows.load(Ordering::SeqCst))
            .collect(),
        seconds: run.tables.iter().map(|t| *lock(&t.seconds)).collect(),
    })
}

fn fail(run: &CopyRun, message: String) {
    run.cancel.store(true, Ordering::SeqCst);
    lock(&run.errors).push(message);
}

/// Why a chunk did not commit.
enum ItemError {
    /// Another worker's error or an interrupt stopped it.
    Cancelled,
    Failed {
        message: String,
        transient: bool,
    },
}

/// A copy session. A chunk's commit does not wait for its WAL flush (`SET LOCAL
/// synchronous_commit = off`, see the ledger's module docs): a server crash can lose chunks
/// acknowledged as committed, which an in-process retry would never copy again, so the run
/// checks after the copy that the server did not restart, and stops for a resume if it did.
async fn session(pg: &tokio_postgres::Config) -> Result<tokio_postgres::Client, ItemError> {
    barge_pg::connect(pg).await.map_err(|e| ItemError::Failed {
        message: e.to_string(),
        transient: true,
    })
}

async fn worker(run: Arc<CopyRun>, pg: tokio_postgres::Config) {
    let mut client: Option<tokio_postgres::Client> = None;
    loop {
        if run.cancel.load(Ordering::SeqCst) {
            return;
        }
        let Some(item) = lock(&run.queue).pop_front() else {
            return;
        };
        let mut attempt = 0;
        loop {
            // After a failure the commit may still have happened (only its acknowledgement
            // was lost): the ledger says, and the chunk is not copied twice.
            if attempt > 0 {
                if let Some(c) = &client {
                    let key = item::copy(&run.plan.tables[item.table].source_name, &item.range);
                    if let Ok(Some(rows)) = run.ledger.committed(c, &key).await {
                        // The attempt whose acknowledgement was lost did commit: its sums hold.
                        if let Some(sums) = &run.sums {
                            sums.committed(&key);
                        }
                        mark_done(&run, &item, rows);
                        break;
                    }
                }
            }
            let result = match &client {
                Some(c) => copy_item(&run, c, &item).await,
                None => match session(&pg).await {
                    Ok(c) => {
                        client = Some(c);
                        continue;
                    }
                    Err(e) => Err(e),
                },
            };
            match result {
                Ok(()) => break,
                Err(ItemError::Cancelled) => return,
                Err(ItemError::Failed { message, transient })
                    if transient && attempt < MAX_RETRIES && !run.cancel.load(Ordering::SeqCst) =>
                {
                    let wait = Duration::from_millis(500 << attempt);
                    run.sink.event(ProgressEvent::Warning(format!(
                        "{message}\n  retrying table `{}` chunk in {:.1} s (attempt {} of {MAX_RETRIES})",
                        run.plan.tables[item.table].source_name,
                        wait.as_secs_f64(),
                        attempt + 1
                    )));
                    client = None;
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(ItemError::Failed { message, .. }) => return fail(&run, message),
            }
        }
    }
}

/// Copy one chunk in its own transaction, recorded in the ledger in that transaction.
async fn copy_item(
    run: &Arc<CopyRun>,
    client: &tokio_postgres::Client,
    item: &CopyItem,
) -> Result<(), ItemError> {
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
        let name = table_plan.source_name.clone();
        let sink = run.sink.clone();
        let on_rows = move |rows: u64| {
            sink.event(ProgressEvent::Rows {
                table: name.clone(),
                rows,
            })
        };
        run.source.clone().read_chunk(
            run.plan.clone(),
            item.table,
            item.range.clone(),
            run.policy,
            tx,
            run.cancel.clone(),
            Box::new(on_rows),
        )
    };
    let (rx, hashing) = match &run.sums {
        Some(sums) => {
            let (rx, task) = sums.tee(item.table, rx, CHANNEL_DEPTH);
            (rx, Some(task))
        }
        None => (rx, None),
    };
    let columns: Vec<String> = table
        .columns
        .iter()
        .filter(|c| c.is_copied())
        .map(|c| c.target_name.clone())
        .collect();
    // A table copied as one stream starts from empty in its own transaction: a rerun never
    // duplicates rows, and the rows can be written frozen.
    let whole = item.range.is_whole();
    let begin = if whole {
        let truncate = format!(
            "BEGIN; TRUNCATE {}",
            barge_pg::ddl::qualified(&run.schema, &table.target_name)
        );
        client.batch_execute(&truncate).await
    } else {
        client.batch_execute("BEGIN").await
    };
    let mut reader = reader;
    let mut read_outcome = None;
    let copied = match begin {
        Ok(()) => {
            // The COPY is finished only when the reader read the whole chunk; a reader that
            // stopped early (interrupt, another worker's failure) aborts it (see copy_in).
            let complete = async {
                let r = (&mut reader).await;
                let whole = matches!(r, Ok((Ok(_), _)));
                read_outcome = Some(r);
                whole
            };
            barge_pg::target::copy_in(
                client,
                &run.schema,
                &table.target_name,
                &columns,
                whole,
                rx,
                complete,
            )
            .await
        }
        Err(e) => {
            drop(rx);
            Err(barge_pg::PgError::Copy {
                table: table.target_name.clone(),
                message: barge_pg::target::db_message(&e),
                transient: barge_pg::target::is_transient(&e),
            })
        }
    };
    let read_outcome = match read_outcome {
        Some(r) => r,
        None => reader.await,
    };
    let (read, rejects) = read_outcome.map_err(|e| ItemError::Failed {
        message: format!("reader of table `{}` failed: {e}", table.name),
        transient: false,
    })?;
    let pg_failure = |e: barge_pg::PgError| {
        let transient = matches!(
            e,
            barge_pg::PgError::Copy {
                transient: true,
                ..
            }
        );
        ItemError::Failed {
            message: e.to_string(),
            transient,
        }
    };
    let outcome = match (read, copied) {
        (Ok(rows), Ok(Some(loaded))) if rows == loaded => Ok(rows),
        (Ok(rows), Ok(loaded)) => Err(ItemError::Failed {
            message: format!(
                "table `{}`: read {rows} rows but PostgreSQL loaded {}",
                table.name,
                loaded.map_or("none (the COPY was aborted)".to_string(), |n| n.to_string())
            ),
            transient: false,
        }),
        // PostgreSQL failed first, and the reader stopped because of it.
        (Err(ReadError::Cancelled), Err(e)) => Err(pg_failure(e)),
        (Err(ReadError::Cancelled), Ok(_)) => Err(ItemError::Cancelled),
        (Err(ReadError::Failed { message, transient }), _) => {
            Err(ItemError::Failed { message, transient })
        }
        (Ok(_), Err(e)) => Err(pg_failure(e)),
    };
    // The chunk's checksum, kept only for a chunk that loaded (a failed one is retried
    // whole). The hashing never holds the COPY back: when it fails, the chunk loads anyway
    // and validation reads it from the source again, where the failure is reported.
    let chunk_sums = match hashing {
        Some(task) => match (&outcome, task.await) {
            (Ok(_), Ok(Ok(sums))) => Some(sums),
            (Ok(_), Ok(Err(e))) => {
                checksum_skipped(run, &table.name, &e);
                None
            }
            (Ok(_), Err(e)) => {
                checksum_skipped(run, &table.name, &e.to_string());
                None
            }
            (Err(_), _) => None,
        },
        None => None,
    };
    let rows = match outcome {
        Ok(rows) => rows,
        Err(e) => {
            // The connection may be mid-COPY or in a failed transaction; either way discard it.
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(e);
        }
    };
    let key = item::copy(&table_plan.source_name, &item.range);
    if let (Some(all), Some(chunk)) = (&run.sums, chunk_sums) {
        all.stage(item.table, key.clone(), chunk);
    }
    let lines: Vec<String> = rejects
        .iter()
        .filter_map(|r| serde_json::to_string(r).ok())
        .collect();
    // The chunk's commit does not wait for its WAL to reach disk (see the ledger's module
    // docs: a server crash loses the chunk and its record together, and a later synchronous
    // commit makes every earlier one durable before the run reports success).
    let mut commit = String::from("SET LOCAL synchronous_commit = off;\n");
    commit.push_str(&run.ledger.record_sql(&key, rows));
    if let Some(sql) = run.ledger.rejects_sql(&key, &lines) {
        commit.push_str(";\n");
        commit.push_str(&sql);
    }
    commit.push_str(";\nCOMMIT");
    if let Err(e) = client.batch_execute(&commit).await {
        let _ = client.batch_execute("ROLLBACK").await;
        return Err(ItemError::Failed {
            message: format!(
                "committing a chunk of table `{}`: {}",
                table.name,
                barge_pg::target::db_message(&e)
            ),
            transient: barge_pg::target::is_transient(&e),
        });
    }
    for r in &rejects {
        run.sink.event(ProgressEvent::Rejected {
            table: r.table.clone(),
            column: r.column.clone(),
        });
    }
    // The file follows as it goes; the ledger's copy, written in the chunk's transaction,
    // rewrites it complete at the end of the copy.
    if let Err(e) = run.rejects.append(&lines) {
        run.sink.event(ProgressEvent::Warning(e));
    }
    if let Some(all) = &run.sums {
        all.committed(&key);
    }
    mark_done(run, item, rows);
    Ok(())
}

/// A chunk's checksum could not be computed during the copy: say so; validation reads it.
fn checksum_skipped(run: &CopyRun, table: &str, why: &str) {
    run.sink.event(ProgressEvent::Warning(format!(
        "table `{table}`: a chunk's checksum could not be computed while copying it ({why}); validation reads that chunk from the source again"
    )));
}

/// Bookkeeping after a chunk is committed: progress, and the table's keys once it is whole.
fn mark_done(run: &Arc<CopyRun>, item: &CopyItem, rows: u64) {
    let table_plan = &run.plan.tables[item.table];
    let progress = &run.tables[item.table];
    run.sink.event(ProgressEvent::ChunkDone {
        table: table_plan.source_name.clone(),
        rows,
    });
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
}
