//! Orphan cleanup before foreign keys, as pgferry defines it (`clean_orphans`,
//! `clean_orphans_mode`, `clean_orphans_max_rows`), done so nothing is lost:
//!
//! - rows are moved, not deleted: into `<schema>_orphans.<child>`, with the foreign key that
//!   condemned them; keys declared `ON DELETE SET NULL` get their columns set to NULL instead;
//! - passes repeat until nothing changes, so a grandchild whose parent was just removed is
//!   handled too; composite and nullable keys follow MATCH SIMPLE (a NULL in the key is no
//!   reference);
//! - `report` counts orphans per foreign key and stops before creating any, saying how to go
//!   on; the `clean_orphans_max_rows` fuse counts the direct orphans before touching any row.
//!
//! Counting orphans and validating a foreign key are the same anti-join over the child table.
//! In `apply` mode without a fuse, where nothing has to be decided before rows change, barge
//! therefore validates first: the keys are added `NOT VALID` and validated, and only when a
//! validation finds a missing parent are they dropped again, the orphans cleaned as above and
//! the keys added anew. A clean load (the usual case) scans each child table once, not twice.

use crate::ledger::{item, Ledger};
use crate::postload::{self, Step};
use crate::progress::{ProgressEvent, ProgressSink};
use crate::EngineError;
use barge_config::{CleanOrphansMode, Settings};
use barge_model::{FkAction, ForeignKey, Schema, Table};
use barge_pg::{ddl, orphans};
use std::sync::Arc;
use std::time::Instant;

/// Orphan counts of every foreign key, in order, on up to `workers` connections.
async fn count_all(
    pg: &postload::StepTarget,
    workers: usize,
    schema: &str,
    fks: &[(&Table, &ForeignKey, &Table)],
) -> Result<Vec<u64>, EngineError> {
    let statements: Vec<String> = fks
        .iter()
        .map(|(child, fk, parent)| orphans::count(schema, child, fk, parent))
        .collect();
    let workers = workers.clamp(1, statements.len().max(1));
    let mut handles = Vec::new();
    for w in 0..workers {
        let mine: Vec<(usize, String)> = statements
            .iter()
            .enumerate()
            .filter(|(i, _)| i % workers == w)
            .map(|(i, s)| (i, s.clone()))
            .collect();
        let pg = pg.clone();
        handles.push(tokio::spawn(async move {
            let client = barge_pg::connect(&pg.pg).await?;
            let mut out = Vec::new();
            for (i, sql) in mine {
                let row = client
                    .query_one(&sql, &[])
                    .await
                    .map_err(|e| EngineError::statement("counting orphan rows", &sql, &e))?;
                out.push((i, row.get::<_, i64>(0) as u64));
            }
            Ok::<_, EngineError>(out)
        }));
    }
    let mut counts = vec![0u64; statements.len()];
    for h in handles {
        let part = h
            .await
            .map_err(|e| EngineError::Setup(format!("an orphan count failed: {e}")))??;
        for (i, n) in part {
            counts[i] = n;
        }
    }
    Ok(counts)
}

/// Orphan handling and foreign keys, end to end; returns summary lines for what changed.
pub(crate) async fn foreign_keys(
    client: &tokio_postgres::Client,
    pg: &postload::StepTarget,
    workers: usize,
    settings: &Settings,
    schema: &Schema,
    ledger: &Arc<Ledger>,
    sink: &Arc<dyn ProgressSink>,
) -> Result<Vec<String>, EngineError> {
    let name = settings.schema.as_str();
    let marker = item::step("orphan cleanup");
    let validate_first = settings.clean_orphans
        && settings.clean_orphans_mode == CleanOrphansMode::Apply
        && settings.clean_orphans_max_rows.is_none()
        && !ledger.is_done(&marker);
    if validate_first {
        sink.event(ProgressEvent::Phase("adding foreign keys"));
        let (add, validate) = postload::foreign_key_steps(name, schema);
        let keys: Vec<String> = add
            .iter()
            .chain(&validate)
            .map(|s| item::step(&s.what))
            .collect();
        // Adding takes locks on both tables; one connection avoids lock waits between them.
        postload::run_parallel(pg, 1, add, sink, ledger).await?;
        let violated = validate_all(pg, workers, validate, ledger, sink).await?;
        if violated == 0 {
            client
                .batch_execute(&ledger.record_sql(&marker, 0))
                .await
                .map_err(|e| EngineError::statement("recording orphan cleanup", "", &e))?;
            return Ok(Vec::new());
        }
        // Orphans: undo the keys (and their records) in one transaction, then clean.
        let mut undo = String::from("BEGIN;\n");
        for t in &schema.tables {
            for fk in &t.foreign_keys {
                undo.push_str(&ddl::drop_foreign_key(name, t, fk));
                undo.push_str(";\n");
            }
        }
        undo.push_str(&ledger.delete_sql(&keys));
        undo.push_str(";\nCOMMIT");
        if let Err(e) = client.batch_execute(&undo).await {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(EngineError::statement(
                "dropping foreign keys to clean orphan rows",
                &undo,
                &e,
            ));
        }
        ledger.forget(&keys);
    }
    let mut lines = Vec::new();
    if settings.clean_orphans {
        sink.event(ProgressEvent::Phase("cleaning orphan rows"));
        lines = clean(client, pg, workers, settings, schema, ledger).await?;
    }
    sink.event(ProgressEvent::Phase("adding foreign keys"));
    let (add, validate) = postload::foreign_key_steps(name, schema);
    postload::run_parallel(pg, 1, add, sink, ledger).await?;
    postload::run_parallel(pg, workers, validate, sink, ledger).await?;
    Ok(lines)
}

