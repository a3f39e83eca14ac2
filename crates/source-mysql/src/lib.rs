//! MySQL and MariaDB source: reads the schema from `information_schema` into the neutral
//! model, plans balanced chunks over a table's key, and encodes rows straight into PostgreSQL
//! binary COPY.
//!
//! Every session runs with `time_zone = '+00:00'` (so `TIMESTAMP` values arrive as the UTC
//! instants they are stored as), `NAMES utf8mb4` (so every text column, latin1 included, arrives
//! as UTF-8 converted by the server itself) and a plain `sql_mode` (no `PAD_CHAR_TO_FULL_LENGTH`,
//! no `ANSI_QUOTES`), read-only.
//!
//! Rows come over the text protocol: each value is the server's own text (or raw bytes for
//! binary types), and one encoder per column, chosen before the copy, turns those bytes into
//! the binary COPY form without a generic value type in between. Only lossless conversions
//! succeed; anything else is refused with table, column, key and value, or loaded as NULL and
//! recorded under `on_invalid_value = "null"`.
//!
//! Row counts in the schema are `information_schema.TABLES.TABLE_ROWS`: exact for MyISAM, an
//! estimate for InnoDB. They size progress bars; chunk planning reads real key boundaries.

pub mod checksum;
mod chunk;
pub mod defaults;
mod encode;
pub mod expr;
mod introspect;
mod stream;
pub mod types;
mod visibility;
mod wire;

pub use barge_model::{InvalidValuePolicy, KeyRange, KeyValue, Reject};
pub use defaults::Flavor;

use barge_config::{NulByteMode, TypeMapping, ZeroDateMode};
use bytes::Bytes;
use mysql_async::{Opts, OptsBuilder, Pool};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum MysqlError {
    #[error("invalid MySQL connection string: {0}")]
    Url(String),
    #[error("cannot connect to MySQL/MariaDB at `{target}`: {}", server_message(.source))]
    Connect {
        target: String,
        source: mysql_async::Error,
    },
    #[error("cannot connect to MySQL/MariaDB at `{target}`: no answer within {} s", CONNECT_TIMEOUT.as_secs())]
    ConnectTimeout { target: String },
    #[error("the MySQL connection `{0}` names no database\nhint: add the database to the URL, e.g. `mysql://user@host:3306/shop`")]
    NoDatabase(String),
    #[error("reading the schema of MySQL database `{database}`: {source}")]
    Schema {
        database: String,
        source: mysql_async::Error,
    },
    #[error("reading table `{table}` from MySQL: {source}")]
    Read {
        table: String,
        source: mysql_async::Error,
    },
    #[error(
        "column `{column}` of table `{table}`: value `{value}` {reason} ({row})\nhint: {hint}"
    )]
    InvalidValue {
        table: String,
        column: String,
        row: String,
        value: String,
        reason: String,
        /// What to do: the lossless option for the column first.
        hint: InvalidValueHint,
    },
    #[error("column `{column}` of table `{table}`: zero date `{value}` cannot be loaded into PostgreSQL ({row})\nhint: {hint}")]
    ZeroDate {
        table: String,
        column: String,
        row: String,
        value: String,
        hint: String,
    },
    #[error("consistent snapshot: {0}")]
    Snapshot(String),
    #[error("table `{table}`: chunk bound does not match its key: {why}")]
    BadRange { table: String, why: String },
    /// The consumer of the encoded buffers went away (the run is being cancelled).
    #[error("copy of table `{0}` was cancelled")]
    Cancelled(String),
}

impl MysqlError {
    /// Why connecting failed, when it did.
    pub fn connect_cause(&self) -> Option<barge_model::ConnectCause> {
        use barge_model::ConnectCause;
        match self {
            MysqlError::ConnectTimeout { .. } => Some(ConnectCause::Timeout),
            MysqlError::Connect { source, .. } => Some(match source {
                mysql_async::Error::Server(e) => match e.code {
                    // ER_ACCESS_DENIED_ERROR (also an account REQUIRE SSL on a plain session).
                    1045 => ConnectCause::Authentication,
                    // ER_DBACCESS_DENIED_ERROR
                    1044 => ConnectCause::DatabaseAccess,
                    // ER_BAD_DB_ERROR
                    1049 => ConnectCause::MissingDatabase,
                    // ER_SECURE_TRANSPORT_REQUIRED (MySQL's require_secure_transport)
                    3159 => ConnectCause::Tls,
                    _ => ConnectCause::Other,
                },
                mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer) => {
                    ConnectCause::Tls
                }
                mysql_async::Error::Io(mysql_async::IoError::Io(io)) => {
                    barge_model::ConnectCause::of_io(io)
                }
                mysql_async::Error::Io(_) => ConnectCause::Tls,
                _ => ConnectCause::Other,
            }),
            _ => None,
        }
    }

    /// A mistake in the connection string itself (exit 2).
    pub fn is_configuration(&self) -> bool {
        matches!(self, MysqlError::Url(_) | MysqlError::NoDatabase(_))
            || self.connect_cause().is_some_and(|c| c.is_configuration())
    }

    /// What to do about it, when the error says.
    pub fn hint(&self) -> Option<String> {
        self.connect_cause()
            .map(|c| c.hint("MySQL/MariaDB", "source"))
    }

    /// The session was lost (network, killed connection, server shutting down or gone), so
    /// the same statement on a new session may well succeed; a refused statement is not.
    pub fn is_connection_loss(&self) -> bool {
        let (MysqlError::Read { source, .. }
        | MysqlError::Connect { source, .. }
        | MysqlError::Schema { source, .. }) = self
        else {
            return false;
        };
        match source {
            mysql_async::Error::Io(_) | mysql_async::Error::Driver(_) => true,
            // ER_SERVER_SHUTDOWN, ER_CONNECTION_KILLED, CR_SERVER_GONE_ERROR, CR_SERVER_LOST.
            mysql_async::Error::Server(e) => matches!(e.code, 1053 | 1927 | 2006 | 2013),
            _ => false,
        }
    }
}

