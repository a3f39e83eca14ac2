//! SQLite source: reads the schema into the neutral model, plans balanced chunks over the rowid,
//! and encodes rows straight into PostgreSQL binary COPY.
//!
//! SQLite is dynamically typed, so a column's declared type is only a hint: the type is chosen
//! from the declared name (refined) or, failing that, SQLite's column-affinity rules; each value
//! is then checked against that type as it is encoded. Values that do not fit are converted when
//! the conversion is lossless, and otherwise refused with their table, column and rowid (or loaded
//! as NULL and written to the reject report when the user asks for that).
//!
//! The file is always opened read-only; every reader gets its own connection so chunks can be
//! read in parallel threads.

pub mod checksum;
mod encode;
mod introspect;
pub mod sql_expr;
mod table_sql;
mod types;

pub use barge_model::{InvalidValuePolicy, Reject};
pub use types::{map_declared_type, MappingOptions};

use bytes::Bytes;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum SqliteError {
    #[error("SQLite database `{path}` cannot be opened: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("SQLite database `{0}` does not exist")]
    Missing(PathBuf),
    #[error("SQLite database path `{0}` is a directory, not a database file")]
    Directory(PathBuf),
    #[error("SQLite database `{path}` cannot be read: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A zero-byte file: SQLite would open it as an empty database, so "nothing to migrate".
    #[error("SQLite file `{0}` is empty (0 bytes): it holds no database to migrate")]
    Empty(PathBuf),
    #[error("in-memory SQLite databases cannot be migrated: give the path of a database file")]
    InMemory,
    #[error("reading table `{table}` from SQLite: {source}")]
    Read {
        table: String,
        source: rusqlite::Error,
    },
    #[error("reading the SQLite schema: {0}")]
    Schema(rusqlite::Error),
    #[error("{0}")]
    InvalidValue(Box<InvalidValue>),
    #[error("table `{0}`: a chunk bound is not a rowid")]
    BadRange(String),
    /// The consumer of the encoded buffers went away (the run is being cancelled).
    #[error("copy of table `{0}` was cancelled")]
    Cancelled(String),
}

pub use barge_model::{KeyRange, KeyValue};

impl SqliteError {
    /// Why the file could not be opened, when it could not.
    pub fn connect_cause(&self) -> Option<barge_model::ConnectCause> {
        use barge_model::ConnectCause;
        match self {
            SqliteError::Missing(_) => Some(ConnectCause::MissingFile),
            SqliteError::Directory(_) => Some(ConnectCause::Directory),
            SqliteError::Unreadable { source, .. } => Some(ConnectCause::of_io(source)),
            SqliteError::Open { source, .. } => Some(match source.sqlite_error_code() {
                Some(rusqlite::ErrorCode::NotADatabase) => ConnectCause::NotADatabase,
                Some(rusqlite::ErrorCode::PermissionDenied) => ConnectCause::Permission,
                _ => ConnectCause::Other,
            }),
            _ => None,
        }
    }

    /// What to do about it, when the error says.
    pub fn hint(&self) -> Option<String> {
        self.connect_cause().map(|c| c.hint("SQLite", "source"))
    }
}

/// A value that does not fit its column, with where it is.
#[derive(Debug, thiserror::Error)]
#[error("column `{column}` of table `{table}`: value `{value}` {reason} ({row})\nhint: {hint}")]
pub struct InvalidValue {
    pub table: String,
    pub column: String,
    pub row: String,
    pub value: String,
    pub reason: String,
    pub hint: &'static str,
}

/// An SQLite database file opened for reading.
#[derive(Debug, Clone)]
pub struct SqliteSource {
    path: PathBuf,
}