/// Validate foreign keys on up to `workers` connections, each with its ledger record; a key
/// that finds rows without a parent is left NOT VALID and counted. Other failures stop.
async fn validate_all(
    pg: &postload::StepTarget,
    workers: usize,
    steps: Vec<Step>,
    ledger: &Arc<Ledger>,
    sink: &Arc<dyn ProgressSink>,
) -> Result<usize, EngineError> {
    let steps: Vec<Step> = steps
        .into_iter()
        .filter(|s| {
            let done = ledger.is_done(&item::step(&s.what));
            if done {
                pg.run.ended(&s.what);
            }
            !done
        })
        .collect();
    if steps.is_empty() {
        return Ok(0);
    }
    if pg.run.cancelled() {
        return Err(EngineError::Interrupted);
    }
    let workers = workers.clamp(1, steps.len());
    let queue = Arc::new(crate::sync::SharedQueue::new(steps));
    let mut handles = Vec::new();
    for _ in 0..workers {
        let (pg, queue, ledger, sink) = (pg.clone(), queue.clone(), ledger.clone(), sink.clone());
        handles.push(tokio::spawn(async move {
            let client = barge_pg::connect(&pg.pg).await?;
            let mut violated = 0usize;
            while let Some(step) = queue.pop() {
                // An interrupt stops the run between steps.
                if pg.run.cancelled() {
                    return Err(EngineError::Interrupted);
                }
                pg.run.started(&step.what);
                postload::test_hook_step_delay().await;
                if pg.run.cancelled() {
                    pg.run.stopped(&step.what);
                    return Err(EngineError::Interrupted);
                }
                let started = Instant::now();
                let key = item::step(&step.what);
                let sql = format!(
                    "BEGIN;\n{};\n{};\nCOMMIT",
                    step.sql,
                    ledger.record_sql(&key, 0)
                );
                let result = client.batch_execute(&sql).await;
                pg.run.ended(&step.what);
                match result {
                    Ok(()) => sink.event(ProgressEvent::Step {
                        what: step.what,
                        seconds: started.elapsed().as_secs_f64(),
                    }),
                    Err(e) => {
                        let _ = client.batch_execute("ROLLBACK").await;
                        if e.code() == Some(&tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION)
                        {
                            violated += 1;
                        } else {
                            return Err(EngineError::statement(&step.what, &step.sql, &e));
                        }
                    }
                }
            }
            Ok::<_, EngineError>(violated)
        }));
    }
    let mut violated = 0;
    for h in handles {
        violated += h
            .await
            .map_err(|e| EngineError::Setup(format!("a foreign key validation failed: {e}")))??;
    }
    Ok(violated)
}

