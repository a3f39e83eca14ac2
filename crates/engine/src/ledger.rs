//! The ledger: which work items of a run are done, recorded in the target database in the
//! same transaction as the work itself.
//!
//! Every item (the schema DDL, each copy chunk, each key, index, constraint, identity and
//! ANALYZE step) commits together with its ledger row, so after a crash at any instant an item
//! is either done and recorded or absent. `--resume` reads this truth and skips what is
//! recorded; the checkpoint file is only a report of it. The rows live in schema `_barge` of
//! the target database, keyed by target schema, and are removed after a successful run.
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

pub(crate) const LEDGER_SCHEMA: &str = "_barge";
const RUN_ITEM: &str = "run";

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
}

impl Ledger {
    /// Create the ledger table if needed and read the run's done items.
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
             CREATE TABLE IF NOT EXISTS \"{LEDGER_SCHEMA}\".rejects (\n\
                 run_schema text NOT NULL,\n\
                 item text NOT NULL,\n\
                 n int NOT NULL,\n\
                 line text NOT NULL,\n\
                 PRIMARY KEY (run_schema, item, n))"
        );
        // Two runs starting at once may race on IF NOT EXISTS; the loser's retry sees it.
        if client.batch_execute(&create).await.is_err() {
            client.batch_execute(&create).await.map_err(|e| {
                EngineError::statement("creating barge's progress ledger", &create, &e)
            })?;
        }
        let sql = format!(
            "SELECT item, rows, fingerprint FROM \"{LEDGER_SCHEMA}\".progress WHERE run_schema = $1"
        );
        let rows = client
            .query(&sql, &[&run])
            .await
            .map_err(|e| EngineError::statement("reading barge's progress ledger", &sql, &e))?;
        let mut ledger = Ledger {
            run: run.to_string(),
            ..Ledger::default()
        };
        for r in rows {
            let item: String = r.get(0);
            if item == RUN_ITEM {
                ledger.fingerprint = r.get(2);
                continue;
            }
            ledger.rows.insert(item.clone(), r.get::<_, i64>(1) as u64);
            crate::sync::lock(&ledger.done).insert(item);
        }
        Ok(ledger)
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

    /// Forget any earlier run of this schema and record a new one with its fingerprint.
    pub(crate) async fn start(
        &mut self,
        client: &tokio_postgres::Client,
        fingerprint: &str,
    ) -> Result<(), EngineError> {
        let sql = format!(
            "BEGIN;\nDELETE FROM \"{LEDGER_SCHEMA}\".progress WHERE run_schema = {run};\n\
             DELETE FROM \"{LEDGER_SCHEMA}\".rejects WHERE run_schema = {run};\n\
             INSERT INTO \"{LEDGER_SCHEMA}\".progress (run_schema, item, fingerprint) VALUES ({run}, '{RUN_ITEM}', {fp});\nCOMMIT;",
            run = quote_literal(&self.run),
            fp = quote_literal(fingerprint)
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
        Ok(())
    }

    /// After a successful run: remove its rows, and the ledger itself when no run is left.
    pub(crate) async fn finish(&self, client: &tokio_postgres::Client) -> Result<(), EngineError> {
        let sql = format!(
            "DELETE FROM \"{LEDGER_SCHEMA}\".progress WHERE run_schema = {run};\n\
             DELETE FROM \"{LEDGER_SCHEMA}\".rejects WHERE run_schema = {run}",
            run = quote_literal(&self.run)
        );
        client
            .batch_execute(&sql)
            .await
            .map_err(|e| EngineError::statement("clearing barge's progress ledger", &sql, &e))?;
        // Another run may still use the ledger; then it stays.
        let drop = format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM \"{LEDGER_SCHEMA}\".progress) THEN \
             DROP SCHEMA \"{LEDGER_SCHEMA}\" CASCADE; END IF; END $$"
        );
        let _ = client.batch_execute(&drop).await;
        Ok(())
    }
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