/// How long connecting to the source may take: a host that drops packets fails with a
/// timeout, not a hang of minutes.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The server's error as the MySQL client prints it (`ERROR 1045 (28000): Access denied
/// ...`), other errors with their causes.
fn server_message(e: &mysql_async::Error) -> String {
    match e {
        mysql_async::Error::Server(s) => {
            format!("ERROR {} ({}): {}", s.code, s.state, s.message)
        }
        mysql_async::Error::Io(mysql_async::IoError::Io(io)) => io.to_string(),
        other => barge_model::error_chain(other),
    }
}

/// The hint for a value refused for its column's PostgreSQL type: an option that loads
/// every value of the source type exactly comes first, `on_invalid_value = "null"` last,
/// saying what it loses (issue 13, A7: a hint never steers toward data loss).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidValueHint {
    /// MySQL TIME outside a day: `time_mode = "interval"` holds every TIME value.
    Time,
    /// No lossless option: fix the value, or load NULL.
    Other,
}

impl InvalidValueHint {
    pub(crate) fn for_column(column: &barge_model::Column) -> InvalidValueHint {
        let source = column.source_type.trim().to_ascii_lowercase();
        if source.starts_with("time") && !source.starts_with("timestamp") {
            InvalidValueHint::Time
        } else {
            InvalidValueHint::Other
        }
    }
}

impl std::fmt::Display for InvalidValueHint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if *self == InvalidValueHint::Time {
            f.write_str("set `time_mode = \"interval\"` under [type_mapping] to load every MySQL TIME value exactly (`-838:59:59` .. `838:59:59`, as PostgreSQL interval), or `time_mode = \"text\"` to keep its text; ")?;
        } else {
            f.write_str("fix the value in the source; ")?;
        }
        f.write_str("`on_invalid_value = \"null\"` loads such values as NULL instead (losing them; each is recorded in the reject report)")
    }
}

/// Statements every pooled session runs after connecting and after each reset.
const SESSION_SETUP: &[&str] = &[
    "SET NAMES utf8mb4",
    "SET time_zone = '+00:00'",
    "SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'",
    // A slow target must not make the server drop a result it is streaming.
    "SET SESSION net_write_timeout = 3600",
    "SET SESSION TRANSACTION READ ONLY",
];

/// What shapes the model introspection builds: the type mapping and the options around it.
#[derive(Debug, Clone)]
pub struct IntrospectOptions {
    pub type_mapping: TypeMapping,
    /// Carry column defaults (`preserve_defaults`).
    pub preserve_defaults: bool,
    /// `[postgis] enabled`: spatial columns become PostGIS `geometry`.
    pub postgis: bool,
    /// `add_unsigned_checks`: a `CHECK (col >= 0)` on every UNSIGNED column.
    pub unsigned_checks: bool,
    /// `replicate_on_update_current_timestamp`: emulate `ON UPDATE CURRENT_TIMESTAMP`.
    pub on_update_triggers: bool,
    /// What the copy does with NUL bytes in text.
    pub nul_byte_mode: NulByteMode,
}

impl IntrospectOptions {
    /// The mapping with defaults carried and every other option off.
    pub fn new(type_mapping: TypeMapping) -> Self {
        IntrospectOptions {
            type_mapping,
            preserve_defaults: true,
            postgis: false,
            unsigned_checks: false,
            on_update_triggers: false,
            nul_byte_mode: NulByteMode::Error,
        }
    }
}

/// What introspection learned that the copy needs and the model does not carry.
#[derive(Debug, Default)]
pub(crate) struct SourceState {
    /// `zero_date_mode` of the last introspection; `None` before one ran (zero dates are then
    /// refused).
    pub zero_date_mode: Option<ZeroDateMode>,
    /// `binary16_uuid_mode = "mysql_uuid_to_bin_swap"`: BINARY(16) UUIDs are stored swapped.
    pub binary16_swap: bool,
    /// Character set and collation of text columns, by table and column, for chunk bounds.
    pub text_columns: HashMap<String, HashMap<String, (String, String)>>,
    /// Zero dates loaded as NULL, by (table, column).
    pub zero_dates: BTreeMap<(String, String), u64>,
    /// `nul_byte_mode` of the last introspection; `None` before one (NUL bytes refused).
    pub nul_byte_mode: Option<NulByteMode>,
    /// `sanitize_json_null_bytes`: `\u0000` in jsonb values follows `nul_byte_mode` (else it
    /// is refused).
    pub sanitize_json_nul: bool,
    /// Values whose NUL bytes were stripped or replaced, by (table, column).
    pub nul_values: BTreeMap<(String, String), u64>,
    /// The open snapshot of `source_snapshot_mode = "single_tx"`, if any.
    pub snapshot: Option<Arc<Snapshot>>,
    /// Read every table over the text protocol (see `stream::binary_protocol_fits`).
    pub text_protocol_only: bool,
    /// Rows are read with mysql_async only, never with the lean reader.
    pub lean_reader_off: bool,
    /// Chunks the lean reader read to their end.
    pub lean_reader_chunks: u64,
    /// What went wrong and was overcome (a planning retry), for the run's warnings.
    pub notes: Vec<String>,
}

