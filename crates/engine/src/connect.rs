//! Settings' connection descriptions to driver configurations.

use crate::EngineError;
use barge_config::Connection;

/// A tokio-postgres configuration from a URL, a key=value DSN or credential fields.
pub(crate) fn pg_config(conn: &Connection) -> Result<tokio_postgres::Config, EngineError> {
    barge_pg::target::config_for(conn, "target").map_err(EngineError::Setup)
}
