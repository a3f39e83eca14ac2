//! The migration run, from validated settings to a loaded, keyed and analysed PostgreSQL schema.
//!
//! ```text
//! settings -> introspect source -> name and filter (plan) -> prepare target (bare tables)
//!   -> copy (workers over chunks: source encoder -> bounded channel -> COPY, one transaction each)
//!   -> post-load (keys and indexes in parallel, set logged, foreign keys, identity, ANALYZE)
//! ```
//! Post-load (`postload/`) overlaps the copy: a table's keys start when its copy ends, and
//! its foreign keys and statistics as soon as what they need is done (`postload/pipeline.rs`).
//! Progress is reported as [`ProgressEvent`]s to one [`ProgressSink`]; the engine never prints.

pub mod checkpoint;
mod connect;
mod copy;
mod error;
pub mod fingerprint;
mod hooks;
mod ledger;
mod orphans;
mod plan;
mod postload;
mod progress;
mod rejects;
mod resume;
mod run;
mod schema_drop;
mod source;
mod support;
mod sync;
mod tracking;
mod validate;

pub use error::EngineError;
pub use plan::{
    build_plan, build_report, MigrationPlan, OrphanCount, TablePlan, ESTIMATE_ROWS_PER_SECOND,
};
pub use progress::{ProgressEvent, ProgressSink};
pub use run::{migrate, MigrationSummary, RunMode, TableSummary};
pub use validate::{
    validate, ChecksumResult, ColumnDifference, DifferenceKind, RowDifference, TableCheck,
};
