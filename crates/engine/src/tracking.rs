//! The run's side of the tracking database: what to record, when, and how a resume finds
//! its run there.
//!
//! The engine feeds the tracking writer from two places: a [`ProgressSink`] decorator
//! ([`TrackingSink`], like the checkpoint's) that turns progress events into load-task,
//! constraint and event records, and a few explicit calls at the start (run, tables and
//! columns on both sides, constraints, pending tasks, findings) and the end (exact counts,
//! differences, the run's status). Records go over a channel to the writer task, so no
//! tracking I/O happens on the copy's hot path. The ledger in the target stays the
//! exactly-once truth; on a resume the task records start from what the ledger says is done.

use crate::ledger::{item, Ledger};
use crate::plan::MigrationPlan;
use crate::postload;
use crate::progress::{ProgressEvent, ProgressSink};
use crate::validate::TableCheck;
use crate::EngineError;
use barge_config::Settings;
use barge_model::{DataType, Severity, Table};
use barge_tracking::{
    time, writer, ColumnRecord, ConstraintRecord, DiffRecord, Event, EventLevel, KnownRun,
    LoadTask, Record, RecordSender, RunRecord, RunStatus, Side, TableRecord, Task, TaskStatus,
    TrackingStore, WriterOptions,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Connect to the tracking database and set it up under the configured mode.
pub(crate) async fn open_store(settings: &Settings) -> Result<Option<TrackingStore>, EngineError> {
    let Some(t) = &settings.tracking else {
        return Ok(None);
    };
    let mut store = TrackingStore::connect(t).await?;
    store.setup(t.mode).await?;
    Ok(Some(store))
}

/// Descriptions recorded for a run (never with a password): `(source, target)`.
pub(crate) fn descriptions(settings: &Settings) -> (String, String) {
    (
        format!(
            "{}:{}",
            settings.source.kind,
            settings.source.connection.redacted()
        ),
        settings.target.connection.redacted(),
    )
}

/// The run a `--resume` continues, when the tracking database (or the checkpoint file)
/// names one: `Some(run id)`, or `None` for "whatever the ledger holds".
pub(crate) async fn resume_target(
    store: Option<&mut TrackingStore>,
    settings: &Settings,
    requested: Option<&str>,
    checkpoint_run: Option<&str>,
) -> Result<Option<String>, EngineError> {
    let schema = settings.schema.as_str();
    let (source, target) = descriptions(settings);
    let Some(store) = store else {
        // Without a tracking database the checkpoint file is the only record of a run id.
        return match (requested, checkpoint_run) {
            (None, _) => Ok(None),
            (Some(id), Some(known)) if id == known => Ok(Some(id.to_string())),
            (Some(id), Some(known)) => Err(EngineError::Setup(format!(
                "cannot resume run `{id}`: the interrupted run into schema `{schema}` is `{known}`\nhint: `barge migrate CONFIG --resume {known}` (or `--resume` alone) continues it"
            ))),
            (Some(id), None) => Err(EngineError::Setup(format!(
                "cannot resume run `{id}`: there is no tracking database and no checkpoint file naming it\nhint: `barge migrate CONFIG --resume` (without a run id) continues whatever run the target schema holds"
            ))),
        };
    };
    let found: Option<KnownRun> = match requested {
        Some(id) => match store.find_run(id).await? {
            Some(run) => Some(run),
            None => {
                return Err(EngineError::Setup(format!(
                    "cannot resume run `{id}`: the tracking database `{}` has no such run\nhint: list runs with `SELECT runid, status, targetschema FROM runs ORDER BY runid DESC`",
                    store.description()
                )))
            }
        },
        None => store.latest_unfinished(&source, &target, schema).await?,
    };
    let Some(run) = found else {
        return Ok(None);
    };
    if run.target_schema != schema
        || run.source_description != source
        || run.target_description != target
    {
        return Err(EngineError::Setup(format!(
            "cannot resume run `{}`: it migrated `{}` into schema `{}` of `{}`, and this configuration migrates `{source}` into schema `{schema}` of `{target}`\nhint: resume it with its own configuration, or start a new run without `--resume`",
            run.run_id, run.source_description, run.target_schema, run.target_description
        )));
    }
    if run.status == RunStatus::Completed.as_str() {
        return Err(EngineError::Setup(format!(
            "cannot resume run `{}`: it completed\nhint: run without `--resume` to start a new run",
            run.run_id
        )));
    }
    Ok(Some(run.run_id))
}

/// Where a post-load step's record goes.
struct StepRef {
    table: usize,
    task: Task,
    constraint: Option<usize>,
}

struct TaskState {
    record: LoadTask,
    expected: usize,
    done: usize,
    started: Option<Instant>,
}

struct State {
    run: RunRecord,
    tasks: BTreeMap<(usize, Task), TaskState>,
    constraints: Vec<ConstraintRecord>,
}

/// One run's tracking: the record sender and what it needs to turn events into records.
pub(crate) struct RunTracker {
    sender: RecordSender,
    run_id: String,
    /// `(source name, target name)` per planned table.
    tables: Vec<(String, String)>,
    by_source: HashMap<String, usize>,
    steps: HashMap<String, StepRef>,
    state: Mutex<State>,
}

impl RunTracker {
    /// Start the writer and record the run as it begins.
    pub(crate) fn start(
        store: TrackingStore,
        sink: Arc<dyn ProgressSink>,
        run: RunRecord,
        settings: &Settings,
        plan: &MigrationPlan,
        ledger: &Ledger,
    ) -> Arc<RunTracker> {
        let warn: writer::WarningSink =
            Arc::new(move |w: String| sink.event(ProgressEvent::Warning(w)));
        let sender = writer::start(store, warn, WriterOptions::default());
        let run_id = run.run_id.clone();
        let schema = settings.schema.as_str();
        let tables: Vec<(String, String)> = plan
            .tables
            .iter()
            .map(|t| (t.source_name.clone(), t.target_name.clone()))
            .collect();
        let by_source = tables
            .iter()
            .enumerate()
            .map(|(i, (s, _))| (s.clone(), i))
            .collect();

        sender.send(Record::Run(run.clone()));
        for (i, t) in plan.schema.tables.iter().enumerate() {
            let rows = plan.tables.get(i).map(|p| p.rows as i64);
            for side in [Side::Source, Side::Target] {
                sender.send(Record::Table(table_record(&run_id, side, t, schema, rows)));
                for record in column_records(&run_id, side, t) {
                    sender.send(Record::Column(record));
                }
            }
        }

        // Steps, constraints and tasks, from the same step lists post-load runs.
        let mut steps = HashMap::new();
        let mut constraints = Vec::new();
        let mut expected: HashMap<(usize, Task), (usize, usize)> = HashMap::new();
        let mut add_step = |what: String, table: usize, task: Task, c: Option<ConstraintRecord>| {
            let done = ledger.is_done(&item::step(&what));
            let e = expected.entry((table, task)).or_default();
            e.0 += 1;
            e.1 += usize::from(done);
            let constraint = c.map(|mut c| {
                if done {
                    c.status = TaskStatus::Completed;
                }
                constraints.push(c);
                constraints.len() - 1
            });
            steps.insert(
                what,
                StepRef {
                    table,
                    task,
                    constraint,
                },
            );
        };
        for (i, t) in plan.schema.tables.iter().enumerate() {
            let key_steps = postload::table_key_and_index_steps(schema, t);
            let mut objects = Vec::new();
            if let Some(pk) = &t.primary_key {
                objects.push((
                    Task::Pk,
                    "primary_key",
                    pk.name.clone().unwrap_or_else(|| "primary key".into()),
                    pk.columns.join(", "),
                ));
            }
            for u in &t.unique_keys {
                let cols = u.columns.join(", ");
                objects.push((
                    Task::Pk,
                    "unique",
                    u.name.clone().unwrap_or_else(|| format!("unique ({cols})")),
                    cols,
                ));
            }
            for x in &t.indexes {
                let cols = x
                    .parts
                    .iter()
                    .map(|p| match p {
                        barge_model::IndexPart::Column { name, .. } => name.clone(),
                        barge_model::IndexPart::Expr { .. } => "(expression)".to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                objects.push((Task::Indexes, "index", x.name.clone(), cols));
            }
            for (step, (task, kind, name, columns)) in key_steps.into_iter().zip(objects) {
                let c = ConstraintRecord {
                    run_id: run_id.clone(),
                    table: t.name.clone(),
                    kind: kind.to_string(),
                    name,
                    target_name: target_object(&step.what),
                    columns,
                    referenced_table: None,
                    status: TaskStatus::Pending,
                    error: None,
                };
                add_step(step.what, i, task, Some(c));
            }
        }
        let (add, validate) = postload::foreign_key_steps(schema, &plan.schema);
        for step in add.into_iter().chain(validate) {
            let Some(i) = step_table(&step.what, &tables) else {
                continue;
            };
            let t = &plan.schema.tables[i];
            let name = target_object(&step.what);
            let fk = t
                .foreign_keys
                .iter()
                .find(|fk| barge_pg::ddl::foreign_key_name(t, fk) == name);
            let c = (!step.what.starts_with("validating")).then(|| ConstraintRecord {
                run_id: run_id.clone(),
                table: t.name.clone(),
                kind: "foreign_key".into(),
                name: fk
                    .and_then(|f| f.name.clone())
                    .unwrap_or_else(|| name.clone()),
                target_name: name.clone(),
                columns: fk.map(|f| f.columns.join(", ")).unwrap_or_default(),
                referenced_table: fk.map(|f| f.ref_table.clone()),
                status: TaskStatus::Pending,
                error: None,
            });
            add_step(step.what, i, Task::Fk, c);
        }
        for step in postload::identity_steps(schema, &plan.schema) {
            if let Some(i) = step_table(&step.what, &tables) {
                add_step(step.what, i, Task::Sequences, None);
            }
        }
        // A foreign key's validation reports on the same constraint as its creation.
        let links: Vec<(String, usize)> = steps
            .keys()
            .filter_map(|what| {
                let added = what.strip_prefix("validating ")?;
                Some((what.clone(), steps.get(added)?.constraint?))
            })
            .collect();
        for (what, c) in links {
            if let Some(step) = steps.get_mut(&what) {
                step.constraint = Some(c);
            }
        }

        let mut tasks = BTreeMap::new();
        for (i, (source, target)) in tables.iter().enumerate() {
            for task in Task::ALL {
                let mut record = LoadTask {
                    run_id: run_id.clone(),
                    table: source.clone(),
                    target_table: target.clone(),
                    task,
                    status: TaskStatus::Pending,
                    rows_read: None,
                    rows_written: None,
                    start_time: None,
                    end_time: None,
                    duration: None,
                    error: None,
                };
                let (n, done) = match task {
                    Task::Create => (1, usize::from(ledger.is_done(item::SCHEMA))),
                    Task::Transfer => {
                        let chunks = &plan.tables[i].chunks;
                        let keys: Vec<String> =
                            chunks.iter().map(|r| item::copy(source, r)).collect();
                        let done = keys.iter().filter(|k| ledger.is_done(k)).count();
                        if done > 0 {
                            let rows: u64 = keys.iter().map(|k| ledger.rows(k)).sum();
                            record.rows_read = Some(rows as i64);
                            record.rows_written = Some(rows as i64);
                        }
                        (chunks.len(), done)
                    }
                    Task::Validate => (1, 0),
                    other => expected.get(&(i, other)).copied().unwrap_or((0, 0)),
                };
                record.status = if n == 0 {
                    TaskStatus::Skipped
                } else if done == n {
                    TaskStatus::Completed
                } else {
                    TaskStatus::Pending
                };
                sender.send(Record::Load(record.clone()));
                tasks.insert(
                    (i, task),
                    TaskState {
                        record,
                        expected: n,
                        done,
                        started: None,
                    },
                );
            }
        }
        for c in &constraints {
            sender.send(Record::Constraint(c.clone()));
        }
        for f in &plan.findings {
            sender.send(Record::Event(Event {
                run_id: run_id.clone(),
                timestamp: time::now(),
                level: match f.severity {
                    Severity::Info => EventLevel::Info,
                    Severity::Warning => EventLevel::Warning,
                    Severity::Error => EventLevel::Error,
                },
                status: "finding".into(),
                table: f.table.clone(),
                message: f.message.clone(),
                details: f.hint.clone(),
            }));
        }
        Arc::new(RunTracker {
            sender,
            run_id,
            tables,
            by_source,
            steps,
            state: Mutex::new(State {
                run,
                tasks,
                constraints,
            }),
        })
    }

    /// Record a warning given before the tracking record existed (a `--restart` drop).
    pub(crate) fn record_warning(&self, message: String) {
        self.event(EventLevel::Warning, "warning", None, message);
    }

    fn event(&self, level: EventLevel, status: &str, table: Option<String>, message: String) {
        self.event_with_details(level, status, table, message, None);
    }

    fn event_with_details(
        &self,
        level: EventLevel,
        status: &str,
        table: Option<String>,
        message: String,
        details: Option<String>,
    ) {
        self.sender.send(Record::Event(Event {
            run_id: self.run_id.clone(),
            timestamp: time::now(),
            level,
            status: status.to_string(),
            table,
            message,
            details,
        }));
    }

    /// Update one task and send its record.
    fn task(&self, table: usize, task: Task, update: impl FnOnce(&mut TaskState)) {
        let mut state = crate::sync::lock(&self.state);
        if let Some(t) = state.tasks.get_mut(&(table, task)) {
            update(t);
            self.sender.send(Record::Load(t.record.clone()));
        }
    }

    /// The schema and bare tables are committed.
    pub(crate) fn tables_created(&self) {
        let now = time::now();
        for i in 0..self.tables.len() {
            self.task(i, Task::Create, |t| {
                t.done = t.expected;
                t.record.status = TaskStatus::Completed;
                t.record.end_time = Some(now.clone());
            });
        }
    }

    /// Exact counts of both sides at the end of a run: table rows and differences.
    pub(crate) fn counts(&self, checks: &[TableCheck], schema: &str, columns: &[usize]) {
        let now = time::now();
        for c in checks {
            let Some(&i) = self.by_source.get(&c.source_name) else {
                continue;
            };
            let ncols = columns.get(i).copied().unwrap_or(0) as i64;
            self.sender.send(Record::Table(TableRecord {
                run_id: self.run_id.clone(),
                side: Side::Source,
                table: c.source_name.clone(),
                other_table: c.target_name.clone(),
                schema: None,
                rows: Some(c.source_rows as i64),
                columns: ncols,
            }));
            self.sender.send(Record::Table(TableRecord {
                run_id: self.run_id.clone(),
                side: Side::Target,
                table: c.target_name.clone(),
                other_table: c.source_name.clone(),
                schema: Some(schema.to_string()),
                rows: c.target_rows.map(|n| n as i64),
                columns: ncols,
            }));
            self.sender.send(Record::Diff(DiffRecord {
                run_id: self.run_id.clone(),
                table: c.source_name.clone(),
                target_table: c.target_name.clone(),
                source_rows: c.source_rows as i64,
                target_rows: c.target_rows.map(|n| n as i64),
                checksum: match &c.checksum {
                    Some(r) if r.matches() && c.target_rows.is_some() => "match",
                    Some(_) => "mismatch",
                    None => "not_computed",
                }
                .into(),
                checked_at: now.clone(),
            }));
            let matches = c.matches();
            self.task(i, Task::Validate, |t| {
                t.done = t.expected;
                t.record.status = if matches {
                    TaskStatus::Completed
                } else {
                    TaskStatus::Failed
                };
                t.record.rows_read = Some(c.source_rows as i64);
                t.record.rows_written = c.target_rows.map(|n| n as i64);
                t.record.end_time = Some(now.clone());
                t.record.error = (!matches).then(|| c.problem());
            });
            if !matches {
                let counts = format!(
                    "row counts differ: {} in the source, {} in the target",
                    c.source_rows,
                    c.target_rows.map_or("none".into(), |n| n.to_string())
                );
                let counts_match =
                    c.target_rows.map(|n| n + c.quarantined_rows) == Some(c.source_rows);
                let message = if counts_match { c.problem() } else { counts };
                // The located rows, one per line, for whoever reads the event log.
                let details = c.checksum.as_ref().map(|r| {
                    r.differences
                        .iter()
                        .map(|d| {
                            let kind = match d.kind {
                                crate::DifferenceKind::Changed => "changed",
                                crate::DifferenceKind::MissingInTarget => "missing in target",
                                crate::DifferenceKind::ExtraInTarget => "extra in target",
                            };
                            let cols: Vec<String> = d
                                .columns
                                .iter()
                                .map(|x| format!("{}: {} -> {}", x.column, x.source, x.target))
                                .collect();
                            format!("{kind} {} {}", d.row, cols.join(", "))
                                .trim_end()
                                .to_string()
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                });
                self.event_with_details(
                    EventLevel::Error,
                    "failed",
                    Some(c.source_name.clone()),
                    message,
                    details.filter(|d| !d.is_empty()),
                );
            }
        }
    }

    /// Record how the run ended and write everything left; returns when the writer is done.
    pub(crate) async fn finish(&self, outcome: Result<(), &EngineError>) {
        let now = time::now();
        let (status, error) = match outcome {
            Ok(()) => (RunStatus::Completed, None),
            Err(EngineError::Interrupted) => (RunStatus::Interrupted, None),
            Err(e) => (RunStatus::Failed, Some(e)),
        };
        if let Some(e) = error {
            let message = e.to_string();
            let lines: Vec<String> = match e {
                EngineError::Copy { errors, .. } => errors.clone(),
                _ => vec![message.clone()],
            };
            for line in &lines {
                // A post-load step names itself in its error; a copy error names its table.
                let table = self.fail_step(line, &now).or_else(|| {
                    let i = self.table_in(line)?;
                    let (text, now) = (line.clone(), now.clone());
                    self.task(i, Task::Transfer, |t| {
                        t.record.status = TaskStatus::Failed;
                        t.record.error = Some(text);
                        t.record.end_time = Some(now);
                    });
                    Some(i)
                });
                self.event(
                    EventLevel::Error,
                    "failed",
                    table.map(|i| self.tables[i].0.clone()),
                    line.clone(),
                );
            }
        } else if status == RunStatus::Interrupted {
            self.event(
                EventLevel::Warning,
                "interrupted",
                None,
                "the run was interrupted; `--resume` continues it".into(),
            );
        }
        {
            let mut state = crate::sync::lock(&self.state);
            if status == RunStatus::Completed {
                // Anything still pending had nothing to do in this run's mode.
                for t in state.tasks.values_mut() {
                    if matches!(t.record.status, TaskStatus::Pending | TaskStatus::Running) {
                        t.record.status = TaskStatus::Skipped;
                        self.sender.send(Record::Load(t.record.clone()));
                    }
                }
                for c in state.constraints.iter_mut() {
                    if matches!(c.status, TaskStatus::Pending | TaskStatus::Running) {
                        c.status = TaskStatus::Skipped;
                        self.sender.send(Record::Constraint(c.clone()));
                    }
                }
            }
            state.run.status = status;
            state.run.end_time = Some(now);
            self.sender.send(Record::Run(state.run.clone()));
        }
        self.sender.finish().await;
    }

    /// A post-load failure names the step in its message; mark that step's task (and its
    /// constraint) failed and return the step's table.
    fn fail_step(&self, message: &str, now: &str) -> Option<usize> {
        // The longest match: "validating foreign key `x` of `t`" contains "foreign key `x`
        // of `t`".
        let hit = self
            .steps
            .iter()
            .filter(|(what, _)| message.contains(what.as_str()))
            .max_by_key(|(what, _)| what.len())
            .map(|(_, s)| (s.table, s.task, s.constraint));
        let (table, task, constraint) = hit?;
        self.task(table, task, |t| {
            t.record.status = TaskStatus::Failed;
            t.record.error = Some(message.to_string());
            t.record.end_time = Some(now.to_string());
        });
        if let Some(c) = constraint {
            let mut state = crate::sync::lock(&self.state);
            if let Some(rec) = state.constraints.get_mut(c) {
                rec.status = TaskStatus::Failed;
                rec.error = Some(message.to_string());
                self.sender.send(Record::Constraint(rec.clone()));
            }
        }
        Some(table)
    }

    /// The planned table an error line names as ``table `name` ``, if any.
    fn table_in(&self, line: &str) -> Option<usize> {
        self.tables.iter().position(|(source, target)| {
            line.contains(&format!("table `{source}`")) || line.contains(&format!("of `{target}`"))
        })
    }

    fn on_event(&self, event: &ProgressEvent) {
        match event {
            ProgressEvent::TableStarted { table, .. } => {
                if let Some(&i) = self.by_source.get(table) {
                    self.task(i, Task::Transfer, |t| {
                        t.started = Some(Instant::now());
                        t.record.status = TaskStatus::Running;
                        t.record.start_time = Some(time::now());
                    });
                }
            }
            ProgressEvent::TableDone {
                table,
                rows,
                seconds,
            } => {
                if let Some(&i) = self.by_source.get(table) {
                    self.task(i, Task::Transfer, |t| {
                        t.done = t.expected;
                        t.record.status = TaskStatus::Completed;
                        t.record.rows_read = Some(*rows as i64);
                        t.record.rows_written = Some(*rows as i64);
                        t.record.end_time = Some(time::now());
                        t.record.duration = Some(*seconds);
                    });
                }
            }
            ProgressEvent::Step { what, seconds } => {
                let Some(step) = self.steps.get(what) else {
                    return;
                };
                self.task(step.table, step.task, |t| {
                    let now = time::now();
                    t.done = (t.done + 1).min(t.expected);
                    t.record.duration = Some(t.record.duration.unwrap_or(0.0) + seconds);
                    if t.record.start_time.is_none() {
                        t.record.start_time = Some(now.clone());
                    }
                    t.record.status = if t.done >= t.expected {
                        t.record.end_time = Some(now);
                        TaskStatus::Completed
                    } else {
                        TaskStatus::Running
                    };
                });
                if let Some(c) = step.constraint {
                    let mut state = crate::sync::lock(&self.state);
                    if let Some(rec) = state.constraints.get_mut(c) {
                        rec.status = TaskStatus::Completed;
                        self.sender.send(Record::Constraint(rec.clone()));
                    }
                }
            }
            ProgressEvent::Warning(w) => {
                let table = self.table_in(w).map(|i| self.tables[i].0.clone());
                self.event(EventLevel::Warning, "warning", table, w.clone());
            }
            ProgressEvent::Phase(p) => {
                self.event(EventLevel::Info, "info", None, format!("phase: {p}"));
            }
            ProgressEvent::Rows { .. }
            | ProgressEvent::ChunkDone { .. }
            | ProgressEvent::Rejected { .. }
            | ProgressEvent::RunStarted { .. }
            | ProgressEvent::PostLoad { .. } => {}
        }
    }
}

/// Forwards every event and mirrors the ones worth keeping into the tracking database.
pub(crate) struct TrackingSink {
    pub(crate) inner: Arc<dyn ProgressSink>,
    pub(crate) tracker: Arc<RunTracker>,
}

impl ProgressSink for TrackingSink {
    fn event(&self, event: ProgressEvent) {
        self.tracker.on_event(&event);
        self.inner.event(event);
    }
}

/// The backticked name right after `prefix` words: ``index `x` of `t` `` gives `x`;
/// ``primary key of `t` `` gives `t`.
fn target_object(what: &str) -> String {
    what.split('`').nth(1).unwrap_or_default().to_string()
}

/// The planned table a step's description ends with (`` of `table` `` or
/// `` of `table`.`column` ``).
fn step_table(what: &str, tables: &[(String, String)]) -> Option<usize> {
    let (_, rest) = what.rsplit_once(" of `")?;
    let name = rest.split('`').next()?;
    tables.iter().position(|(_, target)| target == name)
}

fn table_record(
    run_id: &str,
    side: Side,
    t: &Table,
    schema: &str,
    rows: Option<i64>,
) -> TableRecord {
    let (table, other, schema) = match side {
        Side::Source => (&t.name, &t.target_name, None),
        Side::Target => (&t.target_name, &t.name, Some(schema.to_string())),
    };
    TableRecord {
        run_id: run_id.to_string(),
        side,
        table: table.clone(),
        other_table: other.clone(),
        schema,
        // Target rows are counted at the end of the run.
        rows: if side == Side::Source { rows } else { None },
        columns: t.columns.len() as i64,
    }
}

fn column_records(run_id: &str, side: Side, t: &Table) -> Vec<ColumnRecord> {
    let pk: Vec<&str> = t
        .primary_key
        .iter()
        .flat_map(|k| k.columns.iter().map(String::as_str))
        .collect();
    t.columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (ty, len, prec, scale) = match side {
                Side::Source => source_type_parts(&c.source_type),
                Side::Target => target_type_parts(&c.data_type),
            };
            let (table, column, other_t, other_c) = match side {
                Side::Source => (&t.name, &c.name, &t.target_name, &c.target_name),
                Side::Target => (&t.target_name, &c.target_name, &t.name, &c.name),
            };
            ColumnRecord {
                run_id: run_id.to_string(),
                side,
                table: table.clone(),
                column: column.clone(),
                position: i as i64 + 1,
                data_type: ty,
                max_length: len,
                precision: prec,
                scale,
                nullable: c.nullable,
                primary_key: pk.contains(&c.name.as_str()),
                other_table: other_t.clone(),
                other_column: other_c.clone(),
            }
        })
        .collect()
}

type TypeParts = (String, Option<i64>, Option<i64>, Option<i64>);

/// `VARCHAR(20)` -> (`VARCHAR(20)`, 20, -, -); `DECIMAL(10,2)` -> (.., -, 10, 2).
fn source_type_parts(declared: &str) -> TypeParts {
    let args: Vec<i64> = declared
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inside, _)| {
            inside
                .split(',')
                .filter_map(|p| p.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let upper = declared.to_ascii_uppercase();
    let numeric = ["DEC", "NUMERIC", "NUMBER", "FLOAT", "DOUBLE", "REAL"]
        .iter()
        .any(|k| upper.contains(k));
    match (numeric, args.as_slice()) {
        (true, [p]) => (declared.to_string(), None, Some(*p), None),
        (true, [p, s, ..]) => (declared.to_string(), None, Some(*p), Some(*s)),
        (false, [n, ..]) => (declared.to_string(), Some(*n), None, None),
        _ => (declared.to_string(), None, None, None),
    }
}

fn target_type_parts(t: &DataType) -> TypeParts {
    let name = barge_pg::ddl::render_type(t);
    match t {
        DataType::Varchar(n) | DataType::Char(n) => (name, Some(i64::from(*n)), None, None),
        DataType::Numeric { precision, scale } => {
            (name, None, precision.map(i64::from), scale.map(i64::from))
        }
        _ => (name, None, None, None),
    }
}

/// A run record for a run starting (or resuming) now.
pub(crate) fn run_record(
    settings: &Settings,
    run_id: &str,
    start_time: String,
    fingerprint: String,
    command_line: Option<&str>,
) -> RunRecord {
    let (source, target) = descriptions(settings);
    RunRecord {
        run_id: run_id.to_string(),
        start_time,
        end_time: None,
        status: RunStatus::Running,
        source_type: settings.source.kind.to_string(),
        source_description: source,
        target_description: target,
        target_schema: settings.schema.clone(),
        barge_version: env!("CARGO_PKG_VERSION").to_string(),
        config_fingerprint: fingerprint,
        command_line: command_line.unwrap_or_default().to_string(),
        project: settings.tracking.as_ref().and_then(|t| t.project.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_names_map_to_tables() {
        let tables = vec![
            ("Orders".to_string(), "orders".to_string()),
            ("Items".to_string(), "items".to_string()),
        ];
        assert_eq!(step_table("index `ix_a` of `items`", &tables), Some(1));
        assert_eq!(step_table("identity of `orders`.`id`", &tables), Some(0));
        assert_eq!(step_table("primary key of `orders`", &tables), Some(0));
        assert_eq!(step_table("analyzing `orders`", &tables), None);
        assert_eq!(
            target_object("foreign key `items_order_id_fkey` of `items`"),
            "items_order_id_fkey"
        );
    }

    #[test]
    fn declared_types_split_into_length_precision_scale() {
        assert_eq!(source_type_parts("VARCHAR(20)").1, Some(20));
        assert_eq!(source_type_parts("DECIMAL(10,2)").2, Some(10));
        assert_eq!(source_type_parts("DECIMAL(10,2)").3, Some(2));
        assert_eq!(
            source_type_parts("TEXT"),
            ("TEXT".to_string(), None, None, None)
        );
    }
}
