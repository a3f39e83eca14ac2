//! Validation after a run, or standalone (`barge validate`): compares each table on both
//! sides. `row_count` compares exact counts (`count(*)` on each side, never estimates);
//! `checksum` compares every value of every row and names the rows that differ (see
//! `checksum` for how, `canonical` for the text form both sides agree on). Under
//! `checksum_source = "database"` the source database computes its side itself (`database`).
//!
//! `sampled_hash` is not built yet and is refused by the option check.

mod canonical;
mod checksum;
mod database;
mod pghash;

pub(crate) use checksum::CopySums;
pub use checksum::{ChecksumResult, ColumnDifference, DifferenceKind, RowDifference};

use crate::connect::pg_config;
use crate::ledger::Ledger;
use crate::plan::{build_plan, MigrationPlan};
use crate::progress::ProgressSink;
use crate::source::Source;
use crate::tracking::{self, RunTracker};
use crate::EngineError;
use barge_config::{Settings, Validation};
use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// One table's comparison.
#[derive(Debug, Clone, Serialize)]
pub struct TableCheck {
    pub source_name: String,
    pub target_name: String,
    pub source_rows: u64,
    /// `None` when the target table does not exist.
    pub target_rows: Option<u64>,
    /// Orphan rows moved to the quarantine schema (they left the table on purpose).
    pub quarantined_rows: u64,
    /// The full-content comparison, under `validation = "checksum"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ChecksumResult>,
}

impl TableCheck {
    pub fn matches(&self) -> bool {
        self.target_rows.map(|n| n + self.quarantined_rows) == Some(self.source_rows)
            && self.checksum.as_ref().is_none_or(ChecksumResult::matches)
    }
}

impl TableCheck {
    /// What differs, in one line for warnings: counts first, then content.
    pub fn problem(&self) -> String {
        let counts_match =
            self.target_rows.map(|n| n + self.quarantined_rows) == Some(self.source_rows);
        match (&self.checksum, counts_match) {
            (Some(c), true) if !c.matches() => format!(
                "table `{}`: {} of {} checksum chunk(s) differ in content ({} differing row(s) located)",
                self.source_name, c.differing_chunks, c.chunks, c.differing_rows
            ),
            _ => format!(
                "table `{}`: {} row(s) in the source, {} in PostgreSQL",
                self.source_name,
                self.source_rows,
                self.target_rows
                    .map_or("none (table missing)".to_string(), |n| n.to_string())
            ),
        }
    }
}

/// The quarantine table of `table` (`<schema>_orphans.<table>`) when it exists, and its rows.
async fn quarantine(
    client: &tokio_postgres::Client,
    schema: &str,
    table: &str,
) -> (Option<String>, u64) {
    let quarantine = barge_pg::ddl::qualified(&barge_pg::orphans::quarantine_schema(schema), table);
    let exists = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&quarantine])
        .await
        .map(|r| r.get::<_, bool>(0))
        .unwrap_or(false);
    if !exists {
        return (None, 0);
    }
    let rows = client
        .query_one(&format!("SELECT count(*) FROM {quarantine}"), &[])
        .await
        .map(|r| r.get::<_, i64>(0) as u64)
        .unwrap_or(0);
    (Some(quarantine), rows)
}

