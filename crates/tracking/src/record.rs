//! What a run records, independent of the database it is written to.
//!
//! Every record is complete: a later record with the same key replaces the earlier one
//! (an upsert), so the writer can drop superseded records from a batch and a retried batch
//! leaves the same rows. Only [`Event`]s are appended.

use crate::schema::{self, Value};

/// Status of a run (`runs.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Running,
    Completed,
    Failed,
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

/// One row of `runs`. Descriptions never carry passwords.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub run_id: String,
    /// UTC, `YYYY-MM-DD HH:MM:SS.ffffff`.
    pub start_time: String,
    pub end_time: Option<String>,
    pub status: RunStatus,
    pub source_type: String,
    pub source_description: String,
    pub target_description: String,
    pub target_schema: String,
    pub barge_version: String,
    pub config_fingerprint: String,
    pub command_line: String,
    pub project: Option<String>,
}

/// Which side of the migration a table or column record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Target,
}

/// One row of `sources` or `targets`.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRecord {
    pub run_id: String,
    pub side: Side,
    /// The table's name on its side.
    pub table: String,
    /// The same table's name on the other side.
    pub other_table: String,
    pub schema: Option<String>,
    /// Exact `count(*)`, when counted.
    pub rows: Option<i64>,
    pub columns: i64,
}

/// One row of `sourcecolumns` or `targetcolumns`.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnRecord {
    pub run_id: String,
    pub side: Side,
    pub table: String,
    pub column: String,
    /// 1-based.
    pub position: i64,
    pub data_type: String,
    pub max_length: Option<i64>,
    pub precision: Option<i64>,
    pub scale: Option<i64>,
    pub nullable: bool,
    pub primary_key: bool,
    /// The mapping: the column this one becomes (source side) or comes from (target side).
    pub other_table: String,
    pub other_column: String,
}

/// The tasks of one table's load (`sourcetargetloads.task`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Task {
    Create,
    Transfer,
    Validate,
    Pk,
    Indexes,
    Fk,
    Sequences,
}

impl Task {
    pub const ALL: [Task; 7] = [
        Task::Create,
        Task::Transfer,
        Task::Validate,
        Task::Pk,
        Task::Indexes,
        Task::Fk,
        Task::Sequences,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Task::Create => "create",
            Task::Transfer => "transfer",
            Task::Validate => "validate",
            Task::Pk => "pk",
            Task::Indexes => "indexes",
            Task::Fk => "fk",
            Task::Sequences => "sequences",
        }
    }
}

/// Status of a task or a constraint's copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Pending,
    Running,
    Completed,
    Failed,
    Skipped,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::Running => "running",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Skipped => "skipped",
        }
    }
}

/// One row of `sourcetargetloads`.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadTask {
    pub run_id: String,
    /// Source table name.
    pub table: String,
    pub target_table: String,
    pub task: Task,
    pub status: TaskStatus,
    pub rows_read: Option<i64>,
    pub rows_written: Option<i64>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    /// Seconds, stored as numeric(32,6).
    pub duration: Option<f64>,
    pub error: Option<String>,
}

/// One row of `sourceconstraints`: a key, index, foreign key or check and its copy result.
#[derive(Debug, Clone, PartialEq)]
pub struct ConstraintRecord {
    pub run_id: String,
    pub table: String,
    /// `primary_key`, `unique`, `index`, `foreign_key`, `check`.
    pub kind: String,
    pub name: String,
    pub target_name: String,
    /// Comma-separated source columns.
    pub columns: String,
    pub referenced_table: Option<String>,
    pub status: TaskStatus,
    pub error: Option<String>,
}

/// Severity of an event (`eventlog.eventlevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventLevel {
    Info,
    Warning,
    Error,
}

impl EventLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            EventLevel::Info => "info",
            EventLevel::Warning => "warning",
            EventLevel::Error => "error",
        }
    }
}

/// One row of `eventlog`. `status` is `failed` for errors, `finding` for plan findings,
/// `warning` or `info` otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub run_id: String,
    pub timestamp: String,
    pub level: EventLevel,
    pub status: String,
    pub table: Option<String>,
    pub message: String,
    pub details: Option<String>,
}

/// One row of `sourcetargetdiff`.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffRecord {
    pub run_id: String,
    pub table: String,
    pub target_table: String,
    pub source_rows: i64,
    /// `None` when the target table is missing.
    pub target_rows: Option<i64>,
    /// `match` / `mismatch` under `validation = "checksum"`, `not_computed` otherwise.
    pub checksum: String,
    pub checked_at: String,
}

/// Anything the writer can store.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Run(RunRecord),
    Table(TableRecord),
    Column(ColumnRecord),
    Load(LoadTask),
    Constraint(ConstraintRecord),
    Event(Event),
    Diff(DiffRecord),
}

/// A record as a row of a tracking table: `(column, value)` pairs in the table's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub table: &'static schema::TableDef,
    pub values: Vec<(&'static str, Value)>,
}

