//! The ledger: which work items of a run are done, recorded in the target database in the
//! same transaction as the work itself.
//!
//! Every item (the schema DDL, each copy chunk, each key, index, constraint, identity and
//! ANALYZE step) commits together with its ledger row, so after a crash at any instant an item
//! is either done and recorded or absent. `--resume` reads this truth and skips what is
//! recorded; the checkpoint file is only a report of it. The rows live in schema `_barge` of
//! the target database, keyed by target schema, and are removed after a successful run.
//!
//! The run's own row (`item = 'run'`) carries its run id, the fingerprint of what shapes its
//! result and the options behind it (so a refused resume can name what changed). A
//! successful run leaves one row in `_barge.completed_runs` (run id, start and end), which is
//! all that stays of it: a later `--resume` finds no run to continue there and says the run
//! is complete, instead of starting a new one (see `run::nothing_to_resume`).
//!
//! Copy chunks commit with `synchronous_commit = off`: the commit returns before its WAL is
//! on disk. A server crash may then lose the last chunks acknowledged, but each together with
//! its ledger row, so the ledger still tells the truth and `--resume` copies them again. Every
//! later synchronous commit (keys, indexes, [`Ledger::finish`]) flushes the WAL up to itself,
//! and so every chunk before it, before the run can report success. What a crash does to a
//! run in progress is caught too: its workers would retry on a restarted server without
//! copying the lost chunks again, so after the copy, and again before finishing, the run
//! compares the server's start time with the one it saw first, and stops for a `--resume`
//! when they differ.

use crate::EngineError;
use barge_pg::ddl::quote_literal;
use std::collections::{HashMap, HashSet};

pub(crate) const LEDGER_SCHEMA: &str = barge_config::LEDGER_SCHEMA;
const RUN_ITEM: &str = "run";

/// A run of a target schema that completed, as the ledger remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompletedRun {
    pub run_id: String,
    pub started_at: String,
    pub finished_at: String,
}

/// Done items of one run (the run is identified by its target schema).
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    run: String,
    /// Recorded items: read at the start, then kept current as this run records and undoes
    /// items, so a later phase sees what an earlier one did.
    done: std::sync::Mutex<HashSet<String>>,
    rows: HashMap<String, u64>,
    /// Fingerprint recorded when the run started, if a run is recorded.
    pub fingerprint: Option<String>,
    /// The run's id, if a run is recorded (and by a barge that records it).
    pub run_id: Option<String>,
    /// The options behind the fingerprint (`fingerprint::option_values`, as JSON).
    pub options: Option<String>,
}

impl Ledger {
    /// Create the ledger tables if needed (or add what an older barge's lack) and read the
    /// run's done items.
    pub(crate) async fn open(
        client: &tokio_postgres::Client,
        run: &str,
    ) -> Result<Ledger, EngineError> {
        let create = format!(
            "CREATE SCHEMA IF NOT EXISTS \"{LEDGER_SCHEMA}\";\n\
             CREATE TABLE IF NOT EXISTS \"{LEDGER_SCHEMA}\".progress (\n\
                 run_schema text NOT NULL,\n\
                 item text NOT NULL,\n\
                 rows bigint NOT NULL DEFAULT 0,\n\
                 fingerprint text,\n\
                 done_at timestamptz NOT NULL DEFAULT now(),\n\
                 PRIMARY KEY (run_schema, item));\n\
             ALTER TABLE \"{LEDGER_SCHEMA}\".progress ADD COLUMN IF NOT EXISTS run_id text;\n\
             ALTER TABLE \"{LEDGER_SCHEMA}\".progress ADD COLUMN IF NOT EXISTS options text;\n\
             CREATE TABLE IF NOT EXISTS \"{LEDGER_SCHEMA}\".rejects (\n\
                 run_schema text NOT NULL,\n\
                 item text NOT NULL,\n\
                 n int NOT NULL,\n\
                 line text NOT NULL,\n\
                 PRIMARY KEY (run_schema, item, n));\n\
             CREATE TABLE IF NOT EXISTS \"{LEDGER_SCHEMA}\".completed_runs (\n\
                 run_schema text NOT NULL,\n\
                 run_id text NOT NULL,\n\
                 started_at timestamptz NOT NULL,\n\
                 finished_at timestamptz NOT NULL DEFAULT now(),\n\
                 PRIMARY KEY (run_schema, run_id))"
        );
        // Two runs starting at once may race on IF NOT EXISTS; the loser's retry sees it.
        if client.batch_execute(&create).await.is_err() {
            client.batch_execute(&create).await.map_err(|e| {
                EngineError::statement("creating barge's progress ledger", &create, &e)
            })?;
        }
        Ledger::read(client, run).await
    }

