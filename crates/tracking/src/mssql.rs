//! The SQL Server tracking backend through tiberius.
//!
//! tiberius is built with `tds73` and no TLS stack (a TLS backend would add a crypto
//! library to every build for one optional backend), so connections are unencrypted:
//! the server must not force encryption. Statements go as SQL batches (`simple_query`),
//! the same text the snapshot tests in `dialect` review.

use crate::error::TrackingError;
use barge_config::Connection;
use barge_model::ConnectCause;
use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

pub(crate) struct MssqlStore {
    client: Client<Compat<TcpStream>>,
    config: Config,
    description: String,
    user: String,
}

/// A tiberius configuration from credential fields, an ADO.NET string
/// (`server=tcp:host,1433;user id=..`) or a JDBC-style `sqlserver://host:1433;...` URL.
pub(crate) fn mssql_config(conn: &Connection) -> Result<(Config, String), TrackingError> {
    let (mut config, user) = match conn {
        Connection::Fields {
            server,
            port,
            username,
            password,
            database,
        } => {
            let mut c = Config::new();
            c.host(server);
            c.port(port.unwrap_or(1433));
            c.database(database);
            c.authentication(AuthMethod::sql_server(username, password.expose()));
            (c, username.clone())
        }
        Connection::Url(dsn) => {
            let text = dsn.expose().trim();
            let lower = text.to_ascii_lowercase();
            let parsed = if lower.starts_with("jdbc:sqlserver://") {
                Config::from_jdbc_string(text)
            } else if lower.starts_with("sqlserver://") {
                Config::from_jdbc_string(&format!("jdbc:{text}"))
            } else {
                Config::from_ado_string(text)
            };
            let c = parsed.map_err(|_| {
                // tiberius's message may quote the string; name only its redacted form.
                TrackingError::Settings(format!(
                    "tracking DSN `{}` is not a valid SQL Server connection string",
                    conn.redacted()
                ))
            })?;
            (c, ado_user(text).unwrap_or_default())
        }
        Connection::SqliteFile(p) => {
            return Err(TrackingError::Settings(format!(
                "`{}` is an SQLite file, not a tracking database",
                p.display()
            )))
        }
    };
    config.encryption(EncryptionLevel::NotSupported);
    config.application_name("barge tracking");
    Ok((config, user))
}

/// The `user id` / `user` / `uid` of an ADO or JDBC string, for messages.
fn ado_user(text: &str) -> Option<String> {
    text.split(';').find_map(|part| {
        let (k, v) = part.split_once('=')?;
        let k = k.trim().to_ascii_lowercase();
        matches!(k.as_str(), "user id" | "user" | "uid" | "username").then(|| v.trim().to_string())
    })
}

/// Server error numbers that mean "you may not": permission denied on an object, on
/// CREATE TABLE/VIEW/SEQUENCE, or an object hidden by missing rights.
const PERMISSION_ERRORS: &[u32] = &[229, 230, 262, 297, 300, 1088, 2760, 3701, 4902, 15151];

impl MssqlStore {
    pub(crate) async fn connect(conn: &Connection) -> Result<MssqlStore, TrackingError> {
        let (config, user) = mssql_config(conn)?;
        let description = conn.redacted();
        let client = Self::open(&config, &description).await?;
        Ok(MssqlStore {
            client,
            config,
            description,
            user,
        })
    }

    async fn open(
        config: &Config,
        description: &str,
    ) -> Result<Client<Compat<TcpStream>>, TrackingError> {
        let connect_error = |message: String, cause| TrackingError::Connect {
            target: description.to_string(),
            message,
            cause,
            server: "SQL Server",
        };
        let tcp = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            TcpStream::connect(config.get_addr()),
        )
        .await
        .map_err(|_| connect_error("timed out after 10 s".into(), ConnectCause::Timeout))?
        .map_err(|e| connect_error(e.to_string(), ConnectCause::of_io(&e)))?;
        let _ = tcp.set_nodelay(true);
        Client::connect(config.clone(), tcp.compat_write())
            .await
            .map_err(|e| connect_error(e.to_string(), mssql_cause(&e)))
    }

    pub(crate) async fn reconnect(&mut self) -> Result<(), TrackingError> {
        self.client = Self::open(&self.config, &self.description).await?;
        Ok(())
    }

    pub(crate) fn description(&self) -> &str {
        &self.description
    }

    fn error(&self, what: &str, e: &tiberius::error::Error) -> TrackingError {
        match e {
            tiberius::error::Error::Server(token) if PERMISSION_ERRORS.contains(&token.code()) => {
                let user = if self.user.is_empty() {
                    "[barge_user]".to_string()
                } else {
                    format!("[{}]", self.user.replace(']', "]]"))
                };
                TrackingError::Permission(format!(
                    "the login cannot create or change barge's tracking tables in `{}`: {}\n\
                     hint: as the database owner, run:\n  \
                     GRANT CREATE TABLE, CREATE VIEW, CREATE SEQUENCE TO {user};\n  \
                     GRANT ALTER, SELECT, INSERT, UPDATE, DELETE, REFERENCES ON SCHEMA::dbo TO {user};\n  \
                     ALTER ROLE db_owner ADD MEMBER {user};  -- ideally: barge then owns what it creates",
                    self.description,
                    token.message()
                ))
            }
            tiberius::error::Error::Server(token) => TrackingError::Statement {
                target: self.description.clone(),
                what: what.to_string(),
                message: format!("error {}: {}", token.code(), token.message()),
            },
            other => TrackingError::Connect {
                target: self.description.clone(),
                message: other.to_string(),
                cause: mssql_cause(other),
                server: "SQL Server",
            },
        }
    }

    /// Run one batch.
    pub(crate) async fn execute(&mut self, what: &str, sql: &str) -> Result<(), TrackingError> {
        let result = match self.client.simple_query(sql).await {
            Ok(stream) => stream.into_results().await.map(|_| ()),
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => Ok(()),
            Err(e) => {
                let err = self.error(what, &e);
                if !err.is_connection() {
                    let _ = self
                        .client
                        .simple_query("IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION")
                        .await;
                }
                Err(err)
            }
        }
    }

    /// Rows of a query whose columns are all character data.
    pub(crate) async fn query(
        &mut self,
        what: &str,
        sql: &str,
    ) -> Result<Vec<Vec<Option<String>>>, TrackingError> {
        let result = match self.client.simple_query(sql).await {
            Ok(stream) => stream.into_first_result().await,
            Err(e) => Err(e),
        };
        let rows = result.map_err(|e| self.error(what, &e))?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        r.try_get::<&str, usize>(i)
                            .map(|v| v.map(str::to_string))
                            .map_err(|e| self.error(what, &e))
                    })
                    .collect()
            })
            .collect()
    }
}

/// Why a connection to SQL Server failed: login failed (18456), cannot open the database
/// (4060), or the network.
fn mssql_cause(e: &tiberius::error::Error) -> ConnectCause {
    match e {
        tiberius::error::Error::Server(token) => match token.code() {
            18456 => ConnectCause::Authentication,
            4060 => ConnectCause::MissingDatabase,
            _ => ConnectCause::Other,
        },
        tiberius::error::Error::Io { kind, .. } => {
            ConnectCause::of_io(&std::io::Error::from(*kind))
        }
        tiberius::error::Error::Tls(_) => ConnectCause::Tls,
        _ => ConnectCause::Other,
    }
}