/// A MySQL or MariaDB database opened for reading (a pool of sessions).
#[derive(Clone)]
pub struct MysqlSource {
    pool: Pool,
    description: String,
    database: String,
    flavor: Flavor,
    version: String,
    /// The server's `lower_case_table_names`: 0 compares table names case-sensitively.
    lower_case_table_names: u8,
    state: Arc<Mutex<SourceState>>,
    /// The lean row reader's sessions, when the source's sessions are plain TCP (see `wire`).
    wire: Option<Arc<wire::WirePool>>,
}

impl std::fmt::Debug for MysqlSource {
    /// What it reads from, never the password (which the driver's options would show).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MysqlSource({}, {})", self.description, self.version)
    }
}

impl MysqlSource {
    /// Connect with a `mysql://` (or `mariadb://`) URL, or a go-mysql DSN
    /// (`user:pass@tcp(host:port)/db`).
    ///
    /// TLS follows the MySQL client's `ssl-mode` (also `sslmode`) URL parameter, with
    /// `ssl-ca=/path/ca.pem` for the CA, or go-mysql's `tls=true|skip-verify|preferred|false`:
    /// see [`TlsMode`]. Without one, TLS is used when the server offers it (`preferred`).
    pub async fn connect(url: &str) -> Result<Self, MysqlError> {
        let (url, tls) = split_tls_params(url)?;
        let opts = parse_url(&url)?;
        Self::open_with_tls(OptsBuilder::from_opts(opts), &tls).await
    }

    /// Connect from separate fields (a credentials entry).
    pub async fn connect_fields(
        server: &str,
        port: Option<u16>,
        user: &str,
        password: &str,
        database: &str,
    ) -> Result<Self, MysqlError> {
        let builder = OptsBuilder::default()
            .ip_or_hostname(server)
            .tcp_port(port.unwrap_or(3306))
            .user(Some(user))
            .pass((!password.is_empty()).then_some(password))
            .db_name(Some(database));
        Self::open_with_tls(builder, &Tls::default()).await
    }

    /// Open with the TLS settings asked for; `preferred` falls back to a plain connection
    /// only when the server has no TLS at all.
    async fn open_with_tls(builder: OptsBuilder, tls: &Tls) -> Result<Self, MysqlError> {
        let Some(ssl) = tls.ssl_opts() else {
            return Self::open(builder).await;
        };
        // A local server would otherwise be reached over its socket, without TLS.
        let secured = builder.clone().ssl_opts(ssl).prefer_socket(false);
        match Self::open(secured).await {
            Err(MysqlError::Connect { source, .. })
                if tls.mode == TlsMode::Preferred
                    && matches!(
                        source,
                        mysql_async::Error::Driver(
                            mysql_async::DriverError::NoClientSslFlagFromServer
                        )
                    ) =>
            {
                Self::open(builder).await
            }
            other => other,
        }
    }

