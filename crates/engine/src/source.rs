//! The sources a run can read from, behind one enum so the engine stays source-neutral.

use crate::copy::BUFFER_BYTES;
use crate::plan::MigrationPlan;
use crate::EngineError;
use barge_config::{Connection, Settings, SourceKind};
use barge_model::{InvalidValuePolicy, KeyRange, Reject};
use barge_source_mysql::{MysqlError, MysqlSource};
use barge_source_sqlite::{MappingOptions, SqliteError, SqliteSource};
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub(crate) enum Source {
    Sqlite(SqliteSource),
    Mysql(MysqlSource),
}

impl Source {
    pub(crate) async fn open(settings: &Settings) -> Result<Source, EngineError> {
        let source = Self::connect(settings).await?;
        if let Source::Mysql(m) = &source {
            m.set_lean_reader(settings.source.row_reader == barge_config::RowReader::Auto);
        }
        Ok(source)
    }

    async fn connect(settings: &Settings) -> Result<Source, EngineError> {
        match (&settings.source.kind, &settings.source.connection) {
            (SourceKind::Sqlite, Connection::SqliteFile(path)) => {
                Ok(Source::Sqlite(SqliteSource::new(path)?))
            }
            (SourceKind::Mysql | SourceKind::Mariadb, Connection::Url(url)) => {
                Ok(Source::Mysql(MysqlSource::connect(url.expose()).await?))
            }
            (
                SourceKind::Mysql | SourceKind::Mariadb,
                Connection::Fields {
                    server,
                    port,
                    username,
                    password,
                    database,
                },
            ) => Ok(Source::Mysql(
                MysqlSource::connect_fields(server, *port, username, password.expose(), database)
                    .await?,
            )),
            (kind, _) => Err(EngineError::Setup(format!(
                "source type `{kind}` is not supported yet by this build of barge; supported: sqlite, mysql, mariadb"
            ))),
        }
    }

    /// How the source compares table and column names, for the filters.
    pub(crate) fn name_rules(&self) -> barge_config::NameRules {
        use barge_config::{NameCase, NameRules};
        match self {
            Source::Sqlite(_) => NameRules::for_source(SourceKind::Sqlite),
            Source::Mysql(m) => NameRules {
                tables: if m.table_names_case_sensitive() {
                    NameCase::Sensitive
                } else {
                    NameCase::Insensitive
                },
                columns: NameCase::Insensitive,
            },
        }
    }

    /// What the source is, for "nothing to migrate": `SQLite file `x`` or `source database `x``.
    pub(crate) fn what(&self) -> String {
        match self {
            Source::Sqlite(s) => format!("SQLite file `{}`", s.path().display()),
            Source::Mysql(m) => format!("source database `{}`", m.database()),
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Source::Sqlite(s) => format!("sqlite {}", s.path().display()),
            Source::Mysql(m) => format!("{:?} {}", m.flavor(), m.describe()).to_lowercase(),
        }
    }

    pub(crate) async fn introspect(
        &self,
        settings: &Settings,
    ) -> Result<barge_model::Schema, EngineError> {
        match self {
            Source::Sqlite(s) => {
                let tm = &settings.type_mapping;
                let options = MappingOptions {
                    unknown_as_text: tm.unknown_as_text,
                    json_as_jsonb: tm.json_as_jsonb,
                    datetime_as_timestamptz: tm.datetime_as_timestamptz,
                    preserve_defaults: settings.preserve_defaults,
                };
                let s = s.clone();
                blocking(move || s.introspect(&options)).await
            }
            Source::Mysql(m) => {
                let options = barge_source_mysql::IntrospectOptions {
                    type_mapping: settings.type_mapping.clone(),
                    preserve_defaults: settings.preserve_defaults,
                    postgis: settings.postgis.enabled,
                    unsigned_checks: settings.add_unsigned_checks,
                    on_update_triggers: settings.replicate_on_update_current_timestamp,
                    nul_byte_mode: settings.nul_byte_mode,
                };
                let mut schema = m.introspect(&options).await?;
                // MySQL index names are unique per table only.
                schema.index_names_per_table = true;
                Ok(schema)
            }
        }
    }

    /// Open one consistent snapshot for the copy (`source_snapshot_mode = "single_tx"`);
    /// returns a warning when it had to fall back to one reading session.
    pub(crate) async fn begin_snapshot(
        &self,
        sessions: usize,
    ) -> Result<Option<String>, EngineError> {
        match self {
            Source::Sqlite(_) => Ok(None),
            Source::Mysql(m) => {
                let report = m.begin_snapshot(sessions).await?;
                Ok(report.fallback.map(|why| {
                    format!(
                        "single_tx: FLUSH TABLES WITH READ LOCK was refused ({why}); every table is read from one consistent snapshot on ONE session, so the copy reads one table at a time\nhint: GRANT RELOAD ON *.* to the source user to read the snapshot on {sessions} sessions in parallel"
                    )
                }))
            }
        }
    }

