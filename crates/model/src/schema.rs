//! Tables, columns, keys, indexes and the objects barge reports but does not migrate.

use crate::{DataType, Expr, Finding, Literal};
use serde::Serialize;

/// Everything a source holds that matters to a migration.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Schema {
    pub tables: Vec<Table>,
    pub views: Vec<SourceObject>,
    pub triggers: Vec<SourceObject>,
    pub routines: Vec<SourceObject>,
    /// Standalone sequences (MariaDB `CREATE SEQUENCE`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sequences: Vec<Sequence>,
    /// Findings raised while reading the source and mapping its types.
    pub findings: Vec<Finding>,
    /// Index names are unique per table in the source (MySQL), not per schema as in
    /// PostgreSQL (and SQLite): target index names are then prefixed with their table's.
    pub index_names_per_table: bool,
    /// What the source holds that barge cannot see (hidden by the account's privileges, or
    /// unreadable in the file), which the migration would miss: a run stops on these unless
    /// `on_partial_visibility = "accept"` turns them into findings.
    #[serde(skip)]
    pub hidden: Vec<Finding>,
    /// What makes everything visible (a GRANT statement), when one thing does.
    #[serde(skip)]
    pub visibility_fix: Option<String>,
}

impl Schema {
    pub fn table(&self, source_name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == source_name)
    }
}

/// A sequence and where it stands: the next value it hands out is `next`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sequence {
    pub name: String,
    pub target_name: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cycle: bool,
    /// The next value the source would hand out (MariaDB's `next_not_cached_value`).
    pub next: i64,
}

/// A view, trigger or routine: reported with its source SQL so the user can recreate it.
#[derive(Debug, Clone, Serialize)]
pub struct SourceObject {
    pub name: String,
    /// Table the object belongs to (triggers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    pub sql: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// Name in the source.
    pub name: String,
    /// Name in PostgreSQL, set by [`crate::naming::assign_target_names`].
    pub target_name: String,
    pub columns: Vec<Column>,
    pub primary_key: Option<Key>,
    pub unique_keys: Vec<Key>,
    pub indexes: Vec<Index>,
    pub foreign_keys: Vec<ForeignKey>,
    pub checks: Vec<Check>,
    pub comment: Option<String>,
    /// Row count when cheaply known (exact for SQLite after a count, estimated elsewhere).
    pub row_count: Option<u64>,
    /// How the source can split the table into balanced chunks.
    pub chunking: Chunking,
    /// The source's next auto-increment value (MySQL's AUTO_INCREMENT counter), so the
    /// identity does not hand out ids of rows deleted in the source.
    pub next_identity: Option<u64>,
}

impl Table {
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        Table {
            target_name: name.clone(),
            name,
            columns: Vec::new(),
            primary_key: None,
            unique_keys: Vec::new(),
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
            comment: None,
            row_count: None,
            chunking: Chunking::Stream,
            next_identity: None,
        }
    }

    pub fn column(&self, source_name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == source_name)
    }

    /// Target name of a column given its source name (the source name if unknown).
    pub fn target_column<'a>(&'a self, source_name: &'a str) -> &'a str {
        self.column(source_name)
            .map(|c| c.target_name.as_str())
            .unwrap_or(source_name)
    }
}

/// How a table's rows can be read in parallel pieces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Chunking {
    /// An integer key (SQLite rowid, or a single integer primary key) read in ranges.
    IntegerKey { column: Option<String> },
    /// No usable key: the table is copied as one stream.
    Stream,
}

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub name: String,
    pub target_name: String,
    /// The type as the source declares it, for reports.
    pub source_type: String,
    pub data_type: DataType,
    pub nullable: bool,
    pub default: Option<DefaultValue>,
    pub generated: Option<Generated>,
    /// Auto-increment in the source: becomes an identity column.
    pub identity: bool,
    pub comment: Option<String>,
    /// MySQL `ON UPDATE CURRENT_TIMESTAMP`: set to the current time by an UPDATE that changes
    /// the row without setting this column (emulated by a trigger under
    /// `replicate_on_update_current_timestamp`).
    pub on_update_now: bool,
    /// The PostgreSQL collation of a text column, when it is not the database's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collation: Option<Collation>,
}

/// A text column's collation in PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Collation {
    /// An existing PostgreSQL collation, by name (`C`, `en-x-icu`, one from `collation_map`).
    Named(String),
    /// The nondeterministic ICU collation barge creates in the target schema: equal when
    /// equal ignoring case, and also accents unless `accents` (MySQL `_ci` / `_as_ci`).
    CaseInsensitive { accents: bool },
}

impl Collation {
    /// The name barge gives the collation it creates.
    pub fn created_name(&self) -> Option<&'static str> {
        match self {
            Collation::Named(_) => None,
            Collation::CaseInsensitive { accents: false } => Some("barge_ci_ai"),
            Collation::CaseInsensitive { accents: true } => Some("barge_ci"),
        }
    }
}

impl Column {
    /// Is the column loaded by COPY? A generated column whose expression was translated is
    /// computed by PostgreSQL instead (`GENERATED ALWAYS AS (...) STORED` refuses values).
    pub fn is_copied(&self) -> bool {
        !matches!(&self.generated, Some(Generated { expr: Some(_), .. }))
    }

    pub fn new(
        name: impl Into<String>,
        source_type: impl Into<String>,
        data_type: DataType,
    ) -> Self {
        let name = name.into();
        Column {
            target_name: name.clone(),
            name,
            source_type: source_type.into(),
            data_type,
            nullable: true,
            default: None,
            generated: None,
            identity: false,
            comment: None,
            on_update_now: false,
            collation: None,
        }
    }
}

/// A column default, already translated out of the source's dialect.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultValue {
    Literal(Literal),
    CurrentTimestamp,
    CurrentDate,
    CurrentTime,
    /// Any other translatable expression.
    Expr(Expr),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Generated {
    /// Translated expression, when translation succeeded.
    pub expr: Option<Expr>,
    /// The source's own text of the expression.
    pub source_sql: String,
    pub stored: bool,
}

/// A primary or unique key: an ordered list of source column names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Key {
    pub name: Option<String>,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Index {
    pub name: String,
    pub target_name: String,
    pub unique: bool,
    pub parts: Vec<IndexPart>,
    /// Partial-index predicate.
    pub predicate: Option<Expr>,
    /// The access method; B-tree unless the source index needs another.
    #[serde(skip_serializing_if = "IndexMethod::is_btree")]
    pub method: IndexMethod,
}

/// How an index is built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexMethod {
    #[default]
    Btree,
    /// GiST (spatial indexes).
    Gist,
    /// GIN (full-text indexes).
    Gin,
}

impl IndexMethod {
    pub fn is_btree(&self) -> bool {
        *self == IndexMethod::Btree
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexPart {
    Column { name: String, descending: bool },
    Expr { expr: Expr, descending: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FkAction {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignKey {
    pub name: Option<String>,
    pub columns: Vec<String>,
    /// Source name of the referenced table.
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    pub on_delete: FkAction,
    pub on_update: FkAction,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub name: Option<String>,
    pub expr: Expr,
}