impl Row {
    /// Values of the table's key columns, to find superseded rows in a batch.
    pub fn key(&self) -> Option<Vec<Value>> {
        if self.table.append_only {
            return None;
        }
        Some(
            self.table
                .primary_key
                .iter()
                .map(|k| {
                    self.values
                        .iter()
                        .find(|(c, _)| c == k)
                        .map(|(_, v)| v.clone())
                        .unwrap_or(Value::Null)
                })
                .collect(),
        )
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn opt_text(s: &Option<String>) -> Value {
    s.as_deref().map_or(Value::Null, text)
}

fn ts(s: &Option<String>) -> Value {
    s.clone().map_or(Value::Null, Value::Timestamp)
}

fn int(n: &Option<i64>) -> Value {
    n.map_or(Value::Null, Value::Int)
}

impl Record {
    pub fn run_id(&self) -> &str {
        match self {
            Record::Run(r) => &r.run_id,
            Record::Table(r) => &r.run_id,
            Record::Column(r) => &r.run_id,
            Record::Load(r) => &r.run_id,
            Record::Constraint(r) => &r.run_id,
            Record::Event(r) => &r.run_id,
            Record::Diff(r) => &r.run_id,
        }
    }

    pub fn to_row(&self) -> Row {
        match self {
            Record::Run(r) => Row {
                table: &schema::RUNS,
                values: vec![
                    ("runid", text(&r.run_id)),
                    ("starttime", Value::Timestamp(r.start_time.clone())),
                    ("endtime", ts(&r.end_time)),
                    ("status", text(r.status.as_str())),
                    ("sourcetype", text(&r.source_type)),
                    ("sourcedescription", text(&r.source_description)),
                    ("targetdescription", text(&r.target_description)),
                    ("targetschema", text(&r.target_schema)),
                    ("bargeversion", text(&r.barge_version)),
                    ("configfingerprint", text(&r.config_fingerprint)),
                    ("commandline", text(&r.command_line)),
                    ("project", opt_text(&r.project)),
                ],
            },
            Record::Table(r) => Row {
                table: match r.side {
                    Side::Source => &schema::SOURCES,
                    Side::Target => &schema::TARGETS,
                },
                values: vec![
                    ("runid", text(&r.run_id)),
                    ("tablename", text(&r.table)),
                    (
                        match r.side {
                            Side::Source => "targettablename",
                            Side::Target => "sourcetablename",
                        },
                        text(&r.other_table),
                    ),
                    ("schemaname", opt_text(&r.schema)),
                    ("tablerows", int(&r.rows)),
                    ("columncount", Value::Int(r.columns)),
                ],
            },
            Record::Column(r) => {
                let (table, other_t, other_c) = match r.side {
                    Side::Source => (
                        &schema::SOURCECOLUMNS,
                        "targettablename",
                        "targetcolumnname",
                    ),
                    Side::Target => (
                        &schema::TARGETCOLUMNS,
                        "sourcetablename",
                        "sourcecolumnname",
                    ),
                };
                Row {
                    table,
                    values: vec![
                        ("runid", text(&r.run_id)),
                        ("tablename", text(&r.table)),
                        ("columnname", text(&r.column)),
                        ("columnposition", Value::Int(r.position)),
                        ("datatype", text(&r.data_type)),
                        ("maxlength", int(&r.max_length)),
                        ("numericprecision", int(&r.precision)),
                        ("numericscale", int(&r.scale)),
                        ("isnullable", Value::Bool(r.nullable)),
                        ("ispk", Value::Bool(r.primary_key)),
                        (other_t, text(&r.other_table)),
                        (other_c, text(&r.other_column)),
                    ],
                }
            }
            Record::Load(r) => Row {
                table: &schema::SOURCETARGETLOADS,
                values: vec![
                    ("runid", text(&r.run_id)),
                    ("tablename", text(&r.table)),
                    ("task", text(r.task.as_str())),
                    ("targettablename", text(&r.target_table)),
                    ("status", text(r.status.as_str())),
                    ("rowsread", int(&r.rows_read)),
                    ("rowswritten", int(&r.rows_written)),
                    ("starttime", ts(&r.start_time)),
                    ("endtime", ts(&r.end_time)),
                    ("duration", r.duration.map_or(Value::Null, Value::Seconds)),
                    ("errormessage", opt_text(&r.error)),
                ],
            },
            Record::Constraint(r) => Row {
                table: &schema::SOURCECONSTRAINTS,
                values: vec![
                    ("runid", text(&r.run_id)),
                    ("tablename", text(&r.table)),
                    ("constrainttype", text(&r.kind)),
                    ("constraintname", text(&r.name)),
                    ("targetname", text(&r.target_name)),
                    ("columnlist", text(&r.columns)),
                    ("referencedtable", opt_text(&r.referenced_table)),
                    ("status", text(r.status.as_str())),
                    ("errormessage", opt_text(&r.error)),
                ],
            },
            Record::Event(r) => Row {
                table: &schema::EVENTLOG,
                values: vec![
                    ("eventrunid", text(&r.run_id)),
                    ("eventtimestamp", Value::Timestamp(r.timestamp.clone())),
                    ("eventlevel", text(r.level.as_str())),
                    ("eventstatus", text(&r.status)),
                    ("src_tablename", opt_text(&r.table)),
                    ("eventmessage", text(&r.message)),
                    ("eventdetails", opt_text(&r.details)),
                ],
            },
            Record::Diff(r) => Row {
                table: &schema::SOURCETARGETDIFF,
                values: vec![
                    ("runid", text(&r.run_id)),
                    ("tablename", text(&r.table)),
                    ("targettablename", text(&r.target_table)),
                    ("sourcerows", Value::Int(r.source_rows)),
                    ("targetrows", int(&r.target_rows)),
                    (
                        "difference",
                        r.target_rows
                            .map_or(Value::Null, |t| Value::Int(r.source_rows - t)),
                    ),
                    ("checksumresult", text(&r.checksum)),
                    ("checkedat", Value::Timestamp(r.checked_at.clone())),
                ],
            },
        }
    }
}