impl SqliteSource {
    pub fn new(path: &Path) -> Result<Self, SqliteError> {
        let text = path.to_string_lossy();
        if text == ":memory:" || text.is_empty() || text.contains("mode=memory") {
            return Err(SqliteError::InMemory);
        }
        if !path.exists() {
            return Err(SqliteError::Missing(path.to_path_buf()));
        }
        if path.is_dir() {
            return Err(SqliteError::Directory(path.to_path_buf()));
        }
        // SQLite's own message for an unreadable file is "unable to open database file";
        // the operating system's says why.
        if let Err(source) = std::fs::File::open(path) {
            return Err(SqliteError::Unreadable {
                path: path.to_path_buf(),
                source,
            });
        }
        if std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0) {
            return Err(SqliteError::Empty(path.to_path_buf()));
        }
        let source = SqliteSource {
            path: path.to_path_buf(),
        };
        source.connect()?;
        Ok(source)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn connect(&self) -> Result<Connection, SqliteError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| SqliteError::Open {
            path: self.path.clone(),
            source,
        })?;
        // Reading the schema proves this is a database, not just any file.
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))
            .map_err(|source| SqliteError::Open {
                path: self.path.clone(),
                source,
            })?;
        Ok(conn)
    }

    /// Read the whole schema into the neutral model, with findings for what does not carry.
    pub fn introspect(&self, options: &MappingOptions) -> Result<barge_model::Schema, SqliteError> {
        let conn = self.connect()?;
        introspect::read_schema(&conn, options)
    }

    /// Exact row count of a table, for validation.
    pub fn count_rows(&self, table: &str) -> Result<u64, SqliteError> {
        let conn = self.connect()?;
        conn.query_row(
            &format!("SELECT count(*) FROM {}", quote_ident(table)),
            [],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n as u64)
        .map_err(|source| SqliteError::Read {
            table: table.to_string(),
            source,
        })
    }

    /// Rows of `child` whose foreign key names no row of `parent` (MATCH SIMPLE: a NULL in
    /// the key is no reference), by SQLite's own comparison of the key values.
    pub fn count_orphans(
        &self,
        child: &barge_model::Table,
        fk: &barge_model::ForeignKey,
        parent: &barge_model::Table,
    ) -> Result<u64, SqliteError> {
        let sql = barge_model::orphans::count_sql(child, fk, parent, &quote_ident);
        let conn = self.connect()?;
        conn.query_row(&sql, [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|source| SqliteError::Read {
                table: child.name.clone(),
                source,
            })
    }

    /// Split a table into rowid ranges of about `chunk_size` rows each.
    ///
    /// Boundaries are read from the rowid b-tree, so sparse rowids never produce empty or
    /// oversized chunks. Tables without rowid copy as one stream.
    pub fn plan_chunks(
        &self,
        table: &barge_model::Table,
        chunk_size: u64,
    ) -> Result<Vec<KeyRange>, SqliteError> {
        let rows = table.row_count.unwrap_or(0);
        if !matches!(table.chunking, barge_model::Chunking::IntegerKey { .. })
            || rows <= chunk_size
            || chunk_size == 0
        {
            return Ok(vec![KeyRange::WHOLE]);
        }
        let conn = self.connect()?;
        let read_err = |source| SqliteError::Read {
            table: table.name.clone(),
            source,
        };
        let rowid = encode::rowid_alias(table);
        let quoted = quote_ident(&table.name);
        // Dense rowids (the common case) give balanced ranges by arithmetic; only sparse ones
        // need the boundaries read from the rowid b-tree.
        // Two queries: SQLite answers a lone min() or max() from the b-tree edge, but scans
        // the whole table when both share one query.
        let edge = |f: &str| -> Result<i64, SqliteError> {
            conn.query_row(&format!("SELECT {f}({rowid}) FROM {quoted}"), [], |r| {
                r.get(0)
            })
            .map_err(read_err)
        };
        let (min, max) = (edge("min")?, edge("max")?);
        let bounds: Vec<i64> =
            if max.checked_sub(min).and_then(|d| d.checked_add(1)) == Some(rows as i64) {
                (1..)
                    .map(|k: i64| min + k * chunk_size as i64)
                    .take_while(|b| *b <= max)
                    .collect()
            } else {
                let sql = format!("SELECT {rowid} FROM {quoted} ORDER BY {rowid}");
                let mut stmt = conn.prepare(&sql).map_err(read_err)?;
                let mut ids = stmt.query([]).map_err(read_err)?;
                let mut bounds = Vec::new();
                let mut n: u64 = 0;
                while let Some(row) = ids.next().map_err(read_err)? {
                    if n > 0 && n.is_multiple_of(chunk_size) {
                        bounds.push(row.get::<_, i64>(0).map_err(read_err)?);
                    }
                    n += 1;
                }
                bounds
            };
        Ok(KeyRange::split_at(
            bounds.into_iter().map(|b| vec![KeyValue::Int(b)]).collect(),
        ))
    }

    /// Encode the rows of one chunk, handing buffers of about `buffer_bytes` to `send`.
    ///
    /// The first buffer starts with the COPY header and the last ends with the trailer, so each
    /// chunk is one complete COPY stream. Returns the number of rows read.
    pub fn copy_chunk(
        &self,
        table: &barge_model::Table,
        range: &KeyRange,
        policy: InvalidValuePolicy,
        buffer_bytes: usize,
        send: &mut dyn FnMut(Bytes, u64) -> bool,
        rejects: &mut Vec<Reject>,
    ) -> Result<u64, SqliteError> {
        let conn = self.connect()?;
        encode::copy_rows(&conn, table, range, policy, buffer_bytes, send, rejects)
    }
}

/// Quote an SQLite identifier with double quotes.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
