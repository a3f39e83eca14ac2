use barge_model::NamingError;

/// Everything that can stop a run, grouped so the CLI can pick an exit code.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Source(#[from] barge_source_sqlite::SqliteError),
    #[error(transparent)]
    Target(#[from] barge_pg::PgError),
    #[error("{0}")]
    Naming(#[from] NamingError),
    #[error("{0}")]
    Setup(String),
    #[error("{count} error(s) stopped the copy:\n{}", .errors.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Copy { count: usize, errors: Vec<String> },
    #[error("writing the reject report `{path}`: {source}")]
    Rejects {
        path: String,
        source: std::io::Error,
    },
    #[error("the migration was interrupted")]
    Interrupted,
}

impl EngineError {
    /// A failure to reach a server (as opposed to a failure of the migration itself).
    pub fn is_connection(&self) -> bool {
        match self {
            EngineError::Target(e) => e.is_connect(),
            EngineError::Source(barge_source_sqlite::SqliteError::Open { .. })
            | EngineError::Source(barge_source_sqlite::SqliteError::Missing(_)) => true,
            _ => false,
        }
    }
}
