//! `migrate`: the whole pipeline, in order, resumable at every step.
//!
//! Each step commits together with its record in the ledger (see `ledger`), so a resumed run
//! skips exactly what is done: the schema DDL, each copy chunk, each key, index, constraint,
//! identity and ANALYZE step. The checkpoint file mirrors progress for `checkpoint status`.

use crate::checkpoint::{self, Checkpoint, CheckpointSink, CheckpointTable};
use crate::connect::pg_config;
use crate::copy::{copy_all, CopyOptions};
use crate::fingerprint::Fingerprint;
use crate::hooks::{self, HookPoint};
use crate::ledger::{item, Ledger};
use crate::plan::{build_plan, MigrationPlan};
use crate::postload;
use crate::progress::{ProgressEvent, ProgressSink};
use crate::rejects::RejectLog;
use crate::resume;
use crate::schema_drop;
use crate::tracking::{self, RunTracker, TrackingSink};
use crate::EngineError;
use barge_config::{InvalidValuePolicy, OnSchemaExists, Settings};
use barge_model::Finding;
use barge_pg::ddl;
use serde::Serialize;
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
    pub run_id: String,
    /// Whether this run continued an interrupted one.
    pub resumed: bool,
    pub source: String,
    /// What read a MySQL/MariaDB source's rows: `barge` (its lean protocol reader, for at
    /// least one chunk) or `mysql_async` (the driver, for all); `None` for SQLite.
    pub source_reader: Option<String>,
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
    /// Per-table comparison when `validation` asked for one.
    pub validation: Option<Vec<crate::validate::TableCheck>>,
}

/// How a run relates to an interrupted one of the same target schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunMode {
    /// Continue the interrupted run (`resume = true` or `--resume`).
    pub resume: bool,
    /// Throw the interrupted run away and start over (`--restart`).
    pub restart: bool,
    /// `--resume RUN_ID`: continue this run, checked against the tracking database (or the
    /// checkpoint file when there is none).
    pub resume_run: Option<String>,
    /// The command line, as recorded in the tracking database (without secrets).
    pub command_line: Option<String>,
}

/// Run a migration end to end.
pub async fn migrate(
    settings: &Settings,
    mode: RunMode,
    sink: Arc<dyn ProgressSink>,
    cancel: Arc<AtomicBool>,
) -> Result<MigrationSummary, EngineError> {
    let mut tracker = None;
    let result = run_migration(settings, &mode, sink, cancel, &mut tracker).await;
    if let Some(t) = tracker {
        // The run's end (status, failed table, error text) is recorded whatever happened.
        t.finish(result.as_ref().map(|_| ())).await;
    }
    result
}