    /// Open the pool, and the lean reader's when the pool's sessions are plain TCP.
    async fn open(builder: OptsBuilder) -> Result<Self, MysqlError> {
        // Sessions go where the DSN says: mysql_async would otherwise move a TCP address of
        // this machine to the server's Unix socket, where MySQL may log the user in as
        // another account (`user@localhost` rather than `user@127.0.0.1`) than the lean
        // reader's TCP sessions. A `socket=` DSN still uses its socket.
        let builder = builder.prefer_socket(false).setup(SESSION_SETUP.to_vec());
        let opts = Opts::from(builder);
        let description = format!(
            "{}@{}:{}/{}",
            opts.user().unwrap_or(""),
            opts.ip_or_hostname(),
            opts.tcp_port(),
            opts.db_name().unwrap_or("")
        );
        let database = opts
            .db_name()
            .filter(|d| !d.is_empty())
            .ok_or_else(|| MysqlError::NoDatabase(description.clone()))?
            .to_string();
        let pool = Pool::new(opts.clone());
        let connect_err = |source| MysqlError::Connect {
            target: description.clone(),
            source,
        };
        let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, pool.get_conn())
            .await
            .map_err(|_| MysqlError::ConnectTimeout {
                target: description.clone(),
            })?
            .map_err(connect_err)?;
        let server: Option<(String, Option<u8>)> = mysql_async::prelude::Queryable::query_first(
            &mut conn,
            "SELECT VERSION(), @@lower_case_table_names",
        )
        .await
        .map_err(connect_err)?;
        let (version, lower_case_table_names) = server.unwrap_or_default();
        // The lean reader speaks neither TLS nor Unix sockets: it is used only when the
        // pool's sessions are plain TCP, and checks it reaches the same server and account.
        let plain = opts.ssl_opts().is_none() && opts.socket().is_none();
        let identity: Option<mysql_async::Row> = if plain {
            mysql_async::prelude::Queryable::query_first(&mut conn, wire::IDENTITY_SQL)
                .await
                .map_err(connect_err)?
        } else {
            None
        };
        drop(conn);
        let wire = identity.map(|row| {
            let identity = (0..row.len())
                .map(|i| match row.as_ref(i) {
                    Some(mysql_async::Value::Bytes(b)) => Some(b.clone()),
                    _ => None,
                })
                .collect();
            Arc::new(wire::WirePool::new(wire::WireOpts {
                host: opts.ip_or_hostname().to_string(),
                port: opts.tcp_port(),
                user: opts.user().unwrap_or("").to_string(),
                password: opts.pass().unwrap_or("").to_string(),
                database: database.clone(),
                setup: opts.init().iter().chain(opts.setup()).cloned().collect(),
                identity,
            }))
        });
        let flavor = if version.to_ascii_lowercase().contains("mariadb") {
            Flavor::Mariadb
        } else {
            Flavor::Mysql
        };
        Ok(MysqlSource {
            pool,
            description,
            database,
            flavor,
            version,
            lower_case_table_names: lower_case_table_names.unwrap_or(0),
            state: Arc::new(Mutex::new(SourceState::default())),
            wire,
        })
    }

    /// `user@host:port/database`, never the password.
    pub fn describe(&self) -> String {
        self.description.clone()
    }

    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// The server's `VERSION()`.
    pub fn server_version(&self) -> &str {
        &self.version
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// Whether the server compares table names case-sensitively (`lower_case_table_names =
    /// 0`, the default on Linux: `Users` and `users` are two tables). Column names are
    /// case-insensitive on every MySQL and MariaDB server.
    pub fn table_names_case_sensitive(&self) -> bool {
        self.lower_case_table_names == 0
    }

    /// Read the whole schema into the neutral model, with findings for what does not carry.
    pub async fn introspect(
        &self,
        options: &IntrospectOptions,
    ) -> Result<barge_model::Schema, MysqlError> {
        let mut conn = self.conn_for_schema().await?;
        let read = introspect::read_schema(&mut conn, self, options).await?;
        let nul_mode = options.nul_byte_mode;
        let options = &options.type_mapping;
        let mut state = self.lock_state();
        state.zero_date_mode = Some(options.zero_date_mode);
        state.binary16_swap =
            options.binary16_uuid_mode == barge_config::Binary16UuidMode::MysqlUuidToBinSwap;
        state.text_columns = read.text_columns;
        state.nul_byte_mode = Some(nul_mode);
        state.sanitize_json_nul = options.sanitize_json_null_bytes;
        Ok(read.schema)
    }

    /// Split a table into chunks of about `chunk_size` rows, from boundaries read off its
    /// primary key (or a NOT NULL unique key): one ordered pass over the key, split into
    /// `LIMIT chunk_size, 1` seeks so only the boundaries cross the wire. Every boundary is a
    /// key that exists, so no chunk is empty; a table without a usable key is one stream.
    pub async fn plan_chunks(
        &self,
        table: &barge_model::Table,
        chunk_size: u64,
    ) -> Result<Vec<KeyRange>, MysqlError> {
        chunk::plan_chunks(self, table, chunk_size).await
    }

    /// Encode the rows of one chunk into one complete binary COPY stream (header to trailer),
    /// sent in buffers of about `buffer_bytes`; `on_rows` hears the rows of each buffer sent.
    /// Returns the number of rows read.
    #[allow(clippy::too_many_arguments)]
    pub async fn copy_chunk(
        &self,
        table: &barge_model::Table,
        range: &KeyRange,
        policy: InvalidValuePolicy,
        buffer_bytes: usize,
        out: &tokio::sync::mpsc::Sender<Bytes>,
        on_rows: &(dyn Fn(u64) + Send + Sync),
        rejects: &mut Vec<Reject>,
    ) -> Result<u64, MysqlError> {
        stream::copy_chunk(
            self,
            table,
            range,
            policy,
            buffer_bytes,
            out,
            on_rows,
            rejects,
        )
        .await
    }

    /// Close the pool's sessions (waits for sessions in use to come back).
    pub async fn close(&self) -> Result<(), MysqlError> {
        if let Some(wire) = &self.wire {
            wire.close().await;
        }
        self.pool
            .clone()
            .disconnect()
            .await
            .map_err(|source| MysqlError::Connect {
                target: self.description.clone(),
                source,
            })
    }

    /// Zero dates loaded as NULL under `zero_date_mode = "null"` so far, by (table, column):
    /// the run reports them in its summary.
    pub fn zero_dates_nulled(&self) -> BTreeMap<(String, String), u64> {
        self.lock_state().zero_dates.clone()
    }

    /// Read rows over the text protocol only. Tables whose columns all have a binary form
    /// the encoders take are otherwise read over the binary protocol (a prepared statement),
    /// which loads the same values at less cost; tests compare the two.
    pub fn set_text_protocol_only(&self, on: bool) {
        self.lock_state().text_protocol_only = on;
    }

    /// Whether chunks may be read with the lean reader (the default) where it applies, or
    /// only with mysql_async: tests compare the two.
    pub fn set_lean_reader(&self, on: bool) {
        self.lock_state().lean_reader_off = !on;
    }

    /// Chunks the lean reader has read to their end so far.
    pub fn lean_reader_chunks(&self) -> u64 {
        self.lock_state().lean_reader_chunks
    }

    /// Keep a warning for the run's summary (something that went wrong and was overcome).
    pub fn note(&self, warning: String) {
        self.lock_state().notes.push(warning);
    }

    /// The warnings kept so far.
    pub fn notes(&self) -> Vec<String> {
        self.lock_state().notes.clone()
    }

    /// `nul_byte_mode` as introspection set it.
    pub fn nul_byte_mode(&self) -> NulByteMode {
        self.lock_state()
            .nul_byte_mode
            .unwrap_or(NulByteMode::Error)
    }

    /// Values whose NUL bytes `nul_byte_mode` stripped or replaced so far, by (table, column).
    pub fn nul_values_changed(&self) -> BTreeMap<(String, String), u64> {
        self.lock_state().nul_values.clone()
    }

    /// Exact row count of a table (`SELECT count(*)`), for validation.
    pub async fn count_rows(&self, table: &str) -> Result<u64, MysqlError> {
        let mut conn = self.conn_for_table(table).await?;
        let sql = format!("SELECT count(*) FROM {}", quote_ident(table));
        let n: Option<u64> = mysql_async::prelude::Queryable::query_first(&mut *conn, sql)
            .await
            .map_err(|source| MysqlError::Read {
                table: table.to_string(),
                source,
            })?;
        Ok(n.unwrap_or(0))
    }

    /// Rows of `child` whose foreign key names no row of `parent` (MATCH SIMPLE), compared
    /// as the server compares them (under the columns' collations).
    pub async fn count_orphans(
        &self,
        child: &barge_model::Table,
        fk: &barge_model::ForeignKey,
        parent: &barge_model::Table,
    ) -> Result<u64, MysqlError> {
        let sql = barge_model::orphans::count_sql(child, fk, parent, &quote_ident);
        let mut conn = self.conn_for_table(&child.name).await?;
        let n: Option<u64> = mysql_async::prelude::Queryable::query_first(&mut *conn, sql)
            .await
            .map_err(|source| MysqlError::Read {
                table: child.name.clone(),
                source,
            })?;
        Ok(n.unwrap_or(0))
    }

    pub(crate) fn lock_state(&self) -> std::sync::MutexGuard<'_, SourceState> {
        // A panic elsewhere while holding the lock leaves plain data behind; keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) async fn conn_for_schema(&self) -> Result<mysql_async::Conn, MysqlError> {
        self.pool
            .get_conn()
            .await
            .map_err(|source| MysqlError::Schema {
                database: self.database.clone(),
                source,
            })
    }

    /// A session of the lean reader for a chunk's rows: one of the snapshot's lean sessions
    /// while a snapshot that has them is open (waiting for one to be free), else a pooled one;
    /// `Ok(None)` when rows are to be read with mysql_async.
    pub(crate) async fn wire_conn(&self) -> Result<Option<LeanConn>, MysqlError> {
        let snapshot = {
            let state = self.lock_state();
            match &state.snapshot {
                Some(s) => Some(s.clone()),
                None if state.lean_reader_off => return Ok(None),
                None => None,
            }
        };
        if let Some(snapshot) = snapshot {
            // After a fault of the lean reader, the snapshot's mysql_async session reads.
            let Some(lean) = snapshot
                .lean
                .as_ref()
                .filter(|_| self.wire.as_ref().is_some_and(|w| !w.is_off()))
            else {
                return Ok(None);
            };
            return match lean.take.lock().await.recv().await {
                Some(Some(conn)) => Ok(Some(LeanConn {
                    conn: Some(conn),
                    home: LeanHome::Snapshot(lean.clone()),
                    reused: true,
                })),
                // Every session was lost: a new one would not see the same point in time.
                Some(None) | None => {
                    let _ = lean.give_back.send(None);
                    Err(MysqlError::Snapshot(
                        "every session of the snapshot was lost while reading, so the remaining chunks cannot be read from the same point in time; run again (or with --resume)".into(),
                    ))
                }
            };
        }
        let Some(pool) = &self.wire else {
            return Ok(None);
        };
        match pool.get().await {
            Ok((conn, reused)) => Ok(Some(LeanConn {
                conn: Some(conn),
                home: LeanHome::Pool(pool.clone()),
                reused,
            })),
            Err(off) => {
                self.lean_reader_off(off);
                Ok(None)
            }
        }
    }

    /// Tell the user once why the lean reader stopped being used.
    pub(crate) fn lean_reader_off(&self, off: wire::Off) {
        if let wire::Off::Now(why) = off {
            self.note(format!(
                "MySQL rows are read with the mysql_async driver, not barge's faster reader, which cannot be used here: {why}"
            ));
        }
    }

    /// A new pooled lean session in place of `stale`, an idle one found dead (the server
    /// closed it, or restarted): every idle one is dropped too. `None`: not to be retried.
    pub(crate) async fn wire_reconnect(&self, stale: &mut LeanConn) -> Option<LeanConn> {
        let LeanHome::Pool(pool) = &stale.home else {
            return None;
        };
        if !stale.reused {
            return None;
        }
        pool.clear_idle();
        match pool.fresh().await {
            Ok(conn) => Some(LeanConn {
                conn: Some(conn),
                home: LeanHome::Pool(pool.clone()),
                reused: false,
            }),
            Err(off) => {
                self.lean_reader_off(off);
                None
            }
        }
    }

    /// The lean reader misread the server (a protocol fault of its own): mysql_async reads
    /// from now on, which the chunk's retry uses.
    pub(crate) fn wire_fault(&self, why: &str) {
        if let Some(pool) = &self.wire {
            self.lean_reader_off(pool.turn_off(why));
        }
    }

    /// A lean session's chunk was read to its end: the session goes back where it came from.
    pub(crate) fn wire_done(&self, mut lean: LeanConn) {
        if let Some(conn) = lean.conn.take() {
            match &lean.home {
                LeanHome::Pool(pool) => pool.put(conn),
                LeanHome::Snapshot(lean) => {
                    let _ = lean.give_back.send(Some(conn));
                }
            }
        }
        self.lock_state().lean_reader_chunks += 1;
    }

    /// A session to read a table's rows: one of the snapshot's sessions while a snapshot is
    /// open (waiting for one to be free), a pooled one otherwise.
    pub(crate) async fn conn_for_table(&self, table: &str) -> Result<SourceConn, MysqlError> {
        let snapshot = self.lock_state().snapshot.clone();
        if let Some(snapshot) = snapshot {
            let conn = snapshot.take.lock().await.recv().await;
            return match conn {
                Some(conn) => Ok(SourceConn::Snapshot {
                    conn: Some(conn),
                    back: snapshot.give_back.clone(),
                }),
                None => Err(MysqlError::Snapshot(
                    "the snapshot's sessions are gone".into(),
                )),
            };
        }
        self.pool
            .get_conn()
            .await
            .map(SourceConn::Pooled)
            .map_err(|source| MysqlError::Read {
                table: table.to_string(),
                source,
            })
    }

    /// `source_snapshot_mode = "single_tx"`: from now until [`MysqlSource::end_snapshot`],
    /// every table is read at one point in time.
    ///
    /// With the RELOAD privilege, `FLUSH TABLES WITH READ LOCK` stops writes for a moment
    /// while `sessions` sessions each start a transaction `WITH CONSISTENT SNAPSHOT`; then
    /// `UNLOCK TABLES` lets writes go on, and the sessions read in parallel, all seeing the
    /// same state (InnoDB's consistent read). Without the privilege, one session takes the
    /// snapshot and reads every table in turn: the report says so.
    pub async fn begin_snapshot(&self, sessions: usize) -> Result<SnapshotReport, MysqlError> {
        use mysql_async::prelude::Queryable;
        let err = |source| MysqlError::Read {
            table: "(snapshot)".into(),
            source,
        };
        let start = "START TRANSACTION WITH CONSISTENT SNAPSHOT";
        let isolation = "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ";
        let mut locker = self.pool.get_conn().await.map_err(err)?;
        // Do not wait long behind a running statement for the global lock.
        locker
            .query_drop("SET SESSION lock_wait_timeout = 30")
            .await
            .map_err(err)?;
        let mut conns = Vec::new();
        let mut lean = None;
        let report = match locker.query_drop("FLUSH TABLES WITH READ LOCK").await {
            Ok(()) => {
                // The lean reader's sessions read every chunk when it can open them all.
                lean = self.lean_snapshot_sessions(sessions.max(1)).await;
                let mysql_sessions = if lean.is_some() { 1 } else { sessions.max(1) };
                let taken = async {
                    let mut conns = Vec::new();
                    for _ in 1..mysql_sessions {
                        let mut c = self.pool.get_conn().await?;
                        c.query_drop(isolation).await?;
                        c.query_drop(start).await?;
                        conns.push(c);
                    }
                    Ok::<_, mysql_async::Error>(conns)
                }
                .await;
                // The locking session takes the snapshot too, then lets writes go on.
                let own = async {
                    locker.query_drop(isolation).await?;
                    locker.query_drop(start).await
                }
                .await;
                locker.query_drop("UNLOCK TABLES").await.map_err(err)?;
                own.map_err(err)?;
                conns = taken.map_err(err)?;
                SnapshotReport {
                    sessions: sessions.max(1),
                    fallback: None,
                }
            }
            Err(e) => {
                locker.query_drop(isolation).await.map_err(err)?;
                locker.query_drop(start).await.map_err(err)?;
                SnapshotReport {
                    sessions: 1,
                    fallback: Some(e.to_string()),
                }
            }
        };
        conns.insert(0, locker);
        let (give_back, take) = tokio::sync::mpsc::unbounded_channel();
        for c in conns {
            let _ = give_back.send(c);
        }
        let lean = lean.map(|sessions| {
            let (give_back, take) = tokio::sync::mpsc::unbounded_channel();
            let live = sessions.len().into();
            for c in sessions {
                let _ = give_back.send(Some(c));
            }
            Arc::new(LeanSnapshot {
                give_back,
                take: tokio::sync::Mutex::new(take),
                live,
            })
        });
        self.lock_state().snapshot = Some(Arc::new(Snapshot {
            give_back,
            take: tokio::sync::Mutex::new(take),
            lean,
        }));
        Ok(report)
    }

    /// `n` lean sessions, each in a transaction `WITH CONSISTENT SNAPSHOT` (taken while the
    /// caller holds the global read lock); `None` when the lean reader is not used or one of
    /// them cannot be opened, and mysql_async's sessions take the snapshot instead.
    async fn lean_snapshot_sessions(&self, n: usize) -> Option<Vec<wire::WireConn>> {
        let pool = self.wire.as_ref()?;
        if self.lock_state().lean_reader_off {
            return None;
        }
        let mut sessions = Vec::with_capacity(n);
        for _ in 0..n {
            let mut conn = match pool.get().await {
                Ok((conn, _)) => conn,
                Err(off) => {
                    self.lean_reader_off(off);
                    return None;
                }
            };
            conn.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .await
                .ok()?;
            conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT")
                .await
                .ok()?;
            sessions.push(conn);
        }
        Some(sessions)
    }

    /// End the snapshot: its sessions commit and close; reads use the pool again.
    pub async fn end_snapshot(&self) {
        use mysql_async::prelude::Queryable;
        let Some(snapshot) = self.lock_state().snapshot.take() else {
            return;
        };
        let mut take = snapshot.take.lock().await;
        while let Ok(mut conn) = take.try_recv() {
            let _ = conn.query_drop("COMMIT").await;
            let _ = conn.disconnect().await;
        }
        // The lean sessions end their transaction and close (their isolation level was set
        // for the snapshot, so they do not go back to the pool).
        if let Some(lean) = &snapshot.lean {
            let mut take = lean.take.lock().await;
            while let Ok(conn) = take.try_recv() {
                if let Some(mut conn) = conn {
                    let _ = conn.query_drop("COMMIT").await;
                    conn.quit().await;
                }
            }
        }
    }
}

