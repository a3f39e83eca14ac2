//! `migrate`: the whole pipeline, in order.

use crate::connect::pg_config;
use crate::copy::{copy_all, CopyOptions};
use crate::plan::{build_plan, MigrationPlan};
use crate::postload;
use crate::progress::{ProgressEvent, ProgressSink};
use crate::EngineError;
use barge_config::{InvalidValuePolicy, OnSchemaExists, Settings};
use barge_model::Finding;
use barge_model::Reject;
use barge_pg::ddl;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone, Serialize)]
pub struct TableSummary {
    pub source_name: String,
    pub target_name: String,
    pub rows: u64,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrationSummary {
    pub source: String,
    pub target: String,
    pub target_schema: String,
    pub tables: Vec<TableSummary>,
    pub seconds: f64,
    pub findings: Vec<Finding>,
    pub rejected_values: usize,
    /// Where rejected values were written, when there were any.
    pub reject_file: Option<PathBuf>,
    /// Problems found after the load that did not stop it (a CHECK left NOT VALID).
    pub warnings: Vec<String>,
}

/// Run a migration end to end.
pub async fn migrate(
    settings: &Settings,
    sink: Arc<dyn ProgressSink>,
    cancel: Arc<AtomicBool>,
) -> Result<MigrationSummary, EngineError> {
    let started = Instant::now();
    sink.event(ProgressEvent::Phase("reading the source"));
    let plan = build_plan(settings).await?;
    let pg = pg_config(&settings.target.connection)?;
    let client = barge_pg::connect(&pg).await?;
    let schema = settings.schema.as_str();

    if !settings.data_only {
        sink.event(ProgressEvent::Phase("creating the schema"));
        prepare_schema(&client, settings, &plan).await?;
    }

    let source = plan
        .source_handle
        .clone()
        .ok_or_else(|| EngineError::Setup("the plan has no source".into()))?;
    let plan = Arc::new(plan);
    let mut table_rows = vec![0u64; plan.tables.len()];
    let mut table_seconds = vec![0f64; plan.tables.len()];
    let mut rejects: Vec<Reject> = Vec::new();
    // Keys and indexes of a table start as soon as its copy is done, while others copy.
    let build_keys = !settings.data_only;
    let index_pool = Arc::new(postload::StepPool::start(
        &pg,
        settings.index_workers,
        &sink,
    ));
    let on_table_done: Arc<dyn Fn(usize) + Send + Sync> = {
        let pool = index_pool.clone();
        let plan = plan.clone();
        let schema = schema.to_string();
        Arc::new(move |i: usize| {
            if build_keys {
                pool.push(postload::table_key_and_index_steps(
                    &schema,
                    &plan.schema.tables[i],
                ));
            }
        })
    };
    if !settings.schema_only {
        sink.event(ProgressEvent::Phase("copying data"));
        let policy = match settings.on_invalid_value {
            InvalidValuePolicy::Error => barge_model::InvalidValuePolicy::Error,
            InvalidValuePolicy::Null => barge_model::InvalidValuePolicy::Null,
        };
        let outcome = copy_all(
            plan.clone(),
            source,
            &pg,
            CopyOptions {
                schema,
                workers: settings.workers,
                policy,
            },
            cancel.clone(),
            sink.clone(),
            on_table_done.clone(),
        )
        .await?;
        table_rows = outcome.rows;
        table_seconds = outcome.seconds;
        rejects = outcome.rejects;
    }
    let reject_file = if rejects.is_empty() {
        None
    } else {
        write_rejects(&settings.reject_file, &rejects)?;
        Some(settings.reject_file.clone())
    };

    let s = &plan.schema;
    let mut warnings: Vec<String> = Vec::new();
    if settings.schema_only {
        index_pool.push(postload::key_and_index_steps(schema, s));
    }
    drop(on_table_done);
    sink.event(ProgressEvent::Phase("building keys and indexes"));
    let index_pool = Arc::try_unwrap(index_pool)
        .map_err(|_| EngineError::Setup("the index pool is still shared after the copy".into()))?;
    index_pool.finish().await?;
    if !settings.data_only {
        if settings.unlogged_tables {
            sink.event(ProgressEvent::Phase("making tables logged"));
            postload::run_parallel(
                &pg,
                settings.index_workers,
                postload::set_logged_steps(schema, s),
                &sink,
            )
            .await?;
        }
        sink.event(ProgressEvent::Phase("adding foreign keys"));
        let (add, validate) = postload::foreign_key_steps(schema, s);
        // Adding takes locks on both tables; one connection avoids lock waits between them.
        postload::run_parallel(&pg, 1, add, &sink).await?;
        postload::run_parallel(&pg, settings.index_workers, validate, &sink).await?;
        sink.event(ProgressEvent::Phase("adding check constraints"));
        warnings.extend(postload::add_checks(&client, schema, s).await);
    }
    sink.event(ProgressEvent::Phase("setting identity counters"));
    postload::run_parallel(&pg, 1, postload::identity_steps(schema, s), &sink).await?;
    sink.event(ProgressEvent::Phase("analyzing"));
    postload::run_parallel(
        &pg,
        settings.index_workers,
        postload::analyze_steps(schema, s),
        &sink,
    )
    .await?;

    let tables = plan
        .tables
        .iter()
        .enumerate()
        .map(|(i, t)| TableSummary {
            source_name: t.source_name.clone(),
            target_name: t.target_name.clone(),
            rows: table_rows[i],
            seconds: table_seconds[i],
        })
        .collect();
    Ok(MigrationSummary {
        source: plan.source.clone(),
        target: plan.target.clone(),
        target_schema: plan.target_schema.clone(),
        tables,
        seconds: started.elapsed().as_secs_f64(),
        findings: plan.findings.clone(),
        rejected_values: rejects.len(),
        reject_file,
        warnings,
    })
}

async fn prepare_schema(
    client: &tokio_postgres::Client,
    settings: &Settings,
    plan: &MigrationPlan,
) -> Result<(), EngineError> {
    let schema = settings.schema.as_str();
    let exists = barge_pg::target::schema_exists(client, schema).await?;
    let quoted = ddl::quote_ident(schema);
    let mut script = String::from("BEGIN;\n");
    match (exists, settings.on_schema_exists) {
        (true, OnSchemaExists::Error) => {
            return Err(EngineError::Setup(format!(
                "schema `{schema}` already exists in the target database\nhint: set `on_schema_exists = \"recreate\"` to drop and recreate it, or `\"use\"` to load into it while it is empty"
            )))
        }
        (true, OnSchemaExists::Use) => {
            if barge_pg::target::schema_table_count(client, schema).await? > 0 {
                return Err(barge_pg::PgError::SchemaNotEmpty(schema.to_string()).into());
            }
        }
        (true, OnSchemaExists::Recreate) => {
            script.push_str(&format!("DROP SCHEMA {quoted} CASCADE;\nCREATE SCHEMA {quoted};\n"));
        }
        (false, _) => script.push_str(&format!("CREATE SCHEMA {quoted};\n")),
    }
    for t in &plan.schema.tables {
        script.push_str(&ddl::create_table(schema, t, settings.unlogged_tables));
        script.push_str(";\n");
    }
    script.push_str("COMMIT;");
    if let Err(e) = barge_pg::target::batch(client, "creating the schema and tables", &script).await
    {
        let _ = client.batch_execute("ROLLBACK").await;
        return Err(e.into());
    }
    Ok(())
}

fn write_rejects(path: &PathBuf, rejects: &[Reject]) -> Result<(), EngineError> {
    let err = |source| EngineError::Rejects {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::create(path).map_err(err)?;
    let mut w = std::io::BufWriter::new(file);
    for r in rejects {
        let line = serde_json::to_string(r).map_err(|e| err(std::io::Error::other(e)))?;
        writeln!(w, "{line}").map_err(err)?;
    }
    w.flush().map_err(err)
}
