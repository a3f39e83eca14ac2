//! After the data: keys, indexes, logging, foreign keys, identity counters and statistics.
//! `pool` runs the steps on several connections, `pipeline` starts each as soon as what it
//! needs is done.
//!
//! Tables are loaded bare because building keys and indexes once over the loaded data is much
//! faster than maintaining them row by row. Keys and indexes build in parallel (one connection
//! per index worker); foreign keys are added `NOT VALID` (instant) and then validated in
//! parallel, which only reads.

mod pipeline;
mod pool;

pub(crate) use pipeline::AfterCopy;
pub(crate) use pool::StepPool;

use crate::ledger::{item, Ledger};
use crate::progress::ProgressSink;
use crate::EngineError;
use barge_model::{ForeignKey, Schema, Table};
use barge_pg::ddl;
use std::sync::Arc;

/// One statement and what it is, for progress and errors.
pub(crate) struct Step {
    pub what: String,
    pub sql: String,
    /// Rows of the table the step works on: a pool starts the heaviest queued step first,
    /// so the longest chain (the biggest table's key, then its foreign keys) is not held up
    /// behind small steps.
    pub weight: u64,
}

/// The weight of a step on table `t`.
fn weight(t: &Table) -> u64 {
    t.row_count.unwrap_or(0)
}

