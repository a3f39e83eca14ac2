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
use crate::progress::{ProgressEvent, ProgressSink};
use crate::EngineError;
use barge_model::{ForeignKey, Schema, Table};
use barge_pg::ddl;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

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
/// startup options, which connection poolers such as PgBouncer refuse. It also carries the
/// run's [`PostLoadRun`]: every place that runs steps gets both from here.
#[derive(Clone)]
pub(crate) struct StepTarget {
    pub pg: tokio_postgres::Config,
    pub setup: Option<String>,
    pub run: Arc<PostLoadRun>,
}

/// What all post-load steps of a run share: the interrupt flag, checked before each step
/// starts (a step that runs finishes and commits with its ledger record, so an interrupt
/// stops the run between steps), and progress: the planned steps, those done, those
/// running, reported as [`ProgressEvent::PostLoad`] when a step starts or ends and, from
/// [`PostLoadRun::spawn_ticker`], every few seconds while steps run (plain log lines).
pub(crate) struct PostLoadRun {
    cancel: Arc<AtomicBool>,
    sink: std::sync::OnceLock<Arc<dyn ProgressSink>>,
    state: std::sync::Mutex<Progress>,
}

#[derive(Default)]
struct Progress {
    planned: HashSet<String>,
    done: HashSet<String>,
    running: Vec<(String, Instant)>,
    /// A step started (post-load is under way).
    began: bool,
}

/// How often a plain log line reports post-load progress.
const TICK: std::time::Duration = std::time::Duration::from_secs(5);

impl PostLoadRun {
    pub(crate) fn new(cancel: Arc<AtomicBool>) -> Arc<PostLoadRun> {
        Arc::new(PostLoadRun {
            cancel,
            sink: std::sync::OnceLock::new(),
            state: std::sync::Mutex::new(Progress::default()),
        })
    }

    /// Whether the run was interrupted: no step starts any more.
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    /// The steps the run will do (their `what`), and where progress goes; steps the ledger
    /// records count as done already.
    pub(crate) fn plan(&self, steps: Vec<String>, ledger: &Ledger, sink: Arc<dyn ProgressSink>) {
        let _ = self.sink.set(sink);
        let mut state = crate::sync::lock(&self.state);
        for what in steps {
            if ledger.is_done(&item::step(&what)) {
                state.done.insert(what.clone());
            }
            state.planned.insert(what);
        }
    }

    pub(crate) fn started(&self, what: &str) {
        {
            let mut state = crate::sync::lock(&self.state);
            state.planned.insert(what.to_string());
            state.running.push((what.to_string(), Instant::now()));
            state.began = true;
        }
        self.report(false);
    }

    /// `what` ended: done now or earlier, or failed (it will not run again in this run).
    pub(crate) fn ended(&self, what: &str) {
        let changed = {
            let mut state = crate::sync::lock(&self.state);
            let before = state.running.len();
            state.running.retain(|(w, _)| w != what);
            state.planned.insert(what.to_string());
            state.done.insert(what.to_string()) || before != state.running.len()
        };
        if changed {
            self.report(false);
        }
    }

    /// `what` started but did not run (an interrupt came first): not done.
    pub(crate) fn stopped(&self, what: &str) {
        crate::sync::lock(&self.state)
            .running
            .retain(|(w, _)| w != what);
    }

    fn report(&self, tick: bool) {
        let Some(sink) = self.sink.get() else {
            return;
        };
        let event = {
            let state = crate::sync::lock(&self.state);
            // Ticks only while post-load is under way.
            let finished = state.done.len() >= state.planned.len() && state.running.is_empty();
            if tick && (!state.began || finished) {
                return;
            }
            ProgressEvent::PostLoad {
                done: state.done.len(),
                total: state.planned.len(),
                running: state
                    .running
                    .iter()
                    .map(|(w, t)| (w.clone(), t.elapsed().as_secs_f64()))
                    .collect(),
                tick,
            }
        };
        sink.event(event);
    }