/// How `begin_snapshot` went.
#[derive(Debug, Clone)]
pub struct SnapshotReport {
    /// Sessions reading in parallel from the one snapshot.
    pub sessions: usize,
    /// Why the snapshot fell back to one session (the server's refusal of
    /// `FLUSH TABLES WITH READ LOCK`), when it did.
    pub fallback: Option<String>,
}

/// Sessions that share one consistent snapshot, lent out one at a time.
#[derive(Debug)]
pub(crate) struct Snapshot {
    give_back: tokio::sync::mpsc::UnboundedSender<mysql_async::Conn>,
    take: tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<mysql_async::Conn>>,
    /// The lean reader's sessions in the snapshot, which then read every chunk's rows (the
    /// mysql_async session above serves the other queries: collations, counts).
    lean: Option<Arc<LeanSnapshot>>,
}

/// The snapshot's lean sessions. A session lost with its chunk (an error, a cancelled copy)
/// leaves the others reading; when the last one is lost, a `None` tells every waiting reader
/// that the snapshot cannot be read on.
#[derive(Debug)]
pub(crate) struct LeanSnapshot {
    give_back: tokio::sync::mpsc::UnboundedSender<Option<wire::WireConn>>,
    take: tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<Option<wire::WireConn>>>,
    /// Sessions not lost.
    live: std::sync::atomic::AtomicUsize,
}

