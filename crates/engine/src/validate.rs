//! Validation after a run, or standalone (`barge validate`): compares each table on both
//! sides. `row_count` compares exact counts (`count(*)` on each side, never estimates).
//!
//! Full-content checksums (`validation = "checksum"`) are not built yet and are refused by
//! the option check; `sampled_hash` likewise.

use crate::connect::pg_config;
use crate::plan::{build_plan, MigrationPlan};
use crate::source::Source;
use crate::EngineError;
use barge_config::Settings;
use serde::Serialize;

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
}

impl TableCheck {
    pub fn matches(&self) -> bool {
        self.target_rows.map(|n| n + self.quarantined_rows) == Some(self.source_rows)
    }
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
        let quarantine = barge_pg::ddl::qualified(
            &barge_pg::orphans::quarantine_schema(schema),
            &t.target_name,
        );
        let exists = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&quarantine])
            .await
            .map(|r| r.get::<_, bool>(0))
            .unwrap_or(false);
        let quarantined_rows = if exists {
            client
                .query_one(&format!("SELECT count(*) FROM {quarantine}"), &[])
                .await
                .map(|r| r.get::<_, i64>(0) as u64)
                .unwrap_or(0)
        } else {
            0
        };
        out.push(TableCheck {
            source_name: t.source_name.clone(),
            target_name: t.target_name.clone(),
            source_rows,
            target_rows,
            quarantined_rows,
        });
    }
    Ok(out)
}

/// `barge validate`: compare live source and target without migrating.
pub async fn validate(settings: &Settings) -> Result<Vec<TableCheck>, EngineError> {
    let plan = build_plan(settings).await?;
    let source = plan
        .source_handle
        .clone()
        .ok_or_else(|| EngineError::Setup("the plan has no source".into()))?;
    let client = barge_pg::connect(&pg_config(&settings.target.connection)?).await?;
    row_counts(&plan, &source, &client, &settings.schema).await
}
