//! A connection to the tracking database, whichever backend: setup under a mode, batched
//! writes of records, and the reads a resume needs. The backend is chosen by the
//! credentials entry's `ds_type` alone.

use crate::dialect::{self, Dialect};
use crate::error::TrackingError;
use crate::mssql::MssqlStore;
use crate::pg::PgStore;
use crate::record::Record;
use barge_config::{DatabaseKind, TrackingMode, TrackingSettings};

enum Backend {
    Postgres(PgStore),
    SqlServer(MssqlStore),
}

/// A run as the tracking database knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownRun {
    pub run_id: String,
    pub status: String,
    pub target_schema: String,
    pub source_description: String,
    pub target_description: String,
    /// When it ended (as text), if it did.
    pub end_time: Option<String>,
    /// Its project label, if it has one.
    pub project: Option<String>,
}

/// One session with the tracking database.
pub struct TrackingStore {
    backend: Backend,
    dialect: &'static dyn Dialect,
}

impl TrackingStore {
    /// Connect; the backend follows `settings.kind`.
    pub async fn connect(settings: &TrackingSettings) -> Result<TrackingStore, TrackingError> {
        let dialect = dialect::for_kind(settings.kind).ok_or_else(|| {
            TrackingError::Settings(format!(
                "a `{}` database cannot be the tracking database; use `postgres` or `mssql`",
                settings.kind
            ))
        })?;
        let backend = match settings.kind {
            DatabaseKind::Mssql => {
                Backend::SqlServer(MssqlStore::connect(&settings.connection).await?)
            }
            _ => Backend::Postgres(PgStore::connect(&settings.connection).await?),
        };
        Ok(TrackingStore { backend, dialect })
    }

    pub fn dialect(&self) -> &'static dyn Dialect {
        self.dialect
    }

    /// The connection, without password.
    pub fn description(&self) -> &str {
        match &self.backend {
            Backend::Postgres(s) => s.description(),
            Backend::SqlServer(s) => s.description(),
        }
    }

    pub(crate) async fn reconnect(&mut self) -> Result<(), TrackingError> {
        match &mut self.backend {
            Backend::Postgres(s) => s.reconnect().await,
            Backend::SqlServer(s) => s.reconnect().await,
        }
    }

    async fn execute(&mut self, what: &str, sql: &str) -> Result<(), TrackingError> {
        match &mut self.backend {
            Backend::Postgres(s) => s.execute(what, sql).await,
            Backend::SqlServer(s) => s.execute(what, sql).await,
        }
    }

    async fn query(
        &mut self,
        what: &str,
        sql: &str,
    ) -> Result<Vec<Vec<Option<String>>>, TrackingError> {
        match &mut self.backend {
            Backend::Postgres(s) => s.query(what, sql).await,
            Backend::SqlServer(s) => s.query(what, sql).await,
        }
    }

    /// Create (or upgrade) the tracking objects and apply `mode`, in one transaction.
    pub async fn setup(&mut self, mode: TrackingMode) -> Result<(), TrackingError> {
        if let Backend::Postgres(s) = &self.backend {
            s.check_rights().await?;
        }
        let what = format!("setting up the tracking tables (mode `{mode}`)");
        for batch in self.dialect.setup(mode) {
            self.execute(&what, &batch).await?;
        }
        Ok(())
    }

    /// Write records in one transaction. Superseded records (same key) are dropped first,
    /// keeping the position of the first so parents stay before children.
    pub async fn write(&mut self, records: &[Record]) -> Result<(), TrackingError> {
        if records.is_empty() {
            return Ok(());
        }
        let statements = render_batch(self.dialect, records);
        let sql = self.dialect.transaction(&statements);
        self.execute("writing tracking records", &sql).await
    }

    pub async fn find_run(&mut self, run_id: &str) -> Result<Option<KnownRun>, TrackingError> {
        let sql = self.dialect.find_run(run_id);
        let rows = self.query("looking up a run", &sql).await?;
        Ok(rows.into_iter().next().map(known_run))
    }

    /// The newest unfinished run of this source, target and schema.
    pub async fn latest_unfinished(
        &mut self,
        source: &str,
        target: &str,
        schema: &str,
    ) -> Result<Option<KnownRun>, TrackingError> {
        let sql = self.dialect.unfinished_runs(source, target, schema);
        let rows = self.query("looking up unfinished runs", &sql).await?;
        Ok(rows.into_iter().next().map(known_run))
    }
}

fn known_run(row: Vec<Option<String>>) -> KnownRun {
    let mut it = row.into_iter();
    let mut next = || it.next().flatten();
    KnownRun {
        run_id: next().unwrap_or_default(),
        status: next().unwrap_or_default(),
        target_schema: next().unwrap_or_default(),
        source_description: next().unwrap_or_default(),
        target_description: next().unwrap_or_default(),
        end_time: next(),
        project: next(),
    }
}

/// The statements that write `records`, superseded ones removed.
pub fn render_batch(dialect: &dyn Dialect, records: &[Record]) -> Vec<String> {
    let rows: Vec<_> = records.iter().map(Record::to_row).collect();
    let mut keep: Vec<Option<usize>> = Vec::with_capacity(rows.len());
    let mut seen: std::collections::HashMap<(&str, String), usize> =
        std::collections::HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        match row.key() {
            Some(key) => {
                let k = (row.table.name, format!("{key:?}"));
                match seen.get(&k) {
                    Some(&slot) => {
                        keep[slot] = Some(i);
                        keep.push(None);
                    }
                    None => {
                        seen.insert(k, keep.len());
                        keep.push(Some(i));
                    }
                }
            }
            None => keep.push(Some(i)),
        }
    }
    keep.into_iter()
        .flatten()
        .map(|i| dialect.write_row(&rows[i]))
        .collect()
}
