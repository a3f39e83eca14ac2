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
    let format = match &cli.command {
        Command::Migrate(a) => a.format,
        Command::Plan(a) | Command::Validate(a) => a.format,
        _ => Format::Text,
    };
    let out = Arc::new(Output::new(cli.quiet, format));
    let code = match unsupported(&cli.command) {
        Some(why) => {
            out.error(&why, None);
            exit::CONFIG
        }
        None => run_command(cli.command, &out),
    };
    out.finish(code);
    code
}

/// A flag or format the command line accepts but this command cannot honour (the commands
/// share some flags): refused before any work rather than ignored.
fn unsupported(command: &Command) -> Option<String> {
    let refuse = |flag: &str, command: &str, why: &str| {
        Some(format!(
            "`{flag}` cannot be used with `barge {command}`: {why}"
        ))
    };
    match command {
        Command::Migrate(a) if a.format == Format::Markdown => refuse(
            "--format markdown",
            "migrate",
            "Markdown is the cutover report of `barge plan`; `migrate` prints text or JSON (`--format json`)",
        ),
        Command::Validate(a) if a.format == Format::Markdown => refuse(
            "--format markdown",
            "validate",
            "Markdown is the cutover report of `barge plan`; `validate` prints text or JSON (`--format json`)",
        ),
        Command::Validate(a) if a.output_dir.is_some() => refuse(
            "--output-dir",
            "validate",
            "hook skeletons are written by `barge plan --output-dir`",
        ),
        Command::Validate(a) if a.fail_on.is_some() => refuse(
            "--fail-on",
            "validate",
            "it gates `barge plan` on its findings; `validate` exits 4 on any difference already",
        ),
        Command::Plan(a) if a.validation.is_some() => refuse(
            "--validation",
            "plan",
            "`plan` reads the source only; `barge validate --validation ...` compares source and target",
        ),
        Command::Plan(a) if a.tracking.migration_db_auth_id.is_some() => refuse(
            "--migration_db_auth_id",
            "plan",
            "`plan` records nothing; `migrate` and `validate` record their runs in the tracking database",
        ),
        Command::Plan(a) if a.tracking.project.is_some() => refuse(
            "--project",
            "plan",
            "`plan` records nothing; the label is for runs of `migrate` and `validate` in the tracking database",
        ),
        _ => None,
    }
}