/// Where a lent lean session goes back to.
enum LeanHome {
    Pool(Arc<wire::WirePool>),
    Snapshot(Arc<LeanSnapshot>),
}

/// A lean session lent for one chunk. Given back with [`MysqlSource::wire_done`] once its
/// result is read to the end; dropped before that (an error, a cancelled copy), it is closed,
/// and a snapshot learns that it lost a session.
pub(crate) struct LeanConn {
    conn: Option<wire::WireConn>,
    home: LeanHome,
    /// It was idle before (so may have been closed by the server meanwhile).
    reused: bool,
}

impl std::ops::Deref for LeanConn {
    type Target = wire::WireConn;
    fn deref(&self) -> &wire::WireConn {
        self.conn.as_ref().expect("a lent lean session")
    }
}

impl std::ops::DerefMut for LeanConn {
    fn deref_mut(&mut self) -> &mut wire::WireConn {
        self.conn.as_mut().expect("a lent lean session")
    }
}

impl Drop for LeanConn {
    fn drop(&mut self) {
        if self.conn.take().is_some() {
            if let LeanHome::Snapshot(lean) = &self.home {
                if lean.live.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) == 1 {
                    let _ = lean.give_back.send(None);
                }
            }
        }
    }
}

/// A session lent for reading: a pooled one, or one of the snapshot's, which goes back to the
/// snapshot (not to the pool, whose reset would end its transaction) when dropped.
pub(crate) enum SourceConn {
    Pooled(mysql_async::Conn),
    Snapshot {
        conn: Option<mysql_async::Conn>,
        back: tokio::sync::mpsc::UnboundedSender<mysql_async::Conn>,
    },
}

