//! Options the configuration accepts (pgferry's full key set, and keys planned for later
//! issues) that this build cannot honour yet. Silently ignoring one would change a migration
//! without a trace, so a non-default value stops the run before anything is touched.

use crate::EngineError;
use barge_config::{NulByteMode, Settings, SnapshotMode, Validation};

/// Every option set to a value this build does not implement, as `key = value` lines.
pub(crate) fn unsupported_options(settings: &Settings) -> Vec<String> {
    let mut out = Vec::new();
    if settings.source_snapshot_mode == SnapshotMode::SingleTx
        && !settings.source.kind.is_mysql_family()
    {
        out.push("`source_snapshot_mode = \"single_tx\"`".to_string());
    }
    if settings.validation == Validation::SampledHash {
        out.push(format!("`validation = \"{}\"`", settings.validation));
    }
    // The MySQL and MariaDB copy strips or replaces NUL bytes; the SQLite one only refuses them.
    if settings.nul_byte_mode != NulByteMode::Error && !settings.source.kind.is_mysql_family() {
        out.push(format!("`nul_byte_mode = \"{}\"`", settings.nul_byte_mode));
    }
    out
}

/// Refuse to run with options this build would otherwise ignore.
pub(crate) fn check_supported(settings: &Settings) -> Result<(), EngineError> {
    let list = unsupported_options(settings);
    if list.is_empty() {
        return Ok(());
    }
    Err(EngineError::Setup(format!(
        "these options are accepted in the configuration but not implemented in this version of barge, so it stops rather than ignore them:\n{}\nhint: remove them (or set them to their defaults) to run",
        list.iter().map(|l| format!("  - {l}")).collect::<Vec<_>>().join("\n")
    )))
}
