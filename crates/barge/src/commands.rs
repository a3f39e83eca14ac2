//! The commands: settings first, then the engine, then output and an exit code.

use crate::cli::{
    CheckpointCommand, Cli, Command, ConnectionArgs, FailOn, Format, TrackingModeArg,
};
use crate::exit;
use crate::output::Output;
use barge_config::{ConfigError, Connection, Overrides, Secret, Settings, TrackingMode};
use barge_engine::checkpoint::Checkpoint;
use barge_engine::{EngineError, RunMode};
use barge_model::Severity;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub fn run(cli: Cli) -> u8 {
    let out = Arc::new(Output::new(cli.quiet));
    match cli.command {
        Command::Migrate(mut args) => {
            // `barge migrate --resume migration.toml`: the optional run id took the config.
            if args.config.is_none() {
                if let Some(Some(value)) = &args.resume {
                    if value.ends_with(".toml") || Path::new(value).is_file() {
                        args.config = Some(value.into());
                        args.resume = Some(None);
                    }
                }
            }
            let mut overrides = overrides(&args.connections);
            overrides.workers = args.workers;
            overrides.chunk_size = args.chunk_size;
            overrides.checksum_source = args.checksum_source.map(checksum_source);
            overrides.migration_db_auth_id = args.tracking.migration_db_auth_id.clone();
            overrides.migration_db_mode = args.migration_db_mode.map(|m| match m {
                TrackingModeArg::Preserve => TrackingMode::Preserve,
                TrackingModeArg::Truncate => TrackingMode::Truncate,
                TrackingModeArg::Drop => TrackingMode::Drop,
            });
            overrides.project = args.tracking.project.clone();
            if args.resume.is_some() {
                overrides.resume = Some(true);
            }
            let settings = match load(args.config.as_deref(), &overrides, &out) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let mode = RunMode {
                resume: args.resume.is_some(),
                restart: args.restart,
                resume_run: args.resume.clone().flatten(),
                command_line: Some(command_line()),
            };
            let config = args.config.as_deref().map(|p| p.display().to_string());
            migrate(&settings, mode, config, args.format, out)
        }
        Command::Plan(args) => {
            let (settings, runtime) = match source_command(&args, &out) {
                Ok(s) => s,
                Err(code) => return code,
            };
            match runtime.block_on(barge_engine::build_report(&settings)) {
                Ok(plan) => {
                    if !out.plan(&plan, args.format) {
                        return exit::FAILED;
                    }
                    if let Some(dir) = &args.output_dir {
                        let files = crate::scaffold::hook_skeletons(&plan.schema);
                        let written = std::fs::create_dir_all(dir).and_then(|()| {
                            files
                                .iter()
                                .try_for_each(|(name, text)| std::fs::write(dir.join(name), text))
                        });
                        if let Err(e) = written {
                            out.error(
                                &format!(
                                    "cannot write hook skeletons into `{}`: {e}",
                                    dir.display()
                                ),
                                None,
                            );
                            return exit::FAILED;
                        }
                        out.info(&format!(
                            "wrote {} hook skeleton(s) into `{}`",
                            files.len(),
                            dir.display()
                        ));
                    }
                    let gate = args.fail_on.map(|f| match f {
                        FailOn::Errors => Severity::Error,
                        FailOn::Warnings => Severity::Warning,
                    });
                    match gate {
                        Some(level) if plan.findings.iter().any(|f| f.severity >= level) => {
                            out.error(
                                &format!(
                                    "the plan has findings of severity `{level:?}` or worse (--fail-on)"
                                )
                                .to_lowercase(),
                                None,
                            );
                            exit::FAILED
                        }
                        _ => exit::SUCCESS,
                    }
                }
                Err(e) => engine_failure(&out, &e, None),
            }
        }
        Command::Validate(args) => {
            let (settings, runtime) = match source_command(&args, &out) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let line = command_line();
            let sink: Arc<dyn barge_engine::ProgressSink> = out.clone();
            match runtime.block_on(barge_engine::validate(&settings, sink, Some(&line))) {
                Ok(checks) => {
                    out.validation(&checks, args.format);
                    if checks.iter().all(|c| c.matches()) {
                        exit::SUCCESS
                    } else {
                        exit::FAILED
                    }
                }
                Err(e) => engine_failure(&out, &e, None),
            }
        }
        Command::Init(args) => {
            if args.path.exists() {
                out.error(
                    &format!(
                        "`{}` already exists; barge init does not overwrite it",
                        args.path.display()
                    ),
                    None,
                );
                return exit::CONFIG;
            }
            match std::fs::write(&args.path, crate::scaffold::template(&args.source)) {
                Ok(()) => {
                    out.info(&format!(
                        "wrote `{}`: fill in [source] and [target], then run `barge plan {}`",
                        args.path.display(),
                        args.path.display()
                    ));
                    exit::SUCCESS
                }
                Err(e) => {
                    out.error(
                        &format!("cannot write `{}`: {e}", args.path.display()),
                        None,
                    );
                    exit::CONFIG
                }
            }
        }
        Command::Checkpoint(args) => match args.command {
            CheckpointCommand::Status { config } => {
                let settings = match load(Some(&config), &Overrides::default(), &out) {
                    Ok(s) => s,
                    Err(code) => return code,
                };
                let path = Checkpoint::path_for(&settings.base_dir);
                match Checkpoint::load(&path) {
                    Ok(c) => {
                        let matches = c.as_ref().map(|c| {
                            c.fingerprint.config
                                == barge_engine::fingerprint::config_part(&settings)
                        });
                        out.checkpoint_status(&path, c.as_ref(), matches);
                        exit::SUCCESS
                    }
                    Err(e) => {
                        out.error(&e, None);
                        exit::FAILED
                    }
                }
            }
        },
    }
}