impl std::ops::Deref for SourceConn {
    type Target = mysql_async::Conn;
    fn deref(&self) -> &mysql_async::Conn {
        match self {
            SourceConn::Pooled(c) => c,
            SourceConn::Snapshot { conn, .. } => conn.as_ref().expect("a lent snapshot session"),
        }
    }
}

impl std::ops::DerefMut for SourceConn {
    fn deref_mut(&mut self) -> &mut mysql_async::Conn {
        match self {
            SourceConn::Pooled(c) => c,
            SourceConn::Snapshot { conn, .. } => conn.as_mut().expect("a lent snapshot session"),
        }
    }
}

impl Drop for SourceConn {
    fn drop(&mut self) {
        if let SourceConn::Snapshot { conn, back } = self {
            if let Some(c) = conn.take() {
                let _ = back.send(c);
            }
        }
    }
}

/// The MySQL client's `--ssl-mode` values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain connection.
    Disabled,
    /// TLS when the server offers it (certificate not verified), plain otherwise.
    #[default]
    Preferred,
    /// TLS or fail; the certificate is not verified (as the MySQL client's REQUIRED).
    Required,
    /// TLS with the server certificate verified against the CA (`ssl-ca`, else the
    /// built-in Mozilla roots). The MySQL client skips the host-name check here; the driver
    /// barge uses cannot (its skip is broken with current rustls), so the certificate must
    /// name the host, or the name it carries is given with `ssl-hostname`.
    VerifyCa,
    /// As `VerifyCa`, and the certificate must name the host connected to.
    VerifyIdentity,
}

#[derive(Debug, Clone, Default)]
struct Tls {
    mode: TlsMode,
    ca: Option<std::path::PathBuf>,
    /// The name the server certificate must carry, when it is not the host connected to.
    hostname: Option<String>,
}