    /// Read the run's done items without creating anything: an empty ledger when the
    /// target has none (a `--resume` with nothing to resume must leave no trace).
    pub(crate) async fn read(
        client: &tokio_postgres::Client,
        run: &str,
    ) -> Result<Ledger, EngineError> {
        let mut ledger = Ledger {
            run: run.to_string(),
            ..Ledger::default()
        };
        if !ledger_table_exists(client, "progress").await? {
            return Ok(ledger);
        }
        // An older barge's ledger has no run id or options yet: read them as NULL.
        let has =
            |column: &'static str| async move { column_exists(client, "progress", column).await };
        let run_id = if has("run_id").await? {
            "run_id"
        } else {
            "NULL::text"
        };
        let options = if has("options").await? {
            "options"
        } else {
            "NULL::text"
        };
        let sql = format!(
            "SELECT item, rows, fingerprint, {run_id}, {options} FROM \"{LEDGER_SCHEMA}\".progress WHERE run_schema = $1"
        );
        let rows = client
            .query(&sql, &[&run])
            .await
            .map_err(|e| EngineError::statement("reading barge's progress ledger", &sql, &e))?;
        for r in rows {
            let item: String = r.get(0);
            if item == RUN_ITEM {
                ledger.fingerprint = r.get(2);
                ledger.run_id = r.get(3);
                ledger.options = r.get(4);
                continue;
            }
            ledger.rows.insert(item.clone(), r.get::<_, i64>(1) as u64);
            crate::sync::lock(&ledger.done).insert(item);
        }
        Ok(ledger)
    }

    /// The completed run `run_id` of target schema `run`, or its latest completed run.
    pub(crate) async fn completed(
        client: &tokio_postgres::Client,
        run: &str,
        run_id: Option<&str>,
    ) -> Result<Option<CompletedRun>, EngineError> {
        if !ledger_table_exists(client, "completed_runs").await? {
            return Ok(None);
        }
        let sql = format!(
            "SELECT run_id, started_at::text, finished_at::text FROM \"{LEDGER_SCHEMA}\".completed_runs \
             WHERE run_schema = $1 AND ($2::text IS NULL OR run_id = $2) \
             ORDER BY finished_at DESC LIMIT 1"
        );
        let row = client
            .query_opt(&sql, &[&run, &run_id])
            .await
            .map_err(|e| EngineError::statement("reading barge's completed runs", &sql, &e))?;
        Ok(row.map(|r| CompletedRun {
            run_id: r.get(0),
            started_at: r.get(1),
            finished_at: r.get(2),
        }))
    }

    /// Whether a run of this target schema is recorded (started, whether or not it did
    /// anything yet).
    pub(crate) fn has_started(&self) -> bool {
        self.fingerprint.is_some()
    }

    /// The statement that forgets this schema's run (its done items and reject lines), for
    /// the transaction that discards what it did.
    pub(crate) fn discard_sql(&self) -> String {
        format!(
            "DELETE FROM \"{LEDGER_SCHEMA}\".progress WHERE run_schema = {run};\n\
             DELETE FROM \"{LEDGER_SCHEMA}\".rejects WHERE run_schema = {run};\n",
            run = quote_literal(&self.run)
        )
    }

