//! Settings' connection descriptions to driver configurations.

use crate::EngineError;
use barge_config::Connection;

/// A tokio-postgres configuration from a URL, a key=value DSN or credential fields.
pub(crate) fn pg_config(conn: &Connection) -> Result<tokio_postgres::Config, EngineError> {
    match conn {
        Connection::Url(dsn) => dsn.expose().parse().map_err(|_| {
            // The parser's message can quote the DSN; say only where it came from.
            EngineError::Setup(format!(
                "target DSN `{}` is not a valid PostgreSQL connection string",
                conn.redacted()
            ))
        }),
        Connection::Fields {
            server,
            port,
            username,
            password,
            database,
        } => {
            let mut c = tokio_postgres::Config::new();
            c.host(server).user(username).dbname(database);
            if let Some(p) = port {
                c.port(*p);
            }
            if !password.expose().is_empty() {
                c.password(password.expose());
            }
            Ok(c)
        }
        Connection::SqliteFile(p) => Err(EngineError::Setup(format!(
            "`{}` is an SQLite file, not a PostgreSQL connection",
            p.display()
        ))),
    }
}
