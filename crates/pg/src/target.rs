//! Talking to the target PostgreSQL server.

use crate::ddl::{qualified, quote_ident};
use bytes::Bytes;
use futures_util::SinkExt;
use tokio::sync::mpsc;
use tokio_postgres::{Client, Config, NoTls};

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("cannot connect to PostgreSQL at {target}: {message}")]
    Connect {
        /// Description of the server without credentials.
        target: String,
        /// The server's own message (with detail and SQLSTATE), or the driver's error with
        /// its causes: see [`server_message`].
        message: String,
        cause: barge_model::ConnectCause,
    },
    #[error("PostgreSQL database uses encoding `{0}`; barge needs a UTF8 database")]
    Encoding(String),
    #[error("schema `{0}` already exists in the target database")]
    SchemaExists(String),
    #[error(
        "schema `{0}` exists and is not empty, so `on_schema_exists = \"use\"` cannot load into it"
    )]
    SchemaNotEmpty(String),
    #[error("{what}: {message}\n  statement: {statement}")]
    Statement {
        what: String,
        statement: String,
        message: String,
    },
    #[error("copy into table `{table}` failed: {message}")]
    Copy {
        table: String,
        message: String,
        /// The failure may pass if the item is tried again (connection lost, server restart).
        transient: bool,
    },
}

impl PgError {
    /// A failed connection to `config`'s server.
    pub fn connect(config: &Config, e: &tokio_postgres::Error) -> PgError {
        PgError::Connect {
            target: describe(config),
            message: server_message(e),
            cause: connect_cause(e),
        }
    }

    /// Whether the error is a failed connection (as opposed to a failed statement).
    pub fn is_connect(&self) -> bool {
        matches!(self, PgError::Connect { .. })
    }

    /// Why the connection failed, when it did.
    pub fn connect_cause(&self) -> Option<barge_model::ConnectCause> {
        match self {
            PgError::Connect { cause, .. } => Some(*cause),
            _ => None,
        }
    }

    /// What to do about it, when the error says.
    pub fn hint(&self) -> Option<String> {
        self.connect_cause().map(|c| c.hint("PostgreSQL", "target"))
    }
}

/// PostgreSQL's own words for an error, for connection failures: the server's message with
/// its detail, hint and SQLSTATE (`password authentication failed for user "app"
/// (SQLSTATE 28P01)`), or the driver's error with every cause (`error connecting to server:
/// Connection refused (os error 111)`), where tokio-postgres's `Display` shows only
/// `db error` or the first line. The target, the tracking database and the post-load
/// sessions all render connection errors with it.
pub fn server_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db_message(e), db.code().code()),
        None => barge_model::error_chain(e),
    }
}

/// Why a connection to PostgreSQL failed.
pub fn connect_cause(e: &tokio_postgres::Error) -> barge_model::ConnectCause {
    use barge_model::ConnectCause;
    if let Some(db) = e.as_db_error() {
        return match db.code().code() {
            // invalid_password, invalid_authorization_specification (no pg_hba.conf line, no
            // such role, role may not log in).
            "28P01" | "28000" => ConnectCause::Authentication,
            "3D000" => ConnectCause::MissingDatabase,
            // insufficient_privilege: CONNECT on the database revoked.
            "42501" => ConnectCause::DatabaseAccess,
            _ => ConnectCause::Other,
        };
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return ConnectCause::of_io(io);
        }
        source = s.source();
    }
    let text = e.to_string();
    if text.contains("TLS") {
        ConnectCause::Tls
    } else if text.contains("timeout") {
        ConnectCause::Timeout
    } else {
        ConnectCause::Other
    }
}

/// How long a connection to PostgreSQL may take when the connection string does not say
/// (`connect_timeout`): a host that drops packets fails with a timeout, not a hang.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// PostgreSQL's own error text with detail and hint, for messages users act on.
pub fn db_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = db.message().to_string();
            if let Some(d) = db.detail() {
                s.push_str(&format!(" ({d})"));
            }
            if let Some(h) = db.hint() {
                s.push_str(&format!("; hint: {h}"));
            }
            s
        }
        None => barge_model::error_chain(e),
    }
}

/// Whether retrying could succeed: a lost or refused connection, a server shutting down or
/// restarting, too many connections, a serialization failure or deadlock.
pub fn is_transient(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(code) => {
            let c = code.code();
            c.starts_with("08")
                || matches!(c, "40001" | "40P01" | "53300" | "57P01" | "57P02" | "57P03")
        }
        // No SQLSTATE: transient only when the socket failed.
        None => std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()),
    }
}

/// A redacted description of a connection: `user@host:port/db`, never the password.
pub fn describe(config: &Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(s) => s.clone(),
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{}:{}/{}",
        config.get_user().unwrap_or(""),
        host,
        port,
        config.get_dbname().unwrap_or("")
    )
}

