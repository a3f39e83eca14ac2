//! The PostgreSQL tracking backend: a tokio-postgres session, a rights check that names the
//! GRANTs to run, and simple-protocol batches (one round trip per write batch).

use crate::error::TrackingError;
use barge_config::Connection;
use tokio_postgres::error::SqlState;

pub(crate) struct PgStore {
    client: tokio_postgres::Client,
    config: tokio_postgres::Config,
    /// `user@host:port/db`, never with a password.
    description: String,
    user: String,
    database: String,
}

/// A tokio-postgres configuration from a URL, a key=value DSN or credential fields.
fn pg_config(conn: &Connection) -> Result<tokio_postgres::Config, TrackingError> {
    barge_pg::target::config_for(conn, "tracking database").map_err(TrackingError::Settings)
}

/// A failed or lost connection, in the same words as the target's (one helper for
/// PostgreSQL's connection errors: `barge_pg::target::server_message`).
fn connect_error(description: &str, e: &tokio_postgres::Error) -> TrackingError {
    TrackingError::Connect {
        target: description.to_string(),
        message: barge_pg::target::server_message(e),
        cause: barge_pg::target::connect_cause(e),
        server: "PostgreSQL",
    }
}

impl PgStore {
    pub(crate) async fn connect(conn: &Connection) -> Result<PgStore, TrackingError> {
        let mut config = pg_config(conn)?;
        config.application_name("barge tracking");
        config.connect_timeout(std::time::Duration::from_secs(10));
        let description = conn.redacted();
        let (client, user, database) = Self::open(&config, &description).await?;
        Ok(PgStore {
            client,
            config,
            description,
            user,
            database,
        })
    }

    async fn open(
        config: &tokio_postgres::Config,
        description: &str,
    ) -> Result<(tokio_postgres::Client, String, String), TrackingError> {
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| connect_error(description, &e))?;
        tokio::spawn(async move {
            // Errors surface on the client's next call.
            let _ = connection.await;
        });
        let row = client
            .query_one("SELECT current_user::text, current_database()::text", &[])
            .await
            .map_err(|e| connect_error(description, &e))?;
        Ok((client, row.get(0), row.get(1)))
    }

    /// A new session after a lost one.
    pub(crate) async fn reconnect(&mut self) -> Result<(), TrackingError> {
        let (client, _, _) = Self::open(&self.config, &self.description).await?;
        self.client = client;
        Ok(())
    }

    pub(crate) fn description(&self) -> &str {
        &self.description
    }

    /// Refuse early, naming the GRANTs, when the login cannot create the tracking objects.
    pub(crate) async fn check_rights(&self) -> Result<(), TrackingError> {
        let sql = "SELECT has_schema_privilege('public', 'CREATE'), \
                   has_schema_privilege('public', 'USAGE'), \
                   has_database_privilege(current_database(), 'CREATE')";
        let row = self
            .client
            .query_one(sql, &[])
            .await
            .map_err(|e| self.error("checking the login's rights", &e))?;
        let (schema_create, schema_usage, db_create): (bool, bool, bool) =
            (row.get(0), row.get(1), row.get(2));
        if schema_create && schema_usage {
            // CREATE on the database is not needed while everything lives in `public`.
            return Ok(());
        }
        let schema_rights = match (schema_usage, schema_create) {
            (false, false) => "USAGE and CREATE",
            (false, true) => "USAGE",
            _ => "CREATE",
        };
        let mut missing = vec![format!("{schema_rights} on schema `public`")];
        if !db_create {
            missing.push("CREATE on the database".to_string());
        }
        Err(self.permission(&format!("missing {}", missing.join(" and "))))
    }

    fn permission(&self, what: &str) -> TrackingError {
        let user = barge_pg::ddl::quote_ident(&self.user);
        TrackingError::Permission(format!(
            "user `{}` cannot create or change barge's tracking tables in database `{}` ({}): {what}\n\
             hint: as the database owner or a superuser, run:\n  \
             GRANT CREATE ON DATABASE {} TO {user};\n  \
             GRANT ALL ON SCHEMA public TO {user};\n  \
             ALTER SCHEMA public OWNER TO {user};  -- ideally: barge then owns what it creates",
            self.user,
            self.database,
            self.description,
            barge_pg::ddl::quote_ident(&self.database),
        ))
    }

    fn error(&self, what: &str, e: &tokio_postgres::Error) -> TrackingError {
        if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) {
            return self.permission(&barge_pg::target::db_message(e));
        }
        if e.as_db_error().is_none() {
            // No server message: the connection is gone (closed, reset, timed out).
            return connect_error(&self.description, e);
        }
        TrackingError::Statement {
            target: self.description.clone(),
            what: what.to_string(),
            message: barge_pg::target::db_message(e),
        }
    }

    /// Run one batch of statements (simple protocol).
    pub(crate) async fn execute(&mut self, what: &str, sql: &str) -> Result<(), TrackingError> {
        match self.client.batch_execute(sql).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let err = self.error(what, &e);
                if !err.is_connection() {
                    // Leave no transaction open for the next batch.
                    let _ = self.client.batch_execute("ROLLBACK").await;
                }
                Err(err)
            }
        }
    }

    /// Rows of a query, every value as text.
    pub(crate) async fn query(
        &mut self,
        what: &str,
        sql: &str,
    ) -> Result<Vec<Vec<Option<String>>>, TrackingError> {
        let messages = self
            .client
            .simple_query(sql)
            .await
            .map_err(|e| self.error(what, &e))?;
        Ok(messages
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => {
                    Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
                }
                _ => None,
            })
            .collect())
    }
}
