//! Errors of the tracking database, with what a user needs to act on them.

/// Everything that can go wrong with the tracking database.
#[derive(Debug, thiserror::Error)]
pub enum TrackingError {
    /// The server cannot be reached (or the connection was lost).
    #[error("cannot reach the tracking database `{target}`: {message}")]
    Connect {
        target: String,
        message: String,
        cause: barge_model::ConnectCause,
        /// `PostgreSQL` or `SQL Server`, for the hint.
        server: &'static str,
    },
    /// The login lacks a right; the message names the GRANT to run.
    #[error("{0}")]
    Permission(String),
    /// A statement failed.
    #[error("tracking database `{target}`: {what} failed: {message}")]
    Statement {
        target: String,
        what: String,
        message: String,
    },
    /// The settings cannot describe a tracking connection.
    #[error("{0}")]
    Settings(String),
    /// A resume names a run the tracking database cannot continue.
    #[error("{0}")]
    Resume(String),
}

impl TrackingError {
    /// Whether retrying later (on a new connection) may succeed.
    pub fn is_connection(&self) -> bool {
        matches!(self, TrackingError::Connect { .. })
    }

    /// Why the connection failed, when it did.
    pub fn connect_cause(&self) -> Option<barge_model::ConnectCause> {
        match self {
            TrackingError::Connect { cause, .. } => Some(*cause),
            _ => None,
        }
    }

    /// What to do about it, when the error says.
    pub fn hint(&self) -> Option<String> {
        match self {
            TrackingError::Connect { cause, server, .. } => {
                Some(cause.hint(server, "tracking database"))
            }
            _ => None,
        }
    }
}