/// Settings and a runtime for `plan` and `validate`, or the exit code of what failed.
fn source_command(
    args: &crate::cli::PlanArgs,
    out: &Output,
) -> Result<(Settings, tokio::runtime::Runtime), u8> {
    let mut overrides = overrides(&args.connections);
    overrides.validation = args.validation.map(|v| match v {
        crate::cli::ValidationMode::RowCount => barge_config::Validation::RowCount,
        crate::cli::ValidationMode::Checksum => barge_config::Validation::Checksum,
    });
    overrides.checksum_source = args.checksum_source.map(checksum_source);
    overrides.migration_db_auth_id = args.tracking.migration_db_auth_id.clone();
    overrides.project = args.tracking.project.clone();
    let settings = load(args.config.as_deref(), &overrides, out)?;
    Ok((settings, runtime(out)?))
}

fn checksum_source(s: crate::cli::ChecksumSourceArg) -> barge_config::ChecksumSource {
    match s {
        crate::cli::ChecksumSourceArg::Barge => barge_config::ChecksumSource::Barge,
        crate::cli::ChecksumSourceArg::Database => barge_config::ChecksumSource::Database,
    }
}

fn overrides(c: &ConnectionArgs) -> Overrides {
    Overrides {
        auth_file: c.auth.clone(),
        source_auth_id: c.source_auth_id.clone(),
        target_auth_id: c.target_auth_id.clone(),
        target_schema_name: c.target_schema.clone(),
        ..Overrides::default()
    }
}

fn load(config: Option<&Path>, overrides: &Overrides, out: &Output) -> Result<Settings, u8> {
    barge_config::load(config, overrides).map_err(|e: ConfigError| {
        out.error(&e.to_string(), None);
        exit::CONFIG
    })
}

fn engine_failure(out: &Output, e: &EngineError, config: Option<&str>) -> u8 {
    let resume = format!("barge migrate {} --resume", config.unwrap_or("CONFIG"));
    match e {
        EngineError::Interrupted => {
            out.error(
                "the migration was interrupted; everything committed so far is recorded",
                Some(&format!("`{resume}` continues where it stopped")),
            );
            exit::INTERRUPTED
        }
        EngineError::Source(barge_source_sqlite::SqliteError::Missing(_)) => {
            out.error(
                &e.to_string(),
                Some("check the `dsn` path; relative paths start at the config file's folder"),
            );
            exit::CONNECTION
        }
        e if e.is_connection() => {
            out.error(
                &e.to_string(),
                Some("check that the server is running and the connection settings are right"),
            );
            exit::CONNECTION
        }
        EngineError::Copy { .. }
        | EngineError::Target(_)
        | EngineError::Source(_)
        | EngineError::Mysql(_) => {
            out.error(&e.to_string(), None);
            out.warn(&format!(
                "completed steps are recorded: after fixing the cause, `{resume}` continues"
            ));
            exit::FAILED
        }
        e => {
            out.error(&e.to_string(), None);
            exit::FAILED
        }
    }
}

fn migrate(
    settings: &Settings,
    mode: RunMode,
    config: Option<String>,
    format: Format,
    out: Arc<Output>,
) -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            out.error(&format!("cannot start the async runtime: {e}"), None);
            return exit::FAILED;
        }
    };
    let cancel = Arc::new(AtomicBool::new(false));
    runtime.block_on(async {
        {
            let cancel = cancel.clone();
            let out = out.clone();
            tokio::spawn(async move {
                if interrupted().await {
                    out.warn("interrupt received: stopping after the chunks in flight (press Ctrl-C again to abort now)");
                    cancel.store(true, Ordering::SeqCst);
                    if interrupted().await {
                        std::process::exit(i32::from(exit::INTERRUPTED));
                    }
                }
            });
        }
        out.start(settings);
        match barge_engine::migrate(settings, mode, out.clone(), cancel).await {
            Ok(summary) => {
                out.summary(&summary, format);
                let mismatch = summary
                    .validation
                    .as_ref()
                    .is_some_and(|v| v.iter().any(|c| !c.matches()));
                if mismatch {
                    out.error("validation found tables that differ between source and target (listed above)", None);
                    exit::FAILED
                } else {
                    exit::SUCCESS
                }
            }
            Err(e) => engine_failure(&out, &e, config.as_deref()),
        }
    })
}

/// Wait for Ctrl-C (SIGINT) or SIGTERM; false if no signal can be received.
async fn interrupted() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return tokio::signal::ctrl_c().await.is_ok();
        };
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.is_ok(),
            r = term.recv() => r.is_some(),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.is_ok()
    }
}

/// The command line as recorded in the tracking database: arguments that look like
/// connection strings are shown redacted (barge takes none on the command line today, but
/// a password must never reach the tracking rows).
fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if a.contains("://") || a.contains("password") {
                Connection::Url(Secret::new(a)).redacted()
            } else if a.contains(' ') {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn runtime(out: &Output) -> Result<tokio::runtime::Runtime, u8> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            out.error(&format!("cannot start the async runtime: {e}"), None);
            exit::FAILED
        })
}