/// Clean orphans; returns summary lines for what changed.
pub(crate) async fn clean(
    client: &tokio_postgres::Client,
    pg: &postload::StepTarget,
    workers: usize,
    settings: &Settings,
    schema: &Schema,
    ledger: &Ledger,
) -> Result<Vec<String>, EngineError> {
    let key = item::step("orphan cleanup");
    if !settings.clean_orphans || ledger.is_done(&key) {
        return Ok(Vec::new());
    }
    if pg.run.cancelled() {
        return Err(EngineError::Interrupted);
    }
    let name = settings.schema.as_str();
    let fks: Vec<(&Table, &ForeignKey, &Table)> = schema
        .tables
        .iter()
        .flat_map(|t| t.foreign_keys.iter().map(move |fk| (t, fk)))
        .filter_map(|(t, fk)| schema.table(&fk.ref_table).map(|p| (t, fk, p)))
        .collect();
    // Direct orphans first: the report and the fuse are decided before any row changes.
    // Each count is a scan of the child table, so they run on several connections at once.
    let counts = count_all(pg, workers, name, &fks).await?;
    let total: u64 = counts.iter().sum();
    let listing = || {
        fks.iter()
            .zip(&counts)
            .filter(|(_, n)| **n > 0)
            .map(|((child, fk, parent), n)| {
                format!(
                    "  - foreign key `{}` (`{}` -> `{}`): {n} orphan row(s)",
                    ddl::foreign_key_name(child, fk),
                    child.target_name,
                    parent.target_name
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    if total == 0 {
        client
            .batch_execute(&ledger.record_sql(&key, 0))
            .await
            .map_err(|e| EngineError::statement("recording orphan cleanup", "", &e))?;
        return Ok(Vec::new());
    }
    if settings.clean_orphans_mode == CleanOrphansMode::Report {
        return Err(EngineError::Setup(format!(
            "{total} orphan row(s) found; stopping before foreign keys (clean_orphans_mode = \"report\"):\n{}\nhint: set `clean_orphans_mode = \"apply\"` (rows move to schema `{}`) and run `barge migrate CONFIG --resume` to continue",
            listing(),
            orphans::quarantine_schema(name)
        )));
    }
    if let Some(max) = settings.clean_orphans_max_rows {
        if total > max {
            return Err(EngineError::Setup(format!(
                "{total} orphan row(s) found, more than `clean_orphans_max_rows = {max}`; nothing was changed:\n{}\nhint: raise the limit, fix the data in the source, or set `clean_orphans_mode = \"report\"` to review",
                listing()
            )));
        }
    }
    let mut moved = vec![0u64; fks.len()];
    let mut nulled = vec![0u64; fks.len()];
    let mut quarantined: Vec<&str> = Vec::new();
    // Each pass can orphan the next level down (a self-referencing chain can be deep); every
    // pass that changes something removes or unlinks at least one row, so this ends.
    loop {
        let mut changed = 0;
        for (i, (child, fk, parent)) in fks.iter().enumerate() {
            let nullable = fk
                .columns
                .iter()
                .all(|c| child.column(c).is_some_and(|col| col.nullable));
            if fk.on_delete == FkAction::SetNull && nullable {
                let sql = orphans::set_null(name, child, fk, parent);
                let n = client
                    .execute(&sql, &[])
                    .await
                    .map_err(|e| EngineError::statement("setting orphan keys to NULL", &sql, &e))?;
                nulled[i] += n;
                changed += n;
            } else {
                if !quarantined.contains(&child.target_name.as_str()) {
                    let sql = orphans::create_quarantine(name, child);
                    client.batch_execute(&sql).await.map_err(|e| {
                        EngineError::statement("creating the orphan quarantine", &sql, &e)
                    })?;
                    quarantined.push(&child.target_name);
                }
                let sql = orphans::move_rows(name, child, fk, parent);
                let n = client
                    .execute(&sql, &[])
                    .await
                    .map_err(|e| EngineError::statement("moving orphan rows", &sql, &e))?;
                moved[i] += n;
                changed += n;
            }
        }
        if changed == 0 {
            break;
        }
    }
    client
        .batch_execute(&ledger.record_sql(&key, 0))
        .await
        .map_err(|e| EngineError::statement("recording orphan cleanup", "", &e))?;
    let q = orphans::quarantine_schema(name);
    let mut lines = Vec::new();
    for (i, (child, fk, _)) in fks.iter().enumerate() {
        let fk_name = ddl::foreign_key_name(child, fk);
        if moved[i] > 0 {
            lines.push(format!(
                "table `{}`: {} orphan row(s) of foreign key `{fk_name}` moved to `{q}`.`{}`",
                child.target_name, moved[i], child.target_name
            ));
        }
        if nulled[i] > 0 {
            lines.push(format!(
                "table `{}`: {} orphan row(s) of foreign key `{fk_name}` had their key set to NULL (ON DELETE SET NULL)",
                child.target_name, nulled[i]
            ));
        }
    }
    Ok(lines)
}
