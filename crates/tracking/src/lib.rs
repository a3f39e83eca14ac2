//! The migration tracking database: every run's history (runs, tables and columns on both
//! sides, per-table load tasks, constraints, events, source/target differences) in
//! PostgreSQL or SQL Server, with one logical schema and one workflow on both.
//!
//! ```text
//! engine --Record--> RecordSender (unbounded channel, never blocks)
//!        --> writer task: batch, dedupe by key, one transaction per batch, retry offline
//!        --> TrackingStore (Postgres | SqlServer) --SQL text from a Dialect--> database
//! ```
//! The schema is data ([`schema`]), rendered per backend by a [`dialect::Dialect`], so the
//! SQL Server text is reviewed in snapshot tests without a server. The tracking rows are a
//! mirror: the exactly-once truth of a run stays in the target's ledger.

pub mod dialect;
mod error;
mod mssql;
mod pg;
pub mod record;
pub mod schema;
mod store;
pub mod time;
pub mod writer;

pub use error::TrackingError;
pub use record::{
    ColumnRecord, ConstraintRecord, DiffRecord, Event, EventLevel, LoadTask, Record, RunRecord,
    RunStatus, Side, TableRecord, Task, TaskStatus,
};
pub use store::{render_batch, KnownRun, TrackingStore};
pub use writer::{RecordSender, WarningSink, WriterOptions};