fn run_command(command: Command, out: &Arc<Output>) -> u8 {
    let out = out.clone();
    match command {
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
            let argv: Vec<String> = std::env::args().collect();
            out.set_resume_base(resume_base(&argv, args.resume.clone().flatten().as_deref()));
            migrate(&settings, mode, args.format, out)
        }
        Command::Plan(args) => {
            let (settings, runtime) = match source_command(&args, &out) {
                Ok(s) => s,
                Err(code) => return code,
            };
            match runtime.block_on(barge_engine::build_report(&settings)) {
                Ok(plan) => {
                    let files = args
                        .output_dir
                        .as_ref()
                        .map(|_| crate::scaffold::hook_skeletons(&plan.schema));
                    if let (Some(dir), Some(files)) = (&args.output_dir, &files) {
                        // Never replace a file the user may have edited: refuse before
                        // writing anything (a file with the same text is left as it is).
                        let changed = changed_files(dir, files);
                        if !changed.is_empty() {
                            out.error(
                                &format!(
                                    "`--output-dir {}` holds files that differ from the hook skeletons barge would write, and barge never overwrites them: {}",
                                    dir.display(),
                                    changed.join(", ")
                                ),
                                Some("nothing was written; move or rename these files (or write the skeletons into an empty folder) and run `barge plan` again"),
                            );
                            return exit::CONFIG;
                        }
                    }
                    if !out.plan(&plan, args.format) {
                        return exit::FAILED;
                    }
                    if let (Some(dir), Some(files)) = (&args.output_dir, &files) {
                        let written = std::fs::create_dir_all(dir).and_then(|()| {
                            files.iter().try_for_each(|(name, text)| {
                                let path = dir.join(name);
                                if std::fs::read_to_string(&path).is_ok_and(|t| &t == text) {
                                    return Ok(());
                                }
                                // `create_new`: a file that appeared since the check is not
                                // overwritten either.
                                use std::io::Write as _;
                                std::fs::OpenOptions::new()
                                    .write(true)
                                    .create_new(true)
                                    .open(&path)
                                    .and_then(|mut f| f.write_all(text.as_bytes()))
                            })
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
                Err(e) => engine_failure(&out, &e),
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
                Err(e) => engine_failure(&out, &e),
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

/// Files of `files` that exist in `dir` with other text than barge would write.
fn changed_files(dir: &Path, files: &[(String, String)]) -> Vec<String> {
    files
        .iter()
        .filter(|(name, text)| {
            let path = dir.join(name);
            path.exists() && std::fs::read_to_string(&path).map_or(true, |t| &t != text)
        })
        .map(|(name, _)| format!("`{}`", dir.join(name).display()))
        .collect()
}

/// Report an engine error with its exit code. After the run is recorded (a failure or an
/// interrupt of a started run), the run id and the full command that continues it follow.
fn engine_failure(out: &Output, e: &EngineError) -> u8 {
    match e {
        EngineError::Interrupted => {
            if out.run_id().is_some() {
                out.error(
                    "the migration was interrupted; everything committed so far is kept",
                    None,
                );
                out.resume_hint(false);
            } else {
                out.error(
                    "the migration was interrupted before it started; nothing was changed in the target",
                    Some("run the same command again to start it"),
                );
            }
            exit::INTERRUPTED
        }
        e if e.is_config() => {
            out.error(&e.to_string(), e.hint().as_deref());
            exit::CONFIG
        }
        EngineError::AlreadyComplete {
            run_id,
            schema,
            finished_at,
        } => {
            out.already_complete(run_id, schema, finished_at);
            exit::SUCCESS
        }
        EngineError::NothingToResume(message) => {
            out.error(message, None);
            exit::NOTHING_TO_RESUME
        }
        e if e.is_connection() => {
            out.error(&e.to_string(), e.hint().as_deref());
            exit::CONNECTION
        }
        e => {
            out.error(&e.to_string(), e.hint().as_deref());
            // Only a recorded run can be continued; a refusal before it (a changed option,
            // another run at work) has its own hint.
            out.resume_hint(true);
            exit::FAILED
        }
    }
}

fn migrate(settings: &Settings, mode: RunMode, format: Format, out: Arc<Output>) -> u8 {
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
                    out.warn("interrupt received: stopping after the chunks and steps in flight (press Ctrl-C again to abort now)");
                    cancel.store(true, Ordering::SeqCst);
                    if interrupted().await {
                        // Every step commits with its ledger record, so stopping mid-step
                        // loses only that step's work, which a resume does again.
                        out.error(
                            "second interrupt: aborting now; the steps in flight are rolled back, everything committed before them is kept",
                            None,
                        );
                        out.resume_hint(false);
                        out.finish(exit::INTERRUPTED);
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
            Err(e) => engine_failure(&out, &e),
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
    let argv: Vec<String> = std::env::args().collect();
    shell_line(&argv)
}

/// Arguments as one shell line: each redacted when it may hold a secret, and quoted when
/// the shell would otherwise split or expand it.
fn shell_line(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.contains("://") || a.contains("password") {
                shell_quote(&Connection::Url(Secret::new(a.clone())).redacted())
            } else {
                shell_quote(a)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `arg` as a POSIX shell word: as is when it is made of safe characters, else in single
/// quotes (a quote inside as `'\''`).
fn shell_quote(arg: &str) -> String {
    let safe = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c));
    if safe {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// This invocation's arguments without what a resume must not repeat: `--restart`,
/// `--resume` (and the run id it was given), and a `--migration_db_mode` other than
/// `preserve` (which would delete the run's records). Everything else stays: the config
/// path, `--auth`, `--source_db_auth_id`, `--target_db_auth_id`, `--target_schema_name`,
/// `--project`, `--workers`...
pub(crate) fn resume_base(argv: &[String], resume_id: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        let a = argv[i].as_str();
        if i == 0 {
            out.push(a.to_string());
            i += 1;
            continue;
        }
        if a == "--restart" || a.starts_with("--resume=") {
            i += 1;
            continue;
        }
        if a == "--resume" {
            let takes_id = resume_id.is_some() && argv.get(i + 1).map(String::as_str) == resume_id;
            i += if takes_id { 2 } else { 1 };
            continue;
        }
        let mode_flag = ["--migration_db_mode", "--migration-db-mode"]
            .iter()
            .find(|f| a == **f || a.starts_with(&format!("{f}=")));
        if let Some(flag) = mode_flag {
            let (value, width) = match a.strip_prefix(&format!("{flag}=")) {
                Some(v) => (Some(v), 1),
                None => (argv.get(i + 1).map(String::as_str), 2),
            };
            if value != Some("preserve") {
                i += width;
                continue;
            }
        }
        out.push(a.to_string());
        i += 1;
    }
    out
}

/// The command that continues run `run_id`: `base` (see [`resume_base`]) and `--resume
/// RUN_ID`, shell-quoted and redacted.
pub(crate) fn resume_command(base: &[String], run_id: &str) -> String {
    let mut argv = base.to_vec();
    argv.push("--resume".into());
    argv.push(run_id.into());
    shell_line(&argv)
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
