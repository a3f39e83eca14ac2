//! Values from the command line. The binary maps its flags onto [`Overrides`]; `None` means
//! "not given". Overrides win over the TOML file; relative paths in them are relative to the
//! working directory, not to the config file.

use std::path::PathBuf;

use crate::connection::SourceKind;
use crate::secret::Secret;
use crate::settings::ChecksumSource;
use crate::settings::{InvalidValuePolicy, NulByteMode, OnSchemaExists, TrackingMode, Validation};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Credentials file (MigratorXpress format).
    pub auth_file: Option<PathBuf>,
    /// Auth id of the source database in the credentials file.
    pub source_auth_id: Option<String>,
    /// Auth id of the target PostgreSQL database.
    pub target_auth_id: Option<String>,
    /// Auth id of the tracking database.
    pub migration_db_auth_id: Option<String>,
    /// `--migration_db_mode`: what to do with the tracking database's existing records.
    pub migration_db_mode: Option<TrackingMode>,
    /// `--project`: label recorded with the run in the tracking database.
    pub project: Option<String>,
    /// Target schema (the TOML's `schema`); required when there is no config file.
    pub target_schema_name: Option<String>,
    pub source_type: Option<SourceKind>,
    pub source_dsn: Option<Secret>,
    pub target_dsn: Option<Secret>,
    pub on_schema_exists: Option<OnSchemaExists>,
    pub schema_only: Option<bool>,
    pub data_only: Option<bool>,
    pub resume: Option<bool>,
    /// `0` means "pick from the CPU count", as in the TOML.
    pub workers: Option<usize>,
    pub index_workers: Option<usize>,
    pub chunk_size: Option<u64>,
    pub include_tables: Option<Vec<String>>,
    pub exclude_tables: Option<Vec<String>>,
    pub validation: Option<Validation>,
    /// `--checksum-source`.
    pub checksum_source: Option<ChecksumSource>,
    pub unlogged_tables: Option<bool>,
    pub on_invalid_value: Option<InvalidValuePolicy>,
    pub reject_file: Option<PathBuf>,
    pub nul_byte_mode: Option<NulByteMode>,
}
