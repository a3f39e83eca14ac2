//! After the data: keys, indexes, logging, foreign keys, identity counters and statistics.
//!
//! Tables are loaded bare because building keys and indexes once over the loaded data is much
//! faster than maintaining them row by row. Keys and indexes build in parallel (one connection
//! per index worker); foreign keys are added `NOT VALID` (instant) and then validated in
//! parallel, which only reads.

use crate::progress::{ProgressEvent, ProgressSink};
use crate::EngineError;
use barge_model::Schema;
use barge_pg::ddl;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One statement and what it is, for progress and errors.
pub(crate) struct Step {
    pub what: String,
    pub sql: String,
}

/// Run independent statements on up to `workers` connections; every failure is reported.
pub(crate) async fn run_parallel(
    pg: &tokio_postgres::Config,
    workers: usize,
    steps: Vec<Step>,
    sink: &Arc<dyn ProgressSink>,
) -> Result<(), EngineError> {
    if steps.is_empty() {
        return Ok(());
    }
    let workers = workers.clamp(1, steps.len());
    let queue = Arc::new(Mutex::new(steps.into_iter().collect::<VecDeque<_>>()));
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut handles = Vec::new();
    for _ in 0..workers {
        let queue = queue.clone();
        let errors = errors.clone();
        let pg = pg.clone();
        let sink = sink.clone();
        handles.push(tokio::spawn(async move {
            let client = match barge_pg::connect(&pg).await {
                Ok(c) => c,
                Err(e) => {
                    errors
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(e.to_string());
                    return;
                }
            };
            loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                let Some(step) = next else { return };
                let started = Instant::now();
                match barge_pg::target::batch(&client, &step.what, &step.sql).await {
                    Ok(()) => sink.event(ProgressEvent::Step {
                        what: step.what,
                        seconds: started.elapsed().as_secs_f64(),
                    }),
                    Err(e) => errors
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(e.to_string()),
                }
            }
        }));
    }
    for h in handles {
        if let Err(e) = h.await {
            errors
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(format!("a post-load worker failed: {e}"));
        }
    }
    let errors = std::mem::take(&mut *errors.lock().unwrap_or_else(|p| p.into_inner()));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(EngineError::Copy {
            count: errors.len(),
            errors,
        })
    }
}

pub(crate) fn key_and_index_steps(schema_name: &str, schema: &Schema) -> Vec<Step> {
    let mut steps = Vec::new();
    for t in &schema.tables {
        if let Some(pk) = &t.primary_key {
            steps.push(Step {
                what: format!("primary key of `{}`", t.target_name),
                sql: ddl::add_primary_key(schema_name, t, pk),
            });
        }
        for u in &t.unique_keys {
            steps.push(Step {
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
                what: format!("index `{}` of `{}`", i.target_name, t.target_name),
                sql: ddl::create_index(schema_name, t, i),
            });
        }
    }
    steps
}

pub(crate) fn set_logged_steps(schema_name: &str, schema: &Schema) -> Vec<Step> {
    schema
        .tables
        .iter()
        .map(|t| Step {
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
    let mut add = Vec::new();
    let mut validate = Vec::new();
    for t in &schema.tables {
        for fk in &t.foreign_keys {
            let Some(parent) = schema.table(&fk.ref_table) else {
                continue;
            };
            let name = ddl::foreign_key_name(t, fk);
            add.push(Step {
                what: format!("foreign key `{name}` of `{}`", t.target_name),
                sql: ddl::add_foreign_key(schema_name, t, fk, parent),
            });
            validate.push(Step {
                what: format!("validating foreign key `{name}` of `{}`", t.target_name),
                sql: ddl::validate_foreign_key(schema_name, t, fk),
            });
        }
    }
    (add, validate)
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
                what: format!("identity of `{}`.`{}`", t.target_name, c.target_name),
                sql: ddl::restart_identity(schema_name, t, c),
            });
        }
    }
    steps
}

pub(crate) fn analyze_steps(schema_name: &str, schema: &Schema) -> Vec<Step> {
    schema
        .tables
        .iter()
        .map(|t| Step {
            what: format!("analyzing `{}`", t.target_name),
            sql: format!("ANALYZE {}", ddl::qualified(schema_name, &t.target_name)),
        })
        .collect()
}