async fn run_migration(
    settings: &Settings,
    mode: &RunMode,
    sink: Arc<dyn ProgressSink>,
    cancel: Arc<AtomicBool>,
    tracker: &mut Option<Arc<RunTracker>>,
) -> Result<MigrationSummary, EngineError> {
    let started = Instant::now();
    let schema = settings.schema.as_str();
    // The configuration refuses these first; a drop must never reach a system schema.
    if let Some(why) = barge_config::reserved_schema(schema) {
        return Err(EngineError::Setup(format!(
            "barge cannot migrate into schema `{schema}`: {why}"
        )));
    }
    let resume = (mode.resume || settings.resume || mode.resume_run.is_some()) && !mode.restart;
    if let (true, Some(t)) = (resume, &settings.tracking) {
        if t.mode != barge_config::TrackingMode::Preserve {
            // Checked before the mode empties the tracking database.
            let run = mode
                .resume_run
                .as_deref()
                .map_or("a run".to_string(), |id| format!("run `{id}`"));
            return Err(EngineError::Setup(format!(
                "cannot resume {run} with `--migration_db_mode {}`: that mode deletes the run's records\nhint: resume with the default mode `preserve`",
                t.mode
            )));
        }
    }
    sink.event(ProgressEvent::Phase("reading the source"));
    let plan = build_plan(settings).await?;
    let hook_files = hooks::load(settings)?;
    let fingerprint = Fingerprint::of(settings, &plan);
    if cancel.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(EngineError::Interrupted);
    }
    let mut store = tracking::open_store(settings).await?;
    let mut pg = pg_config(&settings.target.connection)?;
    // Every session of a run carries its target schema, so a later run can see them.
    pg.application_name(session_name(schema));
    let post_load = postload::PostLoadRun::new(cancel.clone());
    let steps_target = postload::StepTarget::new(&pg, settings, post_load.clone());
    // The run's own session sets up like the post-load ones (hooks run in it).
    let client = steps_target.connect().await?;
    let checkpoint_path = Checkpoint::path_for(&settings.base_dir);

    wait_for_other_sessions(&client, schema, &sink).await?;
    // One run per target schema: the lock lives as long as this session (the whole run).
    let lock_sql = "SELECT pg_try_advisory_lock(hashtext('barge:' || $1))";
    let locked: bool = client
        .query_one(lock_sql, &[&schema])
        .await
        .map_err(|e| {
            EngineError::statement("taking the run lock of the target schema", lock_sql, &e)
        })?
        .get(0);
    if !locked {
        return Err(EngineError::Setup(format!(
            "another barge run is working on schema `{schema}`\nhint: wait for it to finish; only one run may work on a target schema at a time"
        )));
    }
    // A server restart empties UNLOGGED tables; the run checks for one after loading.
    let server_started = server_start_time(&client).await?;
    // A checkpoint file of another target schema (a second config in the same folder) is
    // not this run's.
    let checkpoint_file = Checkpoint::load(&checkpoint_path)
        .ok()
        .flatten()
        .filter(|c| c.target_schema == schema);
    // Read first, create nothing: a resume with nothing to resume leaves no trace.
    let existing = Ledger::read(&client, schema).await?;
    // Warnings from before the tracking record exists, recorded there once it does.
    let mut early_warnings = Vec::new();
    let (ledger, run_id, resumed, known_run) = if resume {
        let continued = resume::continue_run(
            &client,
            store.as_mut(),
            settings,
            mode.resume_run.as_deref(),
            &existing,
            checkpoint_file.as_ref(),
            &fingerprint,
        )
        .await?;
        let mut ledger = Ledger::open(&client, schema).await?;
        if ledger.run_id.is_none() {
            ledger.set_run_id(&client, &continued.run_id).await?;
        }
        (ledger, continued.run_id, true, continued.known)
    } else {
        let mut run_id = checkpoint::new_run_id();
        if let Some(store) = store.as_mut() {
            // Ids carry 16 random bits per second; two runs must never share records.
            while store.find_run(&run_id).await?.is_some() {
                run_id = checkpoint::new_run_id();
            }
        }
        let ledger = start_run(
            settings,
            &plan,
            mode,
            existing,
            &client,
            &fingerprint,
            &run_id,
            &checkpoint_path,
            &sink,
            &mut early_warnings,
        )
        .await?;
        (ledger, run_id, false, None)
    };
    let previous = checkpoint_file.filter(|c| resumed && c.run_id == run_id);
    let checkpoint = Checkpoint {
        version: 1,
        run_id: run_id.clone(),
        started_at: previous
            .as_ref()
            .map(|c| c.started_at.clone())
            .unwrap_or_else(checkpoint::now_rfc3339),
        target_schema: schema.to_string(),
        fingerprint: fingerprint.clone(),
        phase: "starting".into(),
        tables: plan
            .tables
            .iter()
            .map(|t| {
                let done: Vec<_> = t
                    .chunks
                    .iter()
                    .map(|r| item::copy(&t.source_name, r))
                    .filter(|k| ledger.is_done(k))
                    .collect();
                CheckpointTable {
                    name: t.source_name.clone(),
                    items_total: t.chunks.len(),
                    items_done: done.len(),
                    rows: done.iter().map(|k| ledger.rows(k)).sum(),
                }
            })
            .collect(),
    };
    let recorder = CheckpointSink::start(sink.clone(), checkpoint_path, checkpoint);
    let mut sink: Arc<dyn ProgressSink> = recorder.clone();
    if let Some(store) = store.take() {
        let mut run = tracking::run_record(
            settings,
            &run_id,
            barge_tracking::time::now(),
            fingerprint.encode(),
            mode.command_line.as_deref(),
        );
        if let Some(known) = &known_run {
            // A resume keeps the label the run started with.
            run.project = run.project.or_else(|| known.project.clone());
        }
        let t = RunTracker::start(store, recorder.clone(), run, settings, &plan, &ledger);
        for w in early_warnings {
            t.record_warning(w);
        }
        *tracker = Some(t.clone());
        sink = Arc::new(TrackingSink {
            inner: sink,
            tracker: t,
        });
    }
    sink.event(ProgressEvent::RunStarted {
        run_id: run_id.clone(),
        resumed,
        tables: plan
            .tables
            .iter()
            .map(|t| (t.source_name.clone(), t.target_name.clone()))
            .collect(),
    });
    post_load.plan(
        postload::planned_steps(settings, &plan.schema),
        &ledger,
        sink.clone(),
    );
    // Aborted when the run ends, however it ends.
    let _ticker = AbortOnDrop(post_load.spawn_ticker());
    let ledger = Arc::new(ledger);

    if !settings.data_only && !ledger.is_done(item::SCHEMA) {
        sink.event(ProgressEvent::Phase("creating the schema"));
        prepare_schema(&client, settings, &plan, &ledger, &sink).await?;
        if let Some(t) = tracker.as_ref() {
            t.tables_created();
        }
    }

    let source = plan
        .source_handle
        .clone()
        .ok_or_else(|| EngineError::Setup("the plan has no source".into()))?;
    let changes_source = source.clone();
    let plan = Arc::new(plan);
    let mut table_rows = vec![0u64; plan.tables.len()];
    let mut table_seconds = vec![0f64; plan.tables.len()];
    let rejects = Arc::new(RejectLog::new(&settings.reject_file, !resumed));
    // Keys and indexes of a table start as soon as its copy is done, while others copy.
    let build_keys = !settings.data_only;
    // Foreign keys and statistics join them when nothing the user runs in between (hooks) or
    // decides first (an orphan report or fuse, tables still UNLOGGED) could change the rows.
    let early_constraints = build_keys
        && !settings.unlogged_tables
        && !hooks::any(HookPoint::AfterData, &hook_files)
        && !hooks::any(HookPoint::BeforeFk, &hook_files)
        && (!settings.clean_orphans
            || (settings.clean_orphans_mode == barge_config::CleanOrphansMode::Apply
                && settings.clean_orphans_max_rows.is_none()));
    let after_copy = Arc::new(postload::AfterCopy::new(
        schema,
        &plan.schema,
        early_constraints,
    ));
    let index_pool = Arc::new(postload::StepPool::with_follow_up(
        &steps_target,
        settings.index_workers,
        &sink,
        &ledger,
        Some(after_copy.clone()),
    ));
    let on_table_done: Arc<dyn Fn(usize) + Send + Sync> = {
        let pool = index_pool.clone();
        let after_copy = after_copy.clone();
        Arc::new(move |i: usize| {
            if build_keys {
                pool.push(after_copy.table_copied(i));
            }
        })
    };
    if hooks::any(HookPoint::BeforeData, &hook_files) {
        sink.event(ProgressEvent::Phase("running before_data hooks"));
        hooks::run(
            &client,
            HookPoint::BeforeData,
            &hook_files,
            schema,
            &ledger,
            &cancel,
        )
        .await?;
    }
    // With `validation = "checksum"`, the source side's sums, taken as the copy streams.
    let mut copy_sums = None;
    if !settings.schema_only {
        sink.event(ProgressEvent::Phase("copying data"));
        let policy = match settings.on_invalid_value {
            InvalidValuePolicy::Error => barge_model::InvalidValuePolicy::Error,
            InvalidValuePolicy::Null => barge_model::InvalidValuePolicy::Null,
        };
        let single_tx = settings.source_snapshot_mode == barge_config::SnapshotMode::SingleTx;
        if single_tx {
            if let Some(w) = source.begin_snapshot(settings.workers).await? {
                sink.event(ProgressEvent::Warning(w));
            }
            if resumed {
                sink.event(ProgressEvent::Warning(
                    "single_tx: this run continues an interrupted one; the chunks it copies come from a new snapshot, not the one the interrupted run read".into(),
                ));
            }
        }
        let snapshot_source = source.clone();
        index_pool.copy_running(true);
        // The database computes its own side under `checksum_source = "database"`: nothing
        // to hash during the copy.
        copy_sums = (settings.validation == barge_config::Validation::Checksum
            && settings.checksum_source == barge_config::ChecksumSource::Barge)
            .then(|| Arc::new(crate::validate::CopySums::new(&plan, settings.chunk_size)));
        let outcome = copy_all(
            plan.clone(),
            source,
            &pg,
            CopyOptions {
                schema,
                workers: settings.workers,
                policy,
                ledger: ledger.clone(),
                rejects: rejects.clone(),
                sums: copy_sums.clone(),
            },
            cancel.clone(),
            sink.clone(),
            on_table_done.clone(),
        )
        .await;
        index_pool.copy_running(false);
        if single_tx {
            snapshot_source.end_snapshot().await;
        }
        let outcome = outcome?;
        table_rows = outcome.rows;
        table_seconds = outcome.seconds;
        let lines = ledger.reject_lines(&client).await?;
        if let Err(e) = rejects.rewrite(&lines) {
            sink.event(ProgressEvent::Warning(e));
        }
    }

    if hooks::any(HookPoint::AfterData, &hook_files) {
        sink.event(ProgressEvent::Phase("running after_data hooks"));

        hooks::run(
            &client,
            HookPoint::AfterData,
            &hook_files,
            schema,
            &ledger,
            &cancel,
        )
        .await?;
    }
    let s = &plan.schema;
    let mut warnings: Vec<String> = changes_source.notes();
    warnings.extend(changes_source.changes());
    if settings.schema_only {
        for i in 0..s.tables.len() {
            index_pool.push(after_copy.table_copied(i));
        }
    }
    drop(on_table_done);
    sink.event(ProgressEvent::Phase("building keys and indexes"));
    let index_pool = Arc::try_unwrap(index_pool)
        .map_err(|_| EngineError::Setup("the index pool is still shared after the copy".into()))?;
    index_pool.finish().await?;
    ensure_not_restarted(
        &client,
        &server_started,
        if settings.unlogged_tables {
            "the PostgreSQL server restarted during the load, which empties UNLOGGED tables\nhint: run `barge migrate CONFIG --restart`, or load without `unlogged_tables`"
        } else {
            // Chunks commit without waiting for their WAL flush (see ledger.rs): a restart
            // may have lost the last ones with their ledger rows, which a resume copies again.
            "the PostgreSQL server restarted during the load, so the last chunks committed before it may be missing\nhint: run `barge migrate CONFIG --resume`, which copies again every chunk the target database does not hold"
        },
    )
    .await?;
    let workers = settings.index_workers;
    let mut rows_changed_after_copy = false;
    if !settings.data_only {
        if settings.unlogged_tables {
            check_interrupt(&cancel)?;
            sink.event(ProgressEvent::Phase("making tables logged"));
            let steps = postload::set_logged_steps(schema, s);
            postload::run_parallel(&steps_target, workers, steps, &sink, &ledger).await?;
        }
        if hooks::any(HookPoint::BeforeFk, &hook_files) {
            check_interrupt(&cancel)?;
            sink.event(ProgressEvent::Phase("running before_fk hooks"));
            hooks::run(
                &client,
                HookPoint::BeforeFk,
                &hook_files,
                schema,
                &ledger,
                &cancel,
            )
            .await?;
        }
        check_interrupt(&cancel)?;
        let cleaned = crate::orphans::foreign_keys(
            &client,
            &steps_target,
            workers,
            settings,
            s,
            &ledger,
            &sink,
        )
        .await?;
        rows_changed_after_copy = !cleaned.is_empty();
        warnings.extend(cleaned);
        check_interrupt(&cancel)?;
        sink.event(ProgressEvent::Phase("adding check constraints"));
        warnings.extend(postload::add_checks(&client, schema, s, &ledger, &post_load).await?);
        // After orphan cleanup, whose UPDATEs (SET NULL) must not touch the timestamps.
        let steps = postload::on_update_trigger_steps(schema, s);
        if !steps.is_empty() {
            check_interrupt(&cancel)?;
            sink.event(ProgressEvent::Phase("adding ON UPDATE triggers"));
            postload::run_parallel(&steps_target, 1, steps, &sink, &ledger).await?;
        }
    }
    check_interrupt(&cancel)?;
    sink.event(ProgressEvent::Phase("setting identity counters"));
    let steps = postload::identity_steps(schema, s);
    postload::run_parallel(&steps_target, 1, steps, &sink, &ledger).await?;
    check_interrupt(&cancel)?;
    sink.event(ProgressEvent::Phase("analyzing"));
    let mut steps = postload::analyze_steps(schema, s);
    if rows_changed_after_copy {
        // Statistics taken during the copy predate the orphan cleanup.
        for step in &mut steps {
            step.what.push_str(" after orphan cleanup");
        }
    }
    postload::run_parallel(&steps_target, workers, steps, &sink, &ledger).await?;

    if hooks::any(HookPoint::AfterAll, &hook_files) {
        check_interrupt(&cancel)?;
        sink.event(ProgressEvent::Phase("running after_all hooks"));

        hooks::run(
            &client,
            HookPoint::AfterAll,
            &hook_files,
            schema,
            &ledger,
            &cancel,
        )
        .await?;
    }
    check_interrupt(&cancel)?;
    let validation = if settings.validation == barge_config::Validation::None {
        None
    } else {
        let checks = if settings.validation == barge_config::Validation::Checksum {
            sink.event(ProgressEvent::Phase("validating checksums of every row"));
            crate::validate::checksums(
                &plan,
                &changes_source,
                &pg,
                settings,
                cancel.clone(),
                copy_sums.as_deref(),
            )
            .await?
        } else {
            sink.event(ProgressEvent::Phase("validating row counts"));
            crate::validate::row_counts(&plan, &changes_source, &client, schema).await?
        };
        for c in checks.iter().filter(|c| !c.matches()) {
            warnings.push(c.problem());
        }
        Some(checks)
    };
    if let Some(t) = tracker.as_ref() {
        // The tracking database gets exact counts of both sides even without `validation`.
        let checks = match &validation {
            Some(c) => Ok(c.clone()),
            None => crate::validate::row_counts(&plan, &changes_source, &client, schema).await,
        };
        match checks {
            Ok(checks) => {
                let columns: Vec<usize> = s.tables.iter().map(|t| t.columns.len()).collect();
                t.counts(&checks, schema, &columns);
            }
            Err(e) => sink.event(ProgressEvent::Warning(format!(
                "cannot count rows for the tracking database: {e}"
            ))),
        }
    }
    check_interrupt(&cancel)?;
    sink.event(ProgressEvent::Phase("finishing"));
    // Every step since the copy committed synchronously, which flushed the WAL of every chunk
    // before it; a restart in between is still caught here.
    ensure_not_restarted(
        &client,
        &server_started,
        "the PostgreSQL server restarted during the run\nhint: run `barge migrate CONFIG --resume`, which checks and completes what the target database holds",
    )
    .await?;
    ledger.finish(&client, &run_id).await?;
    recorder.remove();

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
    let reject_file = settings
        .reject_file
        .exists()
        .then(|| rejects.path().to_path_buf());
    Ok(MigrationSummary {
        run_id,
        resumed,
        source: plan.source.clone(),
        source_reader: changes_source.row_reader().map(str::to_string),
        target: plan.target.clone(),
        target_schema: plan.target_schema.clone(),
        tables,
        seconds: started.elapsed().as_secs_f64(),
        findings: plan.findings.clone(),
        rejected_values: rejects.count(),
        reject_file,
        warnings,
        validation,
    })
}

