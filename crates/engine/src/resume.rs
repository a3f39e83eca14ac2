//! How a run relates to the runs before it in the same target schema: it continues one
//! (`--resume`), or starts anew (possibly discarding an interrupted one, `--restart`).
//!
//! A resume continues the same run or nothing. The run is the one the ledger in the target
//! holds (its id is recorded with it); `--resume RUN_ID` must name that run. When the ledger
//! holds none, a resume never falls back to a fresh run, which under `on_schema_exists =
//! "recreate"` would drop a finished migration: if the run (or the latest run into the
//! schema) completed, as `_barge.completed_runs` or the tracking database records, barge
//! says so and touches nothing ([`EngineError::AlreadyComplete`], exit 0); otherwise it
//! refuses ([`EngineError::NothingToResume`], exit 5), saying where it looked. `resume =
//! true` in the configuration means the same as `--resume`. Nothing in the target is
//! created before this is decided.
//!
//! A resume keeps the run's tracking record (id, start time, task history) and its project
//! label: without `--project` the label it started with stays; a different `--project` is
//! refused rather than relabelling a run silently.

use crate::checkpoint::Checkpoint;
use crate::fingerprint::Fingerprint;
use crate::ledger::Ledger;
use crate::tracking;
use crate::EngineError;
use barge_config::Settings;
use barge_tracking::{KnownRun, RunStatus, TrackingStore};

/// The run a resume continues.
pub(crate) struct Continued {
    pub run_id: String,
    /// The run as the tracking database knows it, when it does.
    pub known: Option<KnownRun>,
}

/// The run `--resume` continues, or why there is none (see the module docs).
pub(crate) async fn continue_run(
    client: &tokio_postgres::Client,
    mut store: Option<&mut TrackingStore>,
    settings: &Settings,
    requested: Option<&str>,
    ledger: &Ledger,
    checkpoint: Option<&Checkpoint>,
    fingerprint: &Fingerprint,
) -> Result<Continued, EngineError> {
    let schema = settings.schema.as_str();
    if !ledger.has_started() {
        return Err(nothing_to_resume(client, store, settings, requested).await);
    }
    let run_id = match (&ledger.run_id, requested) {
        (Some(id), Some(asked)) if asked != id => {
            return Err(EngineError::NothingToResume(format!(
                "cannot resume run `{asked}`: the interrupted run in schema `{schema}` is `{id}`\nhint: `--resume {id}` (or `--resume` alone) continues it"
            )))
        }
        (Some(id), _) => id.clone(),
        // A run an older barge started records no id: the tracking database or the
        // checkpoint file names it.
        (None, _) => {
            let from_file = checkpoint.map(|c| c.run_id.as_str());
            tracking::resume_target(store.as_deref_mut(), settings, requested, from_file)
                .await?
                .or_else(|| from_file.map(str::to_string))
                .unwrap_or_else(crate::checkpoint::new_run_id)
        }
    };
    // The checkpoint file gives an early, offline answer; the ledger is the truth.
    let recorded = ledger
        .fingerprint
        .as_deref()
        .and_then(Fingerprint::decode)
        .map(|mut f| {
            if let Some(options) = ledger.options.as_deref() {
                f.options = serde_json::from_str(options).unwrap_or_default();
            }
            f
        });
    for (what, fp) in [
        ("it started", recorded),
        (
            "the checkpoint file was written",
            checkpoint.map(|c| c.fingerprint.clone()),
        ),
    ] {
        if let Some(why) = fp.and_then(|fp| fingerprint.mismatch(&fp)) {
            return Err(EngineError::Setup(format!(
                "cannot resume run `{run_id}` into schema `{schema}`: {why} since {what}\nhint: a resume continues a run with the options it started with: restore them to resume it, or run the same command with `--restart` instead of `--resume` to discard the interrupted run (and the rows it loaded) and start over"
            )));
        }
    }
    let known = match store {
        Some(store) => store.find_run(&run_id).await?,
        None => None,
    };
    if let Some(run) = &known {
        let (source, target) = tracking::descriptions(settings);
        if run.target_schema != schema
            || run.source_description != source
            || run.target_description != target
        {
            return Err(EngineError::NothingToResume(format!(
                "cannot resume run `{run_id}`: the tracking database records it migrating `{}` into schema `{}` of `{}`, and this configuration migrates `{source}` into schema `{schema}` of `{target}`\nhint: resume it with its own configuration",
                run.source_description, run.target_schema, run.target_description
            )));
        }
        let asked = settings
            .tracking
            .as_ref()
            .and_then(|t| t.project.as_deref());
        if let (Some(asked), Some(had)) = (asked, run.project.as_deref()) {
            if asked != had {
                return Err(EngineError::Setup(format!(
                    "cannot resume run `{run_id}` under project `{asked}`: it was started under project `{had}`\nhint: resume without `--project` (the run keeps `{had}`), or with `--project {had}`"
                )));
            }
        }
    }
    Ok(Continued { run_id, known })
}

/// Why a `--resume` finds nothing to continue: the run completed (and the schema is still
/// there), or nothing is known of it.
async fn nothing_to_resume(
    client: &tokio_postgres::Client,
    store: Option<&mut TrackingStore>,
    settings: &Settings,
    requested: Option<&str>,
) -> EngineError {
    let schema = settings.schema.as_str();
    let completed = match Ledger::completed(client, schema, requested).await {
        Ok(c) => c.map(|c| (c.run_id, c.finished_at)),
        Err(e) => return e,
    };
    let mut tracked = None;
    if let (Some(id), Some(store), None) = (requested, store, &completed) {
        match store.find_run(id).await {
            Ok(run) => tracked = run,
            Err(e) => return e.into(),
        }
    }
    let completed = completed.or_else(|| {
        tracked
            .as_ref()
            .filter(|r| r.status == RunStatus::Completed.as_str() && r.target_schema == schema)
            .map(|r| {
                (
                    r.run_id.clone(),
                    r.end_time
                        .clone()
                        .unwrap_or_else(|| "(end time not recorded)".into()),
                )
            })
    });
    if let Some((run_id, finished_at)) = completed {
        return match barge_pg::target::schema_exists(client, schema).await {
            Ok(true) => EngineError::AlreadyComplete {
                run_id,
                schema: schema.to_string(),
                finished_at,
            },
            Ok(false) => EngineError::NothingToResume(format!(
                "nothing to resume: run `{run_id}` into schema `{schema}` completed at {finished_at}, and schema `{schema}` no longer exists\nhint: run without `--resume` (and without `resume = true`) to migrate again"
            )),
            Err(e) => e.into(),
        };
    }
    let target = settings.target.connection.redacted();
    let mut looked = format!("the ledger `_barge.progress` of `{target}`");
    if settings.tracking.is_some() {
        looked.push_str(" and the tracking database");
    }
    let what = match (requested, &tracked) {
        (Some(id), Some(run)) => format!(
            "run `{id}` ({} in the tracking database, into schema `{}`) has no progress recorded in schema `{schema}`",
            run.status, run.target_schema
        ),
        (Some(id), None) => format!("no run `{id}` is known for schema `{schema}`"),
        (None, _) => format!("no interrupted run is recorded for schema `{schema}`"),
    };
    EngineError::NothingToResume(format!(
        "nothing to resume: {what} (looked in {looked})\nhint: nothing was started or dropped; run without `--resume` (and without `resume = true`) to start a new migration, or check `--target_schema_name` and the target database"
    ))
}