/// Test hook: `BARGE_TEST_STEP_DELAY_MS` makes every post-load step wait first, so crash
/// tests can stop a run inside the short phases (foreign keys, checks, identities). Unset in
/// normal use, where it costs one environment lookup per step.
pub(crate) async fn test_hook_step_delay() {
    if let Some(ms) = std::env::var("BARGE_TEST_STEP_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}

/// Where post-load steps run: the target, and what each of their sessions sets first
/// (`maintenance_work_mem`, for the sorts of index builds). Sent as statements, not as
/// startup options, which connection poolers such as PgBouncer refuse.
#[derive(Clone)]
pub(crate) struct StepTarget {
    pub pg: tokio_postgres::Config,
    pub setup: Option<String>,
}

impl StepTarget {
    pub(crate) fn new(pg: &tokio_postgres::Config, settings: &barge_config::Settings) -> Self {
        StepTarget {
            pg: pg.clone(),
            setup: settings.maintenance_work_mem.as_ref().map(|mem| {
                format!(
                    "SET maintenance_work_mem = {}",
                    barge_pg::ddl::quote_literal(mem)
                )
            }),
        }
    }

    /// A session for steps.
    pub(crate) async fn connect(&self) -> Result<tokio_postgres::Client, barge_pg::PgError> {
        let client = barge_pg::connect(&self.pg).await?;
        if let Some(sql) = &self.setup {
            barge_pg::target::batch(&client, "setting up a post-load session", sql).await?;
        }
        Ok(client)
    }
}

/// Run independent statements on up to `workers` connections and wait for all of them.
pub(crate) async fn run_parallel(
    pg: &StepTarget,
    workers: usize,
    steps: Vec<Step>,
    sink: &Arc<dyn ProgressSink>,
    ledger: &Arc<Ledger>,
) -> Result<(), EngineError> {
    if steps.is_empty() {
        return Ok(());
    }
    let pool = StepPool::start(pg, workers.clamp(1, steps.len()), sink, ledger);
    pool.push(steps);
    pool.finish().await
}

/// Primary key, unique keys and indexes of one table.
pub(crate) fn table_key_and_index_steps(schema_name: &str, t: &Table) -> Vec<Step> {
    let mut steps = Vec::new();
    if let Some(pk) = &t.primary_key {
        steps.push(Step {
            weight: weight(t),
            what: format!("primary key of `{}`", t.target_name),
            sql: ddl::add_primary_key(schema_name, t, pk),
        });
    }
    for u in &t.unique_keys {
        steps.push(Step {
            weight: weight(t),
            what: format!(
                "unique key ({}) of `{}`",
                u.columns.join(", "),
                t.target_name
            ),
            sql: ddl::add_unique(schema_name, t, u),
        });
    }
    for i in &t.indexes {
        steps.push(Step {
            weight: weight(t),
            what: format!("index `{}` of `{}`", i.target_name, t.target_name),
            sql: ddl::create_index(schema_name, t, i),
        });
    }
    steps
}

pub(crate) fn set_logged_steps(schema_name: &str, schema: &Schema) -> Vec<Step> {
    schema
        .tables
        .iter()
        .map(|t| Step {
            weight: weight(t),
            what: format!("making `{}` logged", t.target_name),
            sql: format!(
                "ALTER TABLE {} SET LOGGED",
                ddl::qualified(schema_name, &t.target_name)
            ),
        })
        .collect()
}

/// `(add NOT VALID, validate)` statement pairs.
pub(crate) fn foreign_key_steps(schema_name: &str, schema: &Schema) -> (Vec<Step>, Vec<Step>) {
    schema
        .tables
        .iter()
        .flat_map(|t| t.foreign_keys.iter().map(move |fk| (t, fk)))
        .filter_map(|(t, fk)| {
            let parent = schema.table(&fk.ref_table)?;
            Some(foreign_key_step_pair(schema_name, t, fk, parent))
        })
        .unzip()
}

/// Adding one foreign key `NOT VALID` (instant), and validating it (a scan of the child).
pub(crate) fn foreign_key_step_pair(
    schema_name: &str,
    child: &Table,
    fk: &ForeignKey,
    parent: &Table,
) -> (Step, Step) {
    let name = ddl::foreign_key_name(child, fk);
    (
        Step {
            weight: weight(child),
            what: format!("foreign key `{name}` of `{}`", child.target_name),
            sql: ddl::add_foreign_key(schema_name, child, fk, parent),
        },
        Step {
            weight: weight(child),
            what: format!("validating foreign key `{name}` of `{}`", child.target_name),
            sql: ddl::validate_foreign_key(schema_name, child, fk),
        },
    )
}

/// Add every CHECK constraint `NOT VALID`, then validate it, on one connection (there are
/// few). The data is loaded by now, so a check PostgreSQL cannot take is reported, not fatal:
/// one it cannot create (SQLite's loose typing, e.g. text compared with a number) is not
/// migrated; one the loaded rows fail stays NOT VALID, enforced only for new rows.
pub(crate) async fn add_checks(
    client: &tokio_postgres::Client,
    schema_name: &str,
    schema: &Schema,
    ledger: &Ledger,
) -> Result<Vec<String>, EngineError> {
    let mut warnings = Vec::new();
    for t in &schema.tables {
        for (i, c) in t.checks.iter().enumerate() {
            let name = ddl::check_name(t, i, c);
            let what = format!("check constraint `{name}` of `{}`", t.target_name);
            let validate_what = format!("validating {what}");
            let added =
                check_step(client, ledger, &what, ddl::add_check(schema_name, t, i, c)).await?;
            if let Some(e) = added {
                warnings.push(format!("{e}\n  the constraint is not migrated"));
                let key = item::step(&validate_what);
                let _ = client.batch_execute(&ledger.record_sql(&key, 0)).await;
                continue;
            }
            let validate = ddl::validate_check(schema_name, t, i, c);
            if let Some(e) = check_step(client, ledger, &validate_what, validate).await? {
                warnings.push(format!(
                    "{e}\n  the constraint stays NOT VALID: enforced for new rows, not checked on the loaded ones"
                ));
            }
        }
    }
    Ok(warnings)
}

/// Run one CHECK statement with its ledger record. `Ok(Some(error))`: PostgreSQL refused
/// the constraint itself (SQLSTATE classes 42, 22, 23), recorded so a resumed run does not
/// try again; any other failure (a lost connection) stops the run and is not recorded.
async fn check_step(
    client: &tokio_postgres::Client,
    ledger: &Ledger,
    what: &str,
    sql: String,
) -> Result<Option<barge_pg::PgError>, EngineError> {
    let key = item::step(what);
    if ledger.is_done(&key) {
        return Ok(None);
    }
    test_hook_step_delay().await;
    let tx = format!("BEGIN;\n{sql};\n{};\nCOMMIT", ledger.record_sql(&key, 0));
    let Err(e) = client.batch_execute(&tx).await else {
        return Ok(None);
    };
    let _ = client.batch_execute("ROLLBACK").await;
    let error = barge_pg::PgError::Statement {
        what: what.to_string(),
        message: barge_pg::target::db_message(&e),
        statement: sql,
    };
    let refused = e
        .code()
        .is_some_and(|c| ["42", "22", "23"].iter().any(|k| c.code().starts_with(k)));
    if !refused {
        return Err(error.into());
    }
    let _ = client.batch_execute(&ledger.record_sql(&key, 0)).await;
    Ok(Some(error))
}

pub(crate) fn identity_steps(schema_name: &str, schema: &Schema) -> Vec<Step> {
    let mut steps = Vec::new();
    for t in &schema.tables {
        for c in t
            .columns
            .iter()
            .filter(|c| c.identity && c.data_type.is_integer())
        {
            steps.push(Step {
                weight: weight(t),
                what: format!("identity of `{}`.`{}`", t.target_name, c.target_name),
                sql: ddl::restart_identity(schema_name, t, c),
            });
        }
    }
    for seq in &schema.sequences {
        steps.push(Step {
            weight: 0,
            what: format!("sequence `{}`", seq.target_name),
            sql: ddl::restart_sequence(schema_name, seq),
        });
    }
    steps
}

/// The triggers that emulate MySQL's `ON UPDATE CURRENT_TIMESTAMP`, one per table.
pub(crate) fn on_update_trigger_steps(schema_name: &str, schema: &Schema) -> Vec<Step> {
    schema
        .tables
        .iter()
        .filter_map(|t| {
            Some(Step {
                weight: weight(t),
                what: format!("ON UPDATE trigger of `{}`", t.target_name),
                sql: ddl::on_update_trigger(schema_name, t)?,
            })
        })
        .collect()
}

pub(crate) fn analyze_steps(schema_name: &str, schema: &Schema) -> Vec<Step> {
    schema
        .tables
        .iter()
        .map(|t| analyze_step(schema_name, t))
        .collect()
}

pub(crate) fn analyze_step(schema_name: &str, t: &Table) -> Step {
    Step {
        weight: weight(t),
        what: format!("analyzing `{}`", t.target_name),
        sql: format!("ANALYZE {}", ddl::qualified(schema_name, &t.target_name)),
    }
}
