//! The tracking schema, once, as data: tables, columns with logical types, keys, foreign keys
//! and the view. Each [`crate::dialect::Dialect`] renders it in its own idioms, so both
//! backends hold the same table names, columns, keys and view by construction.
//!
//! Column names avoid SQL keywords of either backend (`columnposition`, not `position`;
//! `tablerows`, not T-SQL's reserved `rowcount`) so dashboard queries need no quoting.

/// A logical column type, rendered per backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Run ids: varchar(64).
    RunId,
    /// Object names: varchar(256).
    Name,
    /// Short keywords (status, task, level): varchar(32).
    Keyword,
    /// Unbounded text.
    Text,
    Timestamp,
    Bool,
    BigInt,
    /// Durations: numeric(32,6) seconds.
    Seconds,
    /// `sourcetargetloads.loadid`: bigint filled from sequence `seq_id_load`.
    LoadId,
    /// `eventlog.eventid`: bigint identity.
    Identity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnDef {
    pub name: &'static str,
    pub ty: ColumnType,
    pub not_null: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForeignKeyDef {
    pub name: &'static str,
    pub columns: &'static [&'static str],
    pub references: &'static str,
    pub ref_columns: &'static [&'static str],
}

#[derive(Debug, PartialEq, Eq)]
pub struct TableDef {
    pub name: &'static str,
    pub columns: &'static [ColumnDef],
    pub primary_key: &'static [&'static str],
    pub foreign_keys: &'static [ForeignKeyDef],
    /// Rows are only ever inserted (the event log); others are upserted by key.
    pub append_only: bool,
    /// Columns an upsert never overwrites (a resumed run keeps its start time).
    pub keep_on_update: &'static [&'static str],
    /// Columns an upsert overwrites only with a value, never with NULL (a resumed run
    /// re-sends a task from the ledger without the times its first attempt recorded).
    pub coalesce_on_update: &'static [&'static str],
}

impl TableDef {
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A value to store, rendered as a literal by each dialect.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Text(String),
    Int(i64),
    Bool(bool),
    /// UTC, `YYYY-MM-DD HH:MM:SS[.ffffff]`.
    Timestamp(String),
    Seconds(f64),
}

const fn col(name: &'static str, ty: ColumnType) -> ColumnDef {
    ColumnDef {
        name,
        ty,
        not_null: false,
    }
}

const fn req(name: &'static str, ty: ColumnType) -> ColumnDef {
    ColumnDef {
        name,
        ty,
        not_null: true,
    }
}

use ColumnType::*;

const RUN_FK: ForeignKeyDef = ForeignKeyDef {
    name: "fk_{table}_runs",
    columns: &["runid"],
    references: "runs",
    ref_columns: &["runid"],
};

pub static RUNS: TableDef = TableDef {
    name: "runs",
    columns: &[
        req("runid", RunId),
        req("starttime", Timestamp),
        col("endtime", Timestamp),
        req("status", Keyword),
        col("sourcetype", Keyword),
        col("sourcedescription", Text),
        col("targetdescription", Text),
        col("targetschema", Name),
        col("bargeversion", Keyword),
        col("configfingerprint", Text),
        col("commandline", Text),
        col("project", Name),
    ],
    primary_key: &["runid"],
    foreign_keys: &[],
    append_only: false,
    keep_on_update: &["starttime"],
    coalesce_on_update: &[],
};

pub static SOURCES: TableDef = TableDef {
    name: "sources",
    columns: &[
        req("runid", RunId),
        req("tablename", Name),
        col("targettablename", Name),
        col("schemaname", Name),
        col("tablerows", BigInt),
        col("columncount", BigInt),
    ],
    primary_key: &["runid", "tablename"],
    foreign_keys: &[RUN_FK],
    append_only: false,
    keep_on_update: &[],
    coalesce_on_update: &[],
};

pub static TARGETS: TableDef = TableDef {
    name: "targets",
    columns: &[
        req("runid", RunId),
        req("tablename", Name),
        col("sourcetablename", Name),
        col("schemaname", Name),
        col("tablerows", BigInt),
        col("columncount", BigInt),
    ],
    primary_key: &["runid", "tablename"],
    foreign_keys: &[RUN_FK],
    append_only: false,
    keep_on_update: &[],
    coalesce_on_update: &[],
};

pub static SOURCECOLUMNS: TableDef = TableDef {
    name: "sourcecolumns",
    columns: &[
        req("runid", RunId),
        req("tablename", Name),
        req("columnname", Name),
        col("columnposition", BigInt),
        col("datatype", Name),
        col("maxlength", BigInt),
        col("numericprecision", BigInt),
        col("numericscale", BigInt),
        col("isnullable", Bool),
        col("ispk", Bool),
        col("targettablename", Name),
        col("targetcolumnname", Name),
    ],
    primary_key: &["runid", "tablename", "columnname"],
    foreign_keys: &[ForeignKeyDef {
        name: "fk_sourcecolumns_sources",
        columns: &["runid", "tablename"],
        references: "sources",
        ref_columns: &["runid", "tablename"],
    }],
    append_only: false,
    keep_on_update: &[],
    coalesce_on_update: &[],
};

