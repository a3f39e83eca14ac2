//! Progress events: the one channel through which a run reports what it does.

/// Something that happened in a run, for the terminal, logs or a tracking store.
#[derive(Debug, Clone)]
pub enum ProgressEvent {
    /// A phase begins: `schema`, `copy`, `keys and indexes`, `foreign keys`, ...
    Phase(&'static str),
    /// A table's copy starts; `rows` is the source's count.
    TableStarted { table: String, rows: u64 },
    /// More rows of a table are in PostgreSQL (or in flight to it).
    Rows { table: String, rows: u64 },
    /// A table's copy finished.
    TableDone {
        table: String,
        rows: u64,
        seconds: f64,
    },
    /// A post-load step finished.
    Step { what: String, seconds: f64 },
    /// A chunk (or whole-table stream) is committed with its ledger record.
    ChunkDone { table: String, rows: u64 },
    /// Something the user should know that does not stop the run.
    Warning(String),
    /// A value was loaded as NULL under `on_invalid_value = "null"`.
    Rejected { table: String, column: String },
    /// The run is recorded in the ledger under this id (a new run, or the one it resumes):
    /// from here on a `--resume` can continue it. `tables` are the planned tables as
    /// `(source name, target name)`, so that an error can be tied to its table.
    RunStarted {
        run_id: String,
        resumed: bool,
        tables: Vec<(String, String)>,
    },
    /// Post-load progress: steps done of the planned total, and the steps running now with
    /// their seconds so far. Sent when a step starts or ends, and every few seconds while
    /// steps run (`tick`), for plain log lines.
    PostLoad {
        done: usize,
        total: usize,
        running: Vec<(String, f64)>,
        tick: bool,
    },
}

/// Receives progress events; implementations must be cheap, they are called from workers.
pub trait ProgressSink: Send + Sync {
    fn event(&self, event: ProgressEvent);
}