/// A task that stops with the scope that owns it.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Stop the run between phases after an interrupt; the steps done so far are committed.
fn check_interrupt(cancel: &AtomicBool) -> Result<(), EngineError> {
    if cancel.load(std::sync::atomic::Ordering::SeqCst) {
        Err(EngineError::Interrupted)
    } else {
        Ok(())
    }
}

/// Stop with `why` when the server's start time is no longer `started` (it restarted).
async fn ensure_not_restarted(
    client: &tokio_postgres::Client,
    started: &str,
    why: &str,
) -> Result<(), EngineError> {
    if server_start_time(client).await? == started {
        Ok(())
    } else {
        Err(EngineError::Setup(why.to_string()))
    }
}

async fn server_start_time(client: &tokio_postgres::Client) -> Result<String, EngineError> {
    let sql = "SELECT pg_postmaster_start_time()::text";
    client
        .query_one(sql, &[])
        .await
        .map(|r| r.get::<_, String>(0))
        .map_err(|e| EngineError::statement("reading the server's start time", sql, &e))
}

fn session_name(schema: &str) -> String {
    // application_name is cut at 63 bytes by the server; keep it recognisable.
    let name = format!("barge {schema}");
    let mut cut = name.len().min(63);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    name[..cut].to_string()
}

/// Wait until no other session works on this target schema.
///
/// A killed barge can leave a server session running: its last statement (an index build,
/// a chunk's commit with its ledger record) was sent whole and PostgreSQL finishes it.
/// Reading the ledger before such a session commits would redo its step, so a run waits for
/// them; sessions that stay busy for long belong to a live run, and this one stops.
async fn wait_for_other_sessions(
    client: &tokio_postgres::Client,
    schema: &str,
    sink: &Arc<dyn ProgressSink>,
) -> Result<(), EngineError> {
    let sql = "SELECT count(*) FROM pg_stat_activity \
               WHERE application_name = $1 AND pid <> pg_backend_pid() AND state <> 'idle'";
    let name = session_name(schema);
    let started = Instant::now();
    let mut warned = false;
    loop {
        let busy: i64 = client
            .query_one(sql, &[&name])
            .await
            .map_err(|e| {
                EngineError::statement("looking for other sessions on the target schema", sql, &e)
            })?
            .get(0);
        if busy == 0 {
            return Ok(());
        }
        let waited = started.elapsed();
        if waited > std::time::Duration::from_secs(600) {
            return Err(EngineError::Setup(format!(
                "{busy} session(s) of another barge run are still busy on schema `{schema}` after 10 minutes\nhint: stop the other run first; only one run may work on a target schema at a time"
            )));
        }
        if !warned && waited > std::time::Duration::from_secs(2) {
            sink.event(ProgressEvent::Warning(format!(
                "waiting for {busy} session(s) of an earlier barge run on schema `{schema}` to finish their last statement"
            )));
            warned = true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Start a new run (not a resume): discard an interrupted one under `--restart` (or
/// refuse to build on it), check that a `recreate` drop would stay inside what barge owns,
/// then record the run in the ledger. Returns the ledger of the new run.
#[allow(clippy::too_many_arguments)]
async fn start_run(
    settings: &Settings,
    plan: &MigrationPlan,
    mode: &RunMode,
    existing: Ledger,
    client: &tokio_postgres::Client,
    fingerprint: &Fingerprint,
    run_id: &str,
    checkpoint_path: &std::path::Path,
    sink: &Arc<dyn ProgressSink>,
    early_warnings: &mut Vec<String>,
) -> Result<Ledger, EngineError> {
    let schema = settings.schema.as_str();
    let interrupted = existing.has_run();
    let mut discarded = false;
    if interrupted {
        if mode.restart {
            // The interrupted run's own results go: its schema, or in data_only mode the
            // rows it loaded into tables that were empty when it started.
            discard_run(settings, plan, &existing, client, sink, early_warnings).await?;
            discarded = true;
        } else if settings.on_schema_exists != OnSchemaExists::Recreate || settings.data_only {
            // Only `recreate` starts over by itself; anything else would build on (or refuse,
            // after forgetting) the interrupted run's rows.
            return Err(EngineError::Setup(format!(
                "schema `{schema}` holds an interrupted barge run\nhint: `barge migrate CONFIG --resume` continues it; `--restart` discards it and starts over"
            )));
        }
    }
    if settings.on_schema_exists == OnSchemaExists::Recreate && !settings.data_only && !discarded {
        // Refused here, before the run is recorded; checked again where it drops.
        schema_drop::check(client, schema, &recreate_what(schema), false).await?;
    }
    drop(existing);
    if settings.data_only && !discarded {
        // data_only loads into existing tables; rows already there would be mixed with the
        // copy (and a table copied as one stream is truncated first), so they must be empty.
        let mut filled = Vec::new();
        for t in &plan.tables {
            let sql = format!(
                "SELECT EXISTS (SELECT 1 FROM {})",
                ddl::qualified(schema, &t.target_name)
            );
            let row = client.query_one(&sql, &[]).await.map_err(|e| {
                EngineError::statement(
                    &format!("checking that `{}` is empty", t.target_name),
                    &sql,
                    &e,
                )
            })?;
            if row.get::<_, bool>(0) {
                filled.push(format!("`{}`", t.target_name));
            }
        }
        if !filled.is_empty() {
            return Err(EngineError::Setup(format!(
                "data_only loads into empty tables, and these already hold rows: {}\nhint: empty them first, or drop `data_only` to let barge create the tables",
                filled.join(", ")
            )));
        }
    }
    // Created only now that the run is decided.
    let mut ledger = Ledger::open(client, schema).await?;
    ledger
        .start(
            client,
            &fingerprint.encode(),
            run_id,
            &fingerprint.options_json(),
        )
        .await?;
    if Checkpoint::load(checkpoint_path)
        .ok()
        .flatten()
        .is_some_and(|c| c.target_schema == schema)
    {
        let _ = std::fs::remove_file(checkpoint_path);
    }
    Ok(ledger)
}

/// How a refused or announced `recreate` drop names itself.
fn recreate_what(schema: &str) -> String {
    format!("cannot recreate schema `{schema}` (on_schema_exists = \"recreate\")")
}

/// `--restart`: throw the interrupted run's results away, with its ledger records, in one
/// transaction; its schema only after checking the drop stays inside what barge owns.
async fn discard_run(
    settings: &Settings,
    plan: &MigrationPlan,
    existing: &Ledger,
    client: &tokio_postgres::Client,
    sink: &Arc<dyn ProgressSink>,
    early_warnings: &mut Vec<String>,
) -> Result<(), EngineError> {
    let schema = settings.schema.as_str();
    let mut sql = String::new();
    if settings.data_only {
        for t in &plan.tables {
            sql.push_str(&format!(
                "TRUNCATE {};\n",
                ddl::qualified(schema, &t.target_name)
            ));
        }
    }
    barge_pg::target::batch(client, "discarding the interrupted run", "BEGIN").await?;
    if !settings.data_only && existing.is_done(item::SCHEMA) {
        let what = format!("cannot discard the interrupted run in schema `{schema}` (--restart)");
        match schema_drop::check(client, schema, &what, true).await {
            Ok(drop) => {
                let note = drop.inventory("--restart");
                sink.event(ProgressEvent::Warning(note.clone()));
                early_warnings.push(note);
                sql.push_str(&schema_drop::drop_sql(&drop));
            }
            Err(e) => {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(e);
            }
        }
    }
    sql.push_str(&existing.discard_sql());
    sql.push_str("COMMIT");
    if let Err(e) = barge_pg::target::batch(client, "discarding the interrupted run", &sql).await {
        let _ = client.batch_execute("ROLLBACK").await;
        return Err(e.into());
    }
    Ok(())
}

async fn prepare_schema(
    client: &tokio_postgres::Client,
    settings: &Settings,
    plan: &MigrationPlan,
    ledger: &Ledger,
    sink: &Arc<dyn ProgressSink>,
) -> Result<(), EngineError> {
    let schema = settings.schema.as_str();
    let exists = barge_pg::target::schema_exists(client, schema).await?;
    let quoted = ddl::quote_ident(schema);
    let mut script = String::from("BEGIN;\n");
    if settings.on_schema_exists == OnSchemaExists::Recreate {
        // The check and the drop share one transaction; the quarantine of an earlier run
        // belongs to the schema it replaces, and goes even when the schema is gone.
        barge_pg::target::batch(client, "starting the schema's transaction", "BEGIN").await?;
        script.clear();
        match schema_drop::check(client, schema, &recreate_what(schema), true).await {
            Ok(drop) => {
                if !drop.schemas.is_empty() {
                    sink.event(ProgressEvent::Warning(
                        drop.inventory("on_schema_exists = \"recreate\""),
                    ));
                    script.push_str(&schema_drop::drop_sql(&drop));
                }
            }
            Err(e) => {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(e);
            }
        }
    }
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
        (true, OnSchemaExists::Recreate) | (false, _) => {
            script.push_str(&format!("CREATE SCHEMA {quoted};\n"))
        }
    }
    let extensions = ddl::required_extensions(&plan.schema);
    if extensions.contains(&"citext") {
        // ci_as_citext asked for it.
        script.push_str("CREATE EXTENSION IF NOT EXISTS citext;\n");
    }
    if extensions.contains(&"postgis") {
        if settings.postgis.create_extension {
            script.push_str("CREATE EXTENSION IF NOT EXISTS postgis;\n");
        } else {
            let sql = "SELECT count(*) FROM pg_extension WHERE extname = 'postgis'";
            let installed: i64 = client
                .query_one(sql, &[])
                .await
                .map_err(|e| EngineError::statement("looking for the postgis extension", sql, &e))?
                .get(0);
            if installed == 0 {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(EngineError::Setup(
                    "spatial columns become PostGIS geometry ([postgis] enabled = true), but the postgis extension is not installed in the target database\nhint: run CREATE EXTENSION postgis; in it, or set `create_extension = true` under [postgis]".into(),
                ));
            }
        }
    }
    for seq in &plan.schema.sequences {
        script.push_str(&ddl::create_sequence(schema, seq));
        script.push_str(";\n");
    }
    for sql in ddl::create_collations(schema, &plan.schema) {
        script.push_str(&sql);
        script.push_str(";\n");
    }
    for sql in ddl::create_enum_types(schema, &plan.schema) {
        script.push_str(&sql);
        script.push_str(";\n");
    }
    for t in &plan.schema.tables {
        script.push_str(&ddl::create_table(schema, t, settings.unlogged_tables));
        script.push_str(";\n");
        for sql in ddl::comments(schema, t) {
            script.push_str(&sql);
            script.push_str(";\n");
        }
    }
    script.push_str(&ledger.record_sql(item::SCHEMA, 0));
    script.push_str(";\nCOMMIT;");
    if let Err(e) = barge_pg::target::batch(client, "creating the schema and tables", &script).await
    {
        let _ = client.batch_execute("ROLLBACK").await;
        return Err(e.into());
    }
    Ok(())
}