    /// Close the snapshot of [`Source::begin_snapshot`].
    pub(crate) async fn end_snapshot(&self) {
        if let Source::Mysql(m) = self {
            m.end_snapshot().await;
        }
    }

    /// Key ranges of about `chunk_size` rows for one table.
    pub(crate) async fn plan_chunks(
        &self,
        table: &barge_model::Table,
        chunk_size: u64,
    ) -> Result<Vec<KeyRange>, EngineError> {
        match self {
            Source::Sqlite(s) => {
                let (s, table) = (s.clone(), table.clone());
                blocking(move || s.plan_chunks(&table, chunk_size)).await
            }
            Source::Mysql(m) => {
                // Planning reads the whole key index; a session lost meanwhile (a network
                // blip, a killed connection) costs a retry on a new one, not the run.
                let mut attempt = 0;
                loop {
                    match m.plan_chunks(table, chunk_size).await {
                        Err(e) if e.is_connection_loss() && attempt < PLAN_RETRIES => {
                            m.note(format!(
                                "table `{}`: chunk planning lost its MySQL session ({e}) and started again",
                                table.name
                            ));
                            tokio::time::sleep(std::time::Duration::from_millis(500 << attempt))
                                .await;
                            attempt += 1;
                        }
                        result => return Ok(result?),
                    }
                }
            }
        }
    }
}

/// Tries of one table's chunk planning after a lost session, with backoff 0.5 s, 1 s, 2 s, ...
const PLAN_RETRIES: u32 = 5;

/// Run blocking SQLite work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SqliteError> + Send + 'static,
) -> Result<T, EngineError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| EngineError::Setup(format!("a source task failed: {e}")))?
        .map_err(EngineError::from)
}

/// The threads MySQL chunk readers run on: single-threaded runtimes, one per 4 cores (one on
/// up to 7 cores), started on first use and kept for the life of the process; readers are
/// dealt to them in turn.
///
/// Why not the main runtime's worker threads: mysql_async hands every packet a buffer from
/// one process-wide pool (an atomic queue and an `Arc` count), and readers on several threads
/// fight over those cache lines. Measured on the employees benchmark (2 cores), that pool was
/// 36% of barge's CPU with two readers on two threads, and 7% with one. On one thread the
/// readers still overlap (each waits on its own socket), decoding stays ahead of what
/// PostgreSQL ingests, and the COPY side keeps the main runtime's threads. On bigger
/// machines a few such threads keep decoding from becoming the limit.
fn mysql_reader_runtime() -> &'static tokio::runtime::Handle {
    static HANDLES: std::sync::OnceLock<Vec<tokio::runtime::Handle>> = std::sync::OnceLock::new();
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let handles = HANDLES.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (0..(cores / 4).max(1)).map(start_reader_thread).collect()
    });
    &handles[NEXT.fetch_add(1, Ordering::Relaxed) % handles.len()]
}

fn start_reader_thread(n: usize) -> tokio::runtime::Handle {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name(format!("mysql-readers-{n}"))
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a MySQL reader runtime starts");
            let _ = tx.send(runtime.handle().clone());
            runtime.block_on(std::future::pending::<()>());
        })
        .expect("a MySQL reader thread starts");
    rx.recv()
        .expect("a MySQL reader runtime reports its handle")
}

/// Why a chunk's reader stopped early.
pub(crate) enum ReadError {
    /// The run is being cancelled (another worker failed, or Ctrl-C).
    Cancelled,
    /// The source failed; the message names table, column and row where it can.
    Failed { message: String, transient: bool },
}

/// A chunk reader's result: rows read, and values loaded as NULL.
pub(crate) type ReadResult = (Result<u64, ReadError>, Vec<Reject>);