    /// Record the run id of a run an older barge started without one.
    pub(crate) async fn set_run_id(
        &mut self,
        client: &tokio_postgres::Client,
        run_id: &str,
    ) -> Result<(), EngineError> {
        let sql = format!(
            "UPDATE \"{LEDGER_SCHEMA}\".progress SET run_id = $2 WHERE run_schema = $1 AND item = '{RUN_ITEM}'"
        );
        client
            .execute(&sql, &[&self.run, &run_id])
            .await
            .map_err(|e| EngineError::statement("recording the run id in the ledger", &sql, &e))?;
        self.run_id = Some(run_id.to_string());
        Ok(())
    }

    pub(crate) fn is_done(&self, item: &str) -> bool {
        crate::sync::lock(&self.done).contains(item)
    }

    /// Note that `item` is recorded now (its transaction committed).
    pub(crate) fn mark_done(&self, item: &str) {
        crate::sync::lock(&self.done).insert(item.to_string());
    }

    /// The statement that deletes the records of `items`; run it in the transaction that
    /// undoes them, then call [`Ledger::forget`].
    pub(crate) fn delete_sql(&self, items: &[String]) -> String {
        format!(
            "DELETE FROM \"{LEDGER_SCHEMA}\".progress WHERE run_schema = {} AND item IN ({})",
            quote_literal(&self.run),
            items
                .iter()
                .map(|i| quote_literal(i))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    /// Treat `items` as not done from now on (their records were deleted).
    pub(crate) fn forget(&self, items: &[String]) {
        let mut done = crate::sync::lock(&self.done);
        for i in items {
            done.remove(i);
        }
    }

    /// Rows recorded for a done copy item.
    pub(crate) fn rows(&self, item: &str) -> u64 {
        self.rows.get(item).copied().unwrap_or(0)
    }

    /// Whether an earlier run of this target schema completed any step (a run that failed
    /// before doing anything has nothing to resume).
    pub(crate) fn has_run(&self) -> bool {
        !crate::sync::lock(&self.done).is_empty()
    }

    /// The statement that records `item` as done; run it inside the item's transaction.
    pub(crate) fn record_sql(&self, item: &str, rows: u64) -> String {
        format!(
            "INSERT INTO \"{LEDGER_SCHEMA}\".progress (run_schema, item, rows) VALUES ({}, {}, {rows})",
            quote_literal(&self.run),
            quote_literal(item)
        )
    }

    /// The statement that stores a chunk's rejected values (JSON lines) with its record, so a
    /// value loaded as NULL is never without its reject line, whatever crashes when.
    pub(crate) fn rejects_sql(&self, item: &str, lines: &[String]) -> Option<String> {
        if lines.is_empty() {
            return None;
        }
        let values: Vec<String> = lines
            .iter()
            .enumerate()
            .map(|(n, l)| {
                format!(
                    "({}, {}, {n}, {})",
                    quote_literal(&self.run),
                    quote_literal(item),
                    quote_literal(l)
                )
            })
            .collect();
        Some(format!(
            "INSERT INTO \"{LEDGER_SCHEMA}\".rejects (run_schema, item, n, line) VALUES {}",
            values.join(", ")
        ))
    }

    /// Every reject line of the run, in chunk order.
    pub(crate) async fn reject_lines(
        &self,
        client: &tokio_postgres::Client,
    ) -> Result<Vec<String>, EngineError> {
        let sql = format!(
            "SELECT line FROM \"{LEDGER_SCHEMA}\".rejects WHERE run_schema = $1 ORDER BY item, n"
        );
        let rows = client
            .query(&sql, &[&self.run])
            .await
            .map_err(|e| EngineError::statement("reading the reject lines", &sql, &e))?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }

    /// Rows of `item` if it is recorded now in the database (not just when the run started):
    /// after a lost commit acknowledgement, this tells whether the commit happened.
    pub(crate) async fn committed(
        &self,
        client: &tokio_postgres::Client,
        item: &str,
    ) -> Result<Option<u64>, tokio_postgres::Error> {
        let sql = format!(
            "SELECT rows FROM \"{LEDGER_SCHEMA}\".progress WHERE run_schema = $1 AND item = $2"
        );
        let row = client.query_opt(&sql, &[&self.run, &item]).await?;
        Ok(row.map(|r| r.get::<_, i64>(0) as u64))
    }

    /// Forget any earlier run of this schema and record a new one: its id, fingerprint and
    /// the options behind it.
    pub(crate) async fn start(
        &mut self,
        client: &tokio_postgres::Client,
        fingerprint: &str,
        run_id: &str,
        options: &str,
    ) -> Result<(), EngineError> {
        let sql = format!(
            "BEGIN;\nDELETE FROM \"{LEDGER_SCHEMA}\".progress WHERE run_schema = {run};\n\
             DELETE FROM \"{LEDGER_SCHEMA}\".rejects WHERE run_schema = {run};\n\
             INSERT INTO \"{LEDGER_SCHEMA}\".progress (run_schema, item, fingerprint, run_id, options) VALUES ({run}, '{RUN_ITEM}', {fp}, {id}, {options});\nCOMMIT;",
            run = quote_literal(&self.run),
            fp = quote_literal(fingerprint),
            id = quote_literal(run_id),
            options = quote_literal(options)
        );
        if let Err(e) = client.batch_execute(&sql).await {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(EngineError::statement(
                "starting a run in barge's progress ledger",
                &sql,
                &e,
            ));
        }
        crate::sync::lock(&self.done).clear();
        self.rows.clear();
        self.fingerprint = Some(fingerprint.to_string());
        self.run_id = Some(run_id.to_string());
        self.options = Some(options.to_string());
        Ok(())
    }

    /// After a successful run: remember that it completed (its start is when its ledger
    /// row was written) and remove its rows, in one transaction.
    pub(crate) async fn finish(
        &self,
        client: &tokio_postgres::Client,
        run_id: &str,
    ) -> Result<(), EngineError> {
        let sql = format!(
            "BEGIN;\nINSERT INTO \"{LEDGER_SCHEMA}\".completed_runs (run_schema, run_id, started_at) \
             SELECT {run}, {id}, coalesce((SELECT done_at FROM \"{LEDGER_SCHEMA}\".progress \
                 WHERE run_schema = {run} AND item = '{RUN_ITEM}'), now()) \
             ON CONFLICT (run_schema, run_id) DO UPDATE SET finished_at = now();\n\
             DELETE FROM \"{LEDGER_SCHEMA}\".progress WHERE run_schema = {run};\n\
             DELETE FROM \"{LEDGER_SCHEMA}\".rejects WHERE run_schema = {run};\nCOMMIT",
            run = quote_literal(&self.run),
            id = quote_literal(run_id),
        );
        if let Err(e) = client.batch_execute(&sql).await {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(EngineError::statement(
                "clearing barge's progress ledger",
                &sql,
                &e,
            ));
        }
        Ok(())
    }
}

/// Whether `_barge.<table>` exists.
async fn ledger_table_exists(
    client: &tokio_postgres::Client,
    table: &str,
) -> Result<bool, EngineError> {
    let sql = "SELECT to_regclass(format('%I.%I', $1::text, $2::text)) IS NOT NULL";
    client
        .query_one(sql, &[&LEDGER_SCHEMA, &table])
        .await
        .map(|r| r.get(0))
        .map_err(|e| EngineError::statement("looking for barge's progress ledger", sql, &e))
}

async fn column_exists(
    client: &tokio_postgres::Client,
    table: &str,
    column: &str,
) -> Result<bool, EngineError> {
    let sql = "SELECT EXISTS (SELECT 1 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
               JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE n.nspname = $1 AND c.relname = $2 AND a.attname = $3 AND NOT a.attisdropped)";
    client
        .query_one(sql, &[&LEDGER_SCHEMA, &table, &column])
        .await
        .map(|r| r.get(0))
        .map_err(|e| EngineError::statement("reading the ledger's columns", sql, &e))
}

/// Ledger item names.
pub(crate) mod item {
    use barge_model::KeyRange;

    pub(crate) const SCHEMA: &str = "schema";

    pub(crate) fn copy(table: &str, range: &KeyRange) -> String {
        format!(
            "copy {table} {}",
            serde_json::to_string(range).unwrap_or_else(|_| format!("{range:?}"))
        )
    }

    pub(crate) fn step(what: &str) -> String {
        format!("step {what}")
    }
}