/// Connect and check the database can hold what barge sends (UTF8).
pub async fn connect(config: &Config) -> Result<Client, PgError> {
    let mut config = config.clone();
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    let config = &config;
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|e| PgError::connect(config, &e))?;
    tokio::spawn(async move {
        // Errors surface on the client's next call; nothing to do with them here.
        let _ = connection.await;
    });
    let row = client
        .query_one("SHOW server_encoding", &[])
        .await
        .map_err(|e| PgError::connect(config, &e))?;
    let encoding: String = row.get(0);
    if encoding != "UTF8" {
        return Err(PgError::Encoding(encoding));
    }
    // Literals in generated SQL (defaults, ledger keys) assume standard strings, which a
    // role or database setting could turn off.
    client
        .batch_execute("SET standard_conforming_strings = on")
        .await
        .map_err(|e| PgError::connect(config, &e))?;
    Ok(client)
}

/// Run one statement, turning a failure into an error that names what was being done.
pub async fn execute(client: &Client, what: &str, sql: &str) -> Result<u64, PgError> {
    client
        .execute(sql, &[])
        .await
        .map_err(|e| PgError::Statement {
            what: what.to_string(),
            statement: sql.to_string(),
            message: db_message(&e),
        })
}

pub async fn batch(client: &Client, what: &str, sql: &str) -> Result<(), PgError> {
    client
        .batch_execute(sql)
        .await
        .map_err(|e| PgError::Statement {
            what: what.to_string(),
            statement: sql.to_string(),
            message: db_message(&e),
        })
}

pub async fn schema_exists(client: &Client, schema: &str) -> Result<bool, PgError> {
    let sql = "SELECT count(*) FROM pg_namespace WHERE nspname = $1";
    let row = client
        .query_one(sql, &[&schema])
        .await
        .map_err(|e| PgError::Statement {
            what: format!("checking whether schema `{schema}` exists"),
            statement: sql.into(),
            message: db_message(&e),
        })?;
    Ok(row.get::<_, i64>(0) > 0)
}

pub async fn schema_table_count(client: &Client, schema: &str) -> Result<i64, PgError> {
    let sql = "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')";
    let row = client
        .query_one(sql, &[&schema])
        .await
        .map_err(|e| PgError::Statement {
            what: format!("listing tables of schema `{schema}`"),
            statement: sql.into(),
            message: db_message(&e),
        })?;
    Ok(row.get(0))
}

/// Feed one binary COPY stream (header to trailer) into `table`; returns rows loaded, or
/// `None` when the stream was cut short and the COPY aborted.
///
/// When `buffers` ends, `complete` says whether the stream is whole (its producer finished)
/// or was cut (the producer stopped: an interrupt, or another worker's failure). A cut
/// stream is never finished as if it were whole: PostgreSQL would load the rows it got, or
/// fail with "COPY file signature not recognized" on an empty one. The COPY is aborted
/// (`CopyFail`) instead, and the caller rolls back.
///
/// With `freeze`, rows are written already frozen, which spares the index builds and ANALYZE
/// that follow from setting hint bits on every page; PostgreSQL allows it only when the table
/// was created or truncated in the same transaction.
pub async fn copy_in(
    client: &Client,
    schema: &str,
    table: &str,
    columns: &[String],
    freeze: bool,
    mut buffers: mpsc::Receiver<Bytes>,
    complete: impl std::future::Future<Output = bool>,
) -> Result<Option<u64>, PgError> {
    let cols: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    let sql = format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary{})",
        qualified(schema, table),
        cols.join(", "),
        if freeze { ", FREEZE" } else { "" }
    );
    let err = |e: tokio_postgres::Error| PgError::Copy {
        table: table.to_string(),
        message: db_message(&e),
        transient: is_transient(&e),
    };
    let sink = client.copy_in::<_, Bytes>(&sql).await.map_err(err)?;
    futures_util::pin_mut!(sink);
    while let Some(buf) = buffers.recv().await {
        sink.send(buf).await.map_err(err)?;
    }
    if !complete.await {
        // Dropping the sink unfinished sends CopyFail: PostgreSQL aborts the COPY.
        return Ok(None);
    }
    sink.as_mut().finish().await.map(Some).map_err(err)
}

/// A tokio-postgres configuration from a connection of the settings: a URL, a key=value DSN
/// or credential fields. `role` names the connection in the error ("target", "tracking"),
/// which never quotes the DSN (it may hold a password).
pub fn config_for(
    conn: &barge_config::Connection,
    role: &str,
) -> Result<tokio_postgres::Config, String> {
    use barge_config::Connection;
    match conn {
        Connection::Url(dsn) => dsn.expose().parse().map_err(|_| {
            format!(
                "{role} DSN `{}` is not a valid PostgreSQL connection string",
                conn.redacted()
            )
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
        Connection::SqliteFile(p) => Err(format!(
            "`{}` is an SQLite file, not a PostgreSQL connection for the {role}",
            p.display()
        )),
    }
}