impl Source {
    /// Read one chunk into binary COPY buffers sent on `tx`, in the way the source needs
    /// (a blocking thread for SQLite). Stops early when `cancel` is set or `tx` is closed.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn read_chunk(
        self,
        plan: Arc<MigrationPlan>,
        table: usize,
        range: KeyRange,
        policy: InvalidValuePolicy,
        tx: mpsc::Sender<Bytes>,
        cancel: Arc<AtomicBool>,
        on_rows: Box<dyn Fn(u64) + Send + Sync>,
    ) -> JoinHandle<ReadResult> {
        match self {
            Source::Sqlite(s) => tokio::task::spawn_blocking(move || {
                let table = &plan.schema.tables[table];
                let mut rejects = Vec::new();
                let mut send = |buf: Bytes, rows: u64| {
                    if cancel.load(Ordering::Relaxed) || tx.blocking_send(buf).is_err() {
                        return false;
                    }
                    if rows > 0 {
                        on_rows(rows);
                    }
                    true
                };
                let result = s
                    .copy_chunk(table, &range, policy, BUFFER_BYTES, &mut send, &mut rejects)
                    .map_err(|e| match e {
                        SqliteError::Cancelled(_) => ReadError::Cancelled,
                        e => ReadError::Failed {
                            message: e.to_string(),
                            transient: false,
                        },
                    });
                (result, rejects)
            }),
            Source::Mysql(m) => mysql_reader_runtime().spawn(async move {
                let table = &plan.schema.tables[table];
                let mut rejects = Vec::new();
                let copy = m.copy_chunk(
                    table,
                    &range,
                    policy,
                    BUFFER_BYTES,
                    &tx,
                    &*on_rows,
                    &mut rejects,
                );
                // The reader has no cancel flag of its own: stop it from here.
                let watch = async {
                    while !cancel.load(Ordering::Relaxed) {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                };
                let result = tokio::select! {
                    r = copy => r.map_err(|e| match e {
                        MysqlError::Cancelled(_) => ReadError::Cancelled,
                        // Reading failures are nearly always a lost connection or server
                        // restart; a retry on a fresh session settles which.
                        e @ (MysqlError::Read { .. } | MysqlError::Connect { .. }) => ReadError::Failed {
                            message: e.to_string(),
                            transient: true,
                        },
                        e => ReadError::Failed {
                            message: e.to_string(),
                            transient: false,
                        },
                    }),
                    () = watch => Err(ReadError::Cancelled),
                };
                (result, rejects)
            }),
        }
    }

    /// Exact row count of one source table.
    pub(crate) async fn count_rows(&self, table: &str) -> Result<u64, EngineError> {
        match self {
            Source::Sqlite(s) => {
                let (s, t) = (s.clone(), table.to_string());
                blocking(move || s.count_rows(&t)).await
            }
            Source::Mysql(m) => Ok(m.count_rows(table).await?),
        }
    }

    /// Orphan rows of one foreign key, counted on the source.
    pub(crate) async fn count_orphans(
        &self,
        child: &barge_model::Table,
        fk: &barge_model::ForeignKey,
        parent: &barge_model::Table,
    ) -> Result<u64, EngineError> {
        match self {
            Source::Sqlite(s) => {
                let (s, c, f, p) = (s.clone(), child.clone(), fk.clone(), parent.clone());
                blocking(move || s.count_orphans(&c, &f, &p)).await
            }
            Source::Mysql(m) => Ok(m.count_orphans(child, fk, parent).await?),
        }
    }

    /// Values the source changed under an explicit option (zero dates loaded as NULL under
    /// `zero_date_mode = "null"`), as lines for the summary.
    /// Warnings about what went wrong while reading and was overcome.
    pub(crate) fn notes(&self) -> Vec<String> {
        match self {
            Source::Sqlite(_) => Vec::new(),
            Source::Mysql(m) => m.notes(),
        }
    }

    /// What read the rows so far: see [`crate::MigrationSummary::source_reader`].
    pub(crate) fn row_reader(&self) -> Option<&'static str> {
        match self {
            Source::Sqlite(_) => None,
            Source::Mysql(m) if m.lean_reader_chunks() > 0 => Some("barge"),
            Source::Mysql(_) => Some("mysql_async"),
        }
    }

    pub(crate) fn changes(&self) -> Vec<String> {
        match self {
            Source::Sqlite(_) => Vec::new(),
            Source::Mysql(m) => {
                let zero = m.zero_dates_nulled().into_iter().map(|((t, c), n)| {
                    format!("table `{t}`, column `{c}`: {n} zero date(s) loaded as NULL (zero_date_mode = \"null\")")
                });
                let verb = match m.nul_byte_mode() {
                    barge_config::NulByteMode::Replace => "replaced by U+FFFD",
                    _ => "stripped",
                };
                let nul = m.nul_values_changed().into_iter().map(move |((t, c), n)| {
                    format!("table `{t}`, column `{c}`: NUL bytes {verb} in {n} value(s) (nul_byte_mode)")
                });
                zero.chain(nul).collect()
            }
        }
    }
}
