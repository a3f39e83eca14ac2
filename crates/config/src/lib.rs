//! barge's configuration: a TOML file, command-line overrides and a credentials file turned into
//! one validated [`Settings`] before any database is touched.
//!
//! Why one place: every stage (plan, schema, copy, validation) reads the same settings, so all
//! defaults, precedence (command line, then `BARGE_*_DSN`, then the file, then defaults), path
//! resolution (relative to the config file's folder) and cross-key checks live here, and a bad
//! config fails in milliseconds with the key, line and column, not halfway through a copy.
//!
//! Key names are pgferry's, so a pgferry `migration.toml` runs unchanged; barge adds
//! `on_invalid_value`, `reject_file`, `nul_byte_mode`, `auth_file`, `[source|target|tracking]
//! auth_id` and `[tracking]`. Connections may instead come from a MigratorXpress-style
//! credentials file, with no TOML at all.
//!
//! Secrets: DSNs and passwords are held in [`Secret`] (printed as `***`), `Debug` of every type
//! here is safe to log, and no error quotes a DSN, a password or a line of the file.
//!
//! ```no_run
//! # fn main() -> Result<(), barge_config::ConfigError> {
//! use std::path::Path;
//! let settings = barge_config::load(Some(Path::new("migration.toml")), &Default::default())?;
//! let _ = settings.source.connection.redacted();
//! # Ok(()) }
//! ```

mod build;
mod connection;
mod credentials;
mod env;
mod error;
mod filter;
mod overrides;
mod paths;
mod raw;
mod schema_name;
mod secret;
mod settings;

use std::path::Path;

pub use connection::{Connection, DatabaseKind, SourceKind};
pub use credentials::{Credential, Credentials};
pub use env::Environment;
pub use error::{ConfigError, Origin, Position};
pub use filter::{near_matches, FilterMode, NameCase, NameRules};
pub use overrides::Overrides;
pub use schema_name::{reserved_schema, LEDGER_SCHEMA};
pub use secret::Secret;
pub use settings::ChecksumSource;
pub use settings::{
    Binary16UuidMode, BitMode, CleanOrphansMode, CollationMode, EnumMode, Hooks, IdentifierCase,
    InvalidValuePolicy, NulByteMode, OnSchemaExists, PartialVisibility, PostGis, RowReader,
    SetMode, Settings, SnapshotMode, SourceSettings, SpatialMode, TargetSettings, TimeMode,
    TrackingMode, TrackingSettings, TypeMapping, UnmatchedFilter, UnmatchedKind, Validation,
    ZeroDateMode,
};

/// Builds the settings from an optional config file and the command line, reading the process
/// environment and working directory.
pub fn load(config_file: Option<&Path>, overrides: &Overrides) -> Result<Settings, ConfigError> {
    let env = Environment::from_process()?;
    load_with(config_file, overrides, &env)
}

/// [`load`] with an explicit environment (tests, or a binary that snapshots it once).
pub fn load_with(
    config_file: Option<&Path>,
    overrides: &Overrides,
    env: &Environment,
) -> Result<Settings, ConfigError> {
    match config_file {
        None => build::build(raw::RawConfig::default(), None, overrides, env),
        Some(path) => {
            let path = paths::join_clean(env.cwd(), path);
            let text = std::fs::read_to_string(&path).map_err(|cause| ConfigError::ReadConfig {
                path: path.clone(),
                cause,
            })?;
            parse_str(&text, &path, overrides, env)
        }
    }
}

/// Builds the settings from TOML text, as if read from `config_file` (which names the file in
/// errors and anchors relative paths; it need not exist).
pub fn parse_str(
    text: &str,
    config_file: &Path,
    overrides: &Overrides,
    env: &Environment,
) -> Result<Settings, ConfigError> {
    let path = paths::join_clean(env.cwd(), config_file);
    let raw = raw::parse(text, &path)?;
    build::build(raw, Some(path), overrides, env)
}