    /// A task that reports progress every few seconds while steps run; abort it at the end.
    pub(crate) fn spawn_ticker(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let run = self.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(TICK);
            interval.tick().await;
            loop {
                interval.tick().await;
                run.report(true);
            }
        })
    }
}

impl StepTarget {
    pub(crate) fn new(
        pg: &tokio_postgres::Config,
        settings: &barge_config::Settings,
        run: Arc<PostLoadRun>,
    ) -> Self {
        StepTarget {
            pg: pg.clone(),
            setup: settings.maintenance_work_mem.as_ref().map(|mem| {
                format!(
                    "SET maintenance_work_mem = {}",
                    barge_pg::ddl::quote_literal(mem)
                )
            }),
            run,
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
    if pg.run.cancelled() {
        return Err(EngineError::Interrupted);
    }
    let pool = StepPool::start(pg, workers.clamp(1, steps.len()), sink, ledger);
    pool.push(steps);
    pool.finish().await
}

/// Every post-load step a run plans, by its `what` (as the steps below name themselves), for
/// the progress count: keys and indexes, logging, foreign keys and their validation, checks
/// and their validation, ON UPDATE triggers, identities and statistics.
pub(crate) fn planned_steps(settings: &barge_config::Settings, schema: &Schema) -> Vec<String> {
    let name = settings.schema.as_str();
    let mut out = Vec::new();
    if !settings.data_only {
        for t in &schema.tables {
            out.extend(
                table_key_and_index_steps(name, t)
                    .into_iter()
                    .map(|s| s.what),
            );
        }
        if settings.unlogged_tables {
            out.extend(set_logged_steps(name, schema).into_iter().map(|s| s.what));
        }
        let (add, validate) = foreign_key_steps(name, schema);
        out.extend(add.into_iter().chain(validate).map(|s| s.what));
        for t in &schema.tables {
            for (i, c) in t.checks.iter().enumerate() {
                let what = check_what(t, i, c);
                out.push(format!("validating {what}"));
                out.push(what);
            }
        }
        out.extend(
            on_update_trigger_steps(name, schema)
                .into_iter()
                .map(|s| s.what),
        );
    }
    out.extend(identity_steps(name, schema).into_iter().map(|s| s.what));
    out.extend(analyze_steps(name, schema).into_iter().map(|s| s.what));
    out
}

fn check_what(t: &Table, i: usize, c: &barge_model::Check) -> String {
    format!(
        "check constraint `{}` of `{}`",
        ddl::check_name(t, i, c),
        t.target_name
    )
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
    run: &PostLoadRun,
) -> Result<Vec<String>, EngineError> {
    let mut warnings = Vec::new();
    for t in &schema.tables {
        for (i, c) in t.checks.iter().enumerate() {
            let what = check_what(t, i, c);
            let validate_what = format!("validating {what}");
            let added = check_step(
                client,
                ledger,
                run,
                &what,
                ddl::add_check(schema_name, t, i, c),
            )
            .await?;
            if let Some(e) = added {
                warnings.push(format!("{e}\n  the constraint is not migrated"));
                let key = item::step(&validate_what);
                let _ = client.batch_execute(&ledger.record_sql(&key, 0)).await;
                continue;
            }
            let validate = ddl::validate_check(schema_name, t, i, c);
            if let Some(e) = check_step(client, ledger, run, &validate_what, validate).await? {
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
    run: &PostLoadRun,
    what: &str,
    sql: String,
) -> Result<Option<barge_pg::PgError>, EngineError> {
    let key = item::step(what);
    if ledger.is_done(&key) {
        run.ended(what);
        return Ok(None);
    }
    if run.cancelled() {
        return Err(EngineError::Interrupted);
    }
    run.started(what);
    test_hook_step_delay().await;
    if run.cancelled() {
        run.stopped(what);
        return Err(EngineError::Interrupted);
    }
    let tx = format!("BEGIN;\n{sql};\n{};\nCOMMIT", ledger.record_sql(&key, 0));
    let result = client.batch_execute(&tx).await;
    run.ended(what);
    let Err(e) = result else {
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