pub static TARGETCOLUMNS: TableDef = TableDef {
    name: "targetcolumns",
    columns: &[
        req("runid", RunId),
        req("tablename", Name),
        req("columnname", Name),
        col("columnposition", BigInt),
        col("datatype", Name),
        col("maxlength", BigInt),
        col("numericprecision", BigInt),
        col("numericscale", BigInt),
        col("isnullable", Bool),
        col("ispk", Bool),
        col("sourcetablename", Name),
        col("sourcecolumnname", Name),
    ],
    primary_key: &["runid", "tablename", "columnname"],
    foreign_keys: &[ForeignKeyDef {
        name: "fk_targetcolumns_targets",
        columns: &["runid", "tablename"],
        references: "targets",
        ref_columns: &["runid", "tablename"],
    }],
    append_only: false,
    keep_on_update: &[],
    coalesce_on_update: &[],
};

pub static SOURCETARGETLOADS: TableDef = TableDef {
    name: "sourcetargetloads",
    columns: &[
        req("loadid", LoadId),
        req("runid", RunId),
        req("tablename", Name),
        req("task", Keyword),
        col("targettablename", Name),
        req("status", Keyword),
        col("rowsread", BigInt),
        col("rowswritten", BigInt),
        col("starttime", Timestamp),
        col("endtime", Timestamp),
        col("duration", Seconds),
        col("errormessage", Text),
    ],
    primary_key: &["runid", "tablename", "task"],
    foreign_keys: &[RUN_FK],
    append_only: false,
    keep_on_update: &[],
    coalesce_on_update: &[
        "rowsread",
        "rowswritten",
        "starttime",
        "endtime",
        "duration",
    ],
};

pub static SOURCECONSTRAINTS: TableDef = TableDef {
    name: "sourceconstraints",
    columns: &[
        req("runid", RunId),
        req("tablename", Name),
        req("constrainttype", Keyword),
        req("constraintname", Name),
        col("targetname", Name),
        col("columnlist", Text),
        col("referencedtable", Name),
        req("status", Keyword),
        col("errormessage", Text),
    ],
    primary_key: &["runid", "tablename", "constrainttype", "constraintname"],
    foreign_keys: &[RUN_FK],
    append_only: false,
    keep_on_update: &[],
    coalesce_on_update: &[],
};

pub static EVENTLOG: TableDef = TableDef {
    name: "eventlog",
    columns: &[
        req("eventid", Identity),
        req("eventrunid", RunId),
        req("eventtimestamp", Timestamp),
        req("eventlevel", Keyword),
        req("eventstatus", Keyword),
        col("src_tablename", Name),
        req("eventmessage", Text),
        col("eventdetails", Text),
    ],
    primary_key: &["eventid"],
    foreign_keys: &[ForeignKeyDef {
        name: "fk_eventlog_runs",
        columns: &["eventrunid"],
        references: "runs",
        ref_columns: &["runid"],
    }],
    append_only: true,
    keep_on_update: &[],
    coalesce_on_update: &[],
};

pub static SOURCETARGETDIFF: TableDef = TableDef {
    name: "sourcetargetdiff",
    columns: &[
        req("runid", RunId),
        req("tablename", Name),
        col("targettablename", Name),
        col("sourcerows", BigInt),
        col("targetrows", BigInt),
        col("difference", BigInt),
        col("checksumresult", Keyword),
        col("checkedat", Timestamp),
    ],
    primary_key: &["runid", "tablename"],
    foreign_keys: &[RUN_FK],
    append_only: false,
    keep_on_update: &[],
    coalesce_on_update: &[],
};

/// Every table, parents before children (creation order; drop in reverse).
pub static TABLES: [&TableDef; 9] = [
    &RUNS,
    &SOURCES,
    &TARGETS,
    &SOURCECOLUMNS,
    &TARGETCOLUMNS,
    &SOURCETARGETLOADS,
    &SOURCECONSTRAINTS,
    &EVENTLOG,
    &SOURCETARGETDIFF,
];

/// The sequence load ids come from (`sourcetargetloads.loadid`).
pub const LOAD_SEQUENCE: &str = "seq_id_load";

pub const DIFF_VIEW: &str = "v_sourcetargetdiff";

/// The view's body: portable SQL, the same text on both backends once `{runs}` and
/// `{sourcetargetdiff}` are replaced by the dialect's qualified names.
pub const DIFF_VIEW_BODY: &str = "SELECT d.runid, r.project, r.starttime AS runstarttime, \
     d.tablename, d.targettablename, d.sourcerows, d.targetrows, d.difference, \
     d.checksumresult, \
     CASE WHEN d.targetrows IS NULL THEN 'missing' \
          WHEN d.difference = 0 THEN 'ok' ELSE 'different' END AS diffstatus, \
     d.checkedat \
     FROM {sourcetargetdiff} d JOIN {runs} r ON r.runid = d.runid";

/// A foreign key's name for a table (`{table}` is replaced).
pub fn fk_name(fk: &ForeignKeyDef, table: &str) -> String {
    fk.name.replace("{table}", table)
}