impl Tls {
    fn ssl_opts(&self) -> Option<mysql_async::SslOpts> {
        let base = || {
            let mut opts = mysql_async::SslOpts::default();
            if let Some(ca) = &self.ca {
                opts = opts.with_root_certs(vec![ca.clone().into()]);
            }
            if let Some(name) = &self.hostname {
                opts = opts.with_danger_tls_hostname_override(Some(name.clone()));
            }
            opts
        };
        match self.mode {
            TlsMode::Disabled => None,
            TlsMode::Preferred | TlsMode::Required => Some(
                base()
                    .with_danger_accept_invalid_certs(true)
                    .with_danger_skip_domain_validation(true),
            ),
            TlsMode::VerifyCa | TlsMode::VerifyIdentity => Some(base()),
        }
    }
}

/// Take the TLS parameters out of a URL or go-mysql DSN (the driver does not know them).
fn split_tls_params(url: &str) -> Result<(String, Tls), MysqlError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), Tls::default()));
    };
    let mut tls = Tls::default();
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let bad = || {
            MysqlError::Url(format!(
                "`{key}={value}` is not a TLS mode; use disabled, preferred, required, verify_ca or verify_identity"
            ))
        };
        match key.to_ascii_lowercase().replace('_', "-").as_str() {
            "ssl-mode" | "sslmode" => {
                tls.mode = match value.to_ascii_lowercase().replace('_', "-").as_str() {
                    "disabled" | "disable" => TlsMode::Disabled,
                    "preferred" | "prefer" => TlsMode::Preferred,
                    "required" | "require" => TlsMode::Required,
                    "verify-ca" => TlsMode::VerifyCa,
                    "verify-identity" | "verify-full" => TlsMode::VerifyIdentity,
                    _ => return Err(bad()),
                }
            }
            "ssl-ca" | "sslrootcert" => tls.ca = Some(value.into()),
            "ssl-hostname" => tls.hostname = Some(value.to_string()),
            // go-mysql's spelling.
            "tls" => {
                tls.mode = match value.to_ascii_lowercase().as_str() {
                    "false" => TlsMode::Disabled,
                    "preferred" => TlsMode::Preferred,
                    "skip-verify" => TlsMode::Required,
                    "true" => TlsMode::VerifyIdentity,
                    _ => return Err(bad()),
                }
            }
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, tls))
}

/// Parse a `mysql://`/`mariadb://` URL or a go-mysql DSN into connection options.
fn parse_url(url: &str) -> Result<Opts, MysqlError> {
    let url = url.trim();
    let normalized = if let Some(rest) = url.strip_prefix("mariadb://") {
        format!("mysql://{rest}")
    } else if url.starts_with("mysql://") {
        url.to_string()
    } else if let Some(dsn) = go_dsn(url) {
        dsn
    } else {
        return Err(MysqlError::Url(
            "expected `mysql://user:password@host:port/database` or `user:password@tcp(host:port)/database`".into(),
        ));
    };
    Opts::from_url(&normalized).map_err(|e| MysqlError::Url(e.to_string()))
}

/// `user:pass@tcp(host:port)/db?params` to a `mysql://` URL.
fn go_dsn(dsn: &str) -> Option<String> {
    let at = dsn.rfind("@tcp(")?;
    let (cred, rest) = (&dsn[..at], &dsn[at + 5..]);
    let close = rest.find(')')?;
    let host = &rest[..close];
    let path = &rest[close + 1..];
    let (db, _params) = path
        .strip_prefix('/')
        .unwrap_or(path)
        .split_once('?')
        .unwrap_or((path.strip_prefix('/').unwrap_or(path), ""));
    let encode = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let cred = match cred.split_once(':') {
        Some((u, p)) => format!("{}:{}", encode(u), encode(p)),
        None => encode(cred),
    };
    Some(format!("mysql://{cred}@{host}/{db}"))
}

/// Quote a MySQL identifier with backticks.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let o = parse_url("mysql://app:p%40ss@db.example:3307/shop").unwrap();
        assert_eq!(o.user(), Some("app"));
        assert_eq!(o.pass(), Some("p@ss"));
        assert_eq!(o.tcp_port(), 3307);
        assert_eq!(o.db_name(), Some("shop"));
        let o = parse_url("app:p@ss@tcp(db.example:3307)/shop?parseTime=true").unwrap();
        assert_eq!(o.user(), Some("app"));
        assert_eq!(o.pass(), Some("p@ss"));
        assert_eq!(o.ip_or_hostname(), "db.example");
        assert_eq!(o.db_name(), Some("shop"));
        assert!(parse_url("postgres://x/y").is_err());
        assert_eq!(quote_ident("a`b"), "`a``b`");
    }

    #[test]
    fn tls_parameters() {
        let (url, tls) =
            split_tls_params("mysql://u@h/db?ssl-mode=VERIFY_CA&ssl-ca=/etc/ca.pem").unwrap();
        assert_eq!(url, "mysql://u@h/db");
        assert_eq!(tls.mode, TlsMode::VerifyCa);
        assert_eq!(tls.ca.as_deref(), Some(std::path::Path::new("/etc/ca.pem")));
        let (url, tls) =
            split_tls_params("u:p@tcp(h:3306)/db?tls=skip-verify&parseTime=true").unwrap();
        assert_eq!(url, "u:p@tcp(h:3306)/db?parseTime=true");
        assert_eq!(tls.mode, TlsMode::Required);
        assert_eq!(
            split_tls_params("mysql://u@h/db").unwrap().1.mode,
            TlsMode::Preferred
        );
        assert!(split_tls_params("mysql://u@h/db?sslmode=sometimes").is_err());
        assert!(Tls {
            mode: TlsMode::Disabled,
            ..Tls::default()
        }
        .ssl_opts()
        .is_none());
    }
}