/// Compare every value of every planned table (`validation = "checksum"`). `copied`: the
/// source side of the chunks the copy already hashed, which are not read again.
pub(crate) async fn checksums(
    plan: &Arc<MigrationPlan>,
    source: &Source,
    pg: &tokio_postgres::Config,
    settings: &Settings,
    cancel: Arc<AtomicBool>,
    copied: Option<&CopySums>,
) -> Result<Vec<TableCheck>, EngineError> {
    let policy = match settings.on_invalid_value {
        barge_config::InvalidValuePolicy::Error => barge_model::InvalidValuePolicy::Error,
        barge_config::InvalidValuePolicy::Null => barge_model::InvalidValuePolicy::Null,
    };
    // Up to `workers` tables at once, each on its own session (one session runs one query
    // at a time), so small tables overlap the big one as in the copy.
    let one_table = |i: usize| {
        let cancel = cancel.clone();
        async move {
            let t = &plan.tables[i];
            let client = barge_pg::connect(pg).await?;
            let (q, quarantined_rows) = quarantine(&client, &settings.schema, &t.target_name).await;
            let cx = checksum::ChecksumContext {
                plan,
                source,
                client: &client,
                schema: &settings.schema,
                policy,
                workers: settings.workers,
                chunk_size: settings.chunk_size,
                cancel,
                copied,
            };
            let (source_rows, target_rows, result) =
                if settings.checksum_source == barge_config::ChecksumSource::Database {
                    database::compare_table(&cx, i, q.as_deref()).await?
                } else {
                    checksum::compare_table(&cx, i, q.as_deref()).await?
                };
            Ok::<_, EngineError>(TableCheck {
                source_name: t.source_name.clone(),
                target_name: t.target_name.clone(),
                source_rows,
                target_rows: target_rows.map(|n| n.saturating_sub(quarantined_rows)),
                quarantined_rows,
                checksum: Some(result),
            })
        }
    };
    futures_util::stream::iter(0..plan.tables.len())
        .map(one_table)
        .buffered(settings.workers.max(1))
        .try_collect()
        .await
}

/// Count every planned table on both sides.
pub(crate) async fn row_counts(
    plan: &MigrationPlan,
    source: &Source,
    client: &tokio_postgres::Client,
    schema: &str,
) -> Result<Vec<TableCheck>, EngineError> {
    let mut out = Vec::new();
    for t in &plan.tables {
        let source_rows = source.count_rows(&t.source_name).await?;
        let sql = format!(
            "SELECT count(*) FROM {}",
            barge_pg::ddl::qualified(schema, &t.target_name)
        );
        let target_rows = match client.query_one(&sql, &[]).await {
            Ok(row) => Some(row.get::<_, i64>(0) as u64),
            // 42P01: the table does not exist in the target.
            Err(e) if e.code().map(|c| c.code()) == Some("42P01") => None,
            Err(e) => {
                return Err(EngineError::statement(
                    &format!("counting rows of `{}`", t.target_name),
                    &sql,
                    &e,
                ))
            }
        };
        let (_, quarantined_rows) = quarantine(client, schema, &t.target_name).await;
        out.push(TableCheck {
            source_name: t.source_name.clone(),
            target_name: t.target_name.clone(),
            source_rows,
            target_rows,
            quarantined_rows,
            checksum: None,
        });
    }
    Ok(out)
}

/// `barge validate`: compare live source and target without migrating, by exact row counts,
/// or every value under `validation = "checksum"`.
pub async fn validate(
    settings: &Settings,
    sink: Arc<dyn ProgressSink>,
    command_line: Option<&str>,
) -> Result<Vec<TableCheck>, EngineError> {
    let plan = Arc::new(build_plan(settings).await?);
    // With a tracking database, a standalone validation is a run of its own there: its
    // counts and checksum results go to `sourcetargetdiff` like a migration's.
    let tracker = match tracking::open_store(settings).await? {
        Some(store) => {
            let run = tracking::run_record(
                settings,
                &crate::checkpoint::new_run_id(),
                barge_tracking::time::now(),
                "validate".into(),
                command_line,
            );
            Some(RunTracker::start(
                store,
                sink,
                run,
                settings,
                &plan,
                &Ledger::default(),
            ))
        }
        None => None,
    };
    let result = compare(settings, &plan).await;
    if let Some(t) = tracker {
        if let Ok(checks) = &result {
            let columns: Vec<usize> = plan.schema.tables.iter().map(|t| t.columns.len()).collect();
            t.counts(checks, &settings.schema, &columns);
        }
        t.finish(result.as_ref().map(|_| ())).await;
    }
    result
}

async fn compare(
    settings: &Settings,
    plan: &Arc<MigrationPlan>,
) -> Result<Vec<TableCheck>, EngineError> {
    let source = plan
        .source_handle
        .clone()
        .ok_or_else(|| EngineError::Setup("the plan has no source".into()))?;
    let pg = pg_config(&settings.target.connection)?;
    if settings.validation == Validation::Checksum {
        let cancel = Arc::new(AtomicBool::new(false));
        checksums(plan, &source, &pg, settings, cancel, None).await
    } else {
        let client = barge_pg::connect(&pg).await?;
        row_counts(plan, &source, &client, &settings.schema).await
    }
}
