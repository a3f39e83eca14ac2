//! Command-line flags. Nothing below the binary sees these types: they are turned into
//! `barge_config::Overrides` and then one validated `Settings`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "barge",
    version,
    about = "Move a whole database (SQLite, MySQL, MariaDB, SQL Server) into PostgreSQL",
    long_about = "Move a whole database into PostgreSQL: schema, data, keys, indexes, sequences.\n\nConfiguration is a pgferry-compatible TOML file, a MigratorXpress-style credentials file, or both."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print only errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the whole migration: schema, data, keys, indexes, foreign keys, identities.
    Migrate(MigrateArgs),
    /// Show what `migrate` would do, from the source alone: tables, type mappings, keys,
    /// indexes and every finding. Does not connect to the target.
    Plan(PlanArgs),
    /// Inspect the checkpoint of an interrupted run.
    Checkpoint(CheckpointArgs),
    /// Write a commented migration.toml with every key at its default.
    Init(InitArgs),
    /// Compare live source and target table by table (exact row counts); exit 4 on any
    /// difference.
    Validate(PlanArgs),
}

#[derive(Args, Debug, Clone, Default)]
pub struct ConnectionArgs {
    /// Credentials file (JSON, keys are auth ids).
    #[arg(
        long = "auth",
        alias = "auth-file",
        alias = "auth_file",
        value_name = "FILE"
    )]
    pub auth: Option<PathBuf>,
    /// Auth id of the source in the credentials file.
    #[arg(
        long = "source_db_auth_id",
        alias = "source-db-auth-id",
        value_name = "ID"
    )]
    pub source_auth_id: Option<String>,
    /// Auth id of the target in the credentials file.
    #[arg(
        long = "target_db_auth_id",
        alias = "target-db-auth-id",
        value_name = "ID"
    )]
    pub target_auth_id: Option<String>,
    /// Target PostgreSQL schema (overrides `schema` in the config).
    #[arg(
        long = "target_schema_name",
        alias = "target-schema-name",
        value_name = "SCHEMA"
    )]
    pub target_schema: Option<String>,
}

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// Configuration file (TOML). Optional when every connection comes from `--auth`.
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub connections: ConnectionArgs,
    /// Number of parallel copy workers (overrides `workers`).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Rows per chunk of a large table (overrides `chunk_size`).
    #[arg(long = "chunk_size", alias = "chunk-size")]
    pub chunk_size: Option<u64>,
    /// Continue an interrupted run: `--resume RUN_ID` that run (looked up in the tracking
    /// database, or checked against the checkpoint file without one); `--resume` alone the
    /// latest unfinished run into the same target schema (same as `resume = true`).
    #[arg(
        long,
        num_args = 0..=1,
        value_name = "RUN_ID",
        conflicts_with = "restart"
    )]
    pub resume: Option<Option<String>>,
    /// Discard an interrupted run (its schema and progress) and start over.
    #[arg(long)]
    pub restart: bool,
    /// Who computes the checksum's source side under `validation = "checksum"`, instead of
    /// the configuration's `checksum_source`: `barge` or `database`.
    #[arg(
        long = "checksum-source",
        alias = "checksum_source",
        value_enum,
        value_name = "SIDE"
    )]
    pub checksum_source: Option<ChecksumSourceArg>,
    #[command(flatten)]
    pub tracking: TrackingArgs,
    /// What to do with the tracking database's existing records: keep them (`preserve`,
    /// the default), delete them (`truncate`) or drop and recreate the tracking objects
    /// (`drop`).
    #[arg(
        long = "migration_db_mode",
        alias = "migration-db-mode",
        value_enum,
        value_name = "MODE"
    )]
    pub migration_db_mode: Option<TrackingModeArg>,
    /// Print the summary as JSON on stdout instead of a table.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackingModeArg {
    Preserve,
    Truncate,
    Drop,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Source type: sqlite, mysql or mariadb.
    #[arg(long = "source", value_parser = ["sqlite", "mysql", "mariadb"], default_value = "sqlite")]
    pub source: String,
    /// File to write; refuses to overwrite an existing one.
    #[arg(default_value = "migration.toml")]
    pub path: PathBuf,
}

#[derive(Args, Debug)]
pub struct CheckpointArgs {
    #[command(subcommand)]
    pub command: CheckpointCommand,
}

#[derive(Subcommand, Debug)]
pub enum CheckpointCommand {
    /// Show the checkpoint next to CONFIG: run id, start, phase, per-table items and rows,
    /// and whether it matches the current configuration. Offline: connects to nothing.
    Status {
        /// Configuration file (TOML).
        config: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// Configuration file (TOML). Optional when every connection comes from `--auth`.
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub connections: ConnectionArgs,
    /// Output format (`markdown` for `plan` only).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// `plan`: write hook skeletons (a commented TODO and the source SQL of every view,
    /// trigger and routine you still own) into this folder.
    #[arg(long = "output-dir", alias = "output_dir", value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// `plan`: exit 4 when a finding of this severity or worse exists (a CI gate).
    #[arg(long = "fail-on", alias = "fail_on", value_enum)]
    pub fail_on: Option<FailOn>,
    /// `validate`: what to compare, instead of the configuration's `validation`: exact row
    /// counts, or every value of every row (default: the configuration's choice when it is
    /// `checksum`, else row counts).
    #[arg(long, value_enum, value_name = "MODE")]
    pub validation: Option<ValidationMode>,
    /// `validate`: who computes the checksum's source side, instead of the configuration's
    /// `checksum_source`: `barge` (from its encoders' output) or `database` (the source
    /// database, in its own SQL from its own values).
    #[arg(
        long = "checksum-source",
        alias = "checksum_source",
        value_enum,
        value_name = "SIDE"
    )]
    pub checksum_source: Option<ChecksumSourceArg>,
    /// `validate`: the tracking database, where the validation is recorded as a run of its
    /// own.
    #[command(flatten)]
    pub tracking: TrackingArgs,
}

/// The tracking database a run is recorded in (`migrate`, `validate`).
#[derive(Args, Debug, Clone, Default)]
pub struct TrackingArgs {
    /// Auth id of the tracking database in the credentials file (`ds_type` postgres or
    /// mssql picks the backend); same as `[tracking] auth_id`.
    #[arg(
        long = "migration_db_auth_id",
        alias = "migration-db-auth-id",
        value_name = "ID"
    )]
    pub migration_db_auth_id: Option<String>,
    /// Project label recorded with the run in the tracking database.
    #[arg(long, value_name = "LABEL")]
    pub project: Option<String>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
#[value(rename_all = "snake_case")]
pub enum ValidationMode {
    RowCount,
    Checksum,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumSourceArg {
    Barge,
    Database,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Errors,
    Warnings,
}
