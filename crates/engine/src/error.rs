use barge_model::NamingError;

/// Everything that can stop a run, grouped so the CLI can pick an exit code.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Source(#[from] barge_source_sqlite::SqliteError),
    #[error(transparent)]
    Mysql(Box<barge_source_mysql::MysqlError>),
    #[error(transparent)]
    Target(#[from] barge_pg::PgError),
    #[error("{0}")]
    Naming(#[from] NamingError),
    #[error("{0}")]
    Setup(String),
    #[error("{}", render_errors(.errors))]
    Copy { count: usize, errors: Vec<String> },
    #[error("writing the reject report `{path}`: {source}")]
    Rejects {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tracking(#[from] barge_tracking::TrackingError),
    #[error("the migration was interrupted")]
    Interrupted,
    /// `--resume` found no run it could continue; nothing was started or dropped.
    #[error("{0}")]
    NothingToResume(String),
    /// `--resume` found that the run already completed; nothing was touched.
    #[error("run `{run_id}` into schema `{schema}` already completed at {finished_at}")]
    AlreadyComplete {
        run_id: String,
        schema: String,
        finished_at: String,
    },
}

impl EngineError {
    /// A failed statement, with what barge was doing and PostgreSQL's own message.
    pub(crate) fn statement(what: &str, sql: &str, e: &tokio_postgres::Error) -> EngineError {
        EngineError::Target(barge_pg::PgError::Statement {
            what: what.to_string(),
            statement: sql.to_string(),
            message: barge_pg::target::db_message(e),
        })
    }

    /// A failure to reach a server (as opposed to a failure of the migration itself).
    pub fn is_connection(&self) -> bool {
        match self {
            EngineError::Target(e) => e.is_connect(),
            EngineError::Source(barge_source_sqlite::SqliteError::Open { .. })
            | EngineError::Source(barge_source_sqlite::SqliteError::Missing(_)) => true,
            EngineError::Mysql(e) => matches!(**e, barge_source_mysql::MysqlError::Connect { .. }),
            EngineError::Tracking(e) => e.is_connection(),
            _ => false,
        }
    }
}

/// One error as itself; several as a list, so none is hidden behind the first.
fn render_errors(errors: &[String]) -> String {
    match errors {
        [one] => one.clone(),
        many => format!(
            "{} errors stopped the run:\n{}",
            many.len(),
            many.iter()
                .map(|e| format!("  - {e}"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

impl From<barge_source_mysql::MysqlError> for EngineError {
    fn from(e: barge_source_mysql::MysqlError) -> Self {
        EngineError::Mysql(Box::new(e))
    }
}
