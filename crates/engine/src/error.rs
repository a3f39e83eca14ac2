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
    /// The settings do not fit the source (a filter entry that matches nothing, nothing to
    /// migrate): found before the target is touched; a configuration error (exit 2).
    #[error("{0}")]
    Config(String),
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

    /// Why a connection (or opening the SQLite file) failed, when that is the error.
    pub fn connect_cause(&self) -> Option<barge_model::ConnectCause> {
        match self {
            EngineError::Target(e) => e.connect_cause(),
            EngineError::Source(e) => e.connect_cause(),
            EngineError::Mysql(e) => e.connect_cause(),
            EngineError::Tracking(e) => e.connect_cause(),
            _ => None,
        }
    }

    /// A configuration or credentials error, found before the target is touched (exit 2):
    /// the settings do not fit the source, a login refused, a database that does not exist,
    /// a connection string that cannot be read.
    pub fn is_config(&self) -> bool {
        match self {
            EngineError::Config(_)
            | EngineError::Source(barge_source_sqlite::SqliteError::Empty(_)) => true,
            EngineError::Mysql(e) => e.is_configuration(),
            _ => self.connect_cause().is_some_and(|c| c.is_configuration()),
        }
    }

    /// A failure to reach a server or the SQLite file (exit 3), as opposed to a failure of
    /// the migration itself.
    pub fn is_connection(&self) -> bool {
        !self.is_config() && self.connect_cause().is_some()
    }

    /// What to do about it, fitted to the cause (the binary prints it under the error).
    pub fn hint(&self) -> Option<String> {
        match self {
            EngineError::Target(e) => e.hint(),
            EngineError::Source(e) => e.hint(),
            EngineError::Mysql(e) => e.hint(),
            EngineError::Tracking(e) => e.hint(),
            _ => None,
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
