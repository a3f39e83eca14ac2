//! The validated settings every later stage reads, and their option types.
//!
//! Every choice is a Rust enum, so a misspelt value fails while the TOML is read (with its line
//! and column) and code below never compares strings. Spellings are pgferry's.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::connection::{Connection, DatabaseKind, SourceKind};
use crate::filter::{near_matches, FilterMode, NameRules};

macro_rules! keyword_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// The spelling used in TOML.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

keyword_enum! {
    /// What to do when the target schema already exists (`on_schema_exists`).
    pub enum OnSchemaExists {
        /// Stop before touching anything (default).
        Error = "error",
        /// `DROP SCHEMA ... CASCADE`, then create it again.
        Recreate = "recreate",
        /// Use the existing schema, which must be empty.
        Use = "use",
    }
}

keyword_enum! {
    /// What to do when the source account cannot see all of the source
    /// (`on_partial_visibility`): tables, columns, keys or CHECKs its privileges hide.
    pub enum PartialVisibility {
        /// Stop before the plan is used, naming what is hidden and the GRANT that shows it.
        Error = "error",
        /// Migrate what the account sees; every hidden object is a finding (plan, summary,
        /// tracking event log).
        Accept = "accept",
    }
}

keyword_enum! {
    /// What reads a MySQL/MariaDB source's rows (`[source] row_reader`).
    pub enum RowReader {
        /// barge's lean protocol reader where it applies (plain TCP), else the driver.
        Auto = "auto",
        /// Always the mysql_async driver: slower, and independent of barge's reader (to
        /// check one against the other, e.g. with `barge validate`).
        Driver = "driver",
    }
}

keyword_enum! {
    /// Source read consistency (`source_snapshot_mode`).
    pub enum SnapshotMode {
        /// Each table read on its own connection (default).
        None = "none",
        /// All tables read in one read-only transaction (MySQL, MariaDB, MSSQL).
        SingleTx = "single_tx",
    }
}

keyword_enum! {
    /// How source identifiers become PostgreSQL names (`identifier_case`, or the older
    /// `snake_case_identifiers`).
    pub enum IdentifierCase {
        /// `OrderItems` -> `order_items` (default).
        Snake = "snake",
        /// `OrderItems` -> `orderitems`.
        Lower = "lower",
        /// `OrderItems` stays `OrderItems` (always quoted).
        Preserve = "preserve",
    }
}

keyword_enum! {
    /// What orphan cleanup does before foreign keys are created (`clean_orphans_mode`).
    pub enum CleanOrphansMode {
        /// Delete or null the orphaned rows (default).
        Apply = "apply",
        /// Only report them, then stop before creating foreign keys.
        Report = "report",
    }
}

keyword_enum! {
    /// Post-load validation (`validation`).
    pub enum Validation {
        None = "none",
        RowCount = "row_count",
        /// Every value of every row, by canonical hashes per chunk on both sides.
        Checksum = "checksum",
        SampledHash = "sampled_hash",
    }
}

keyword_enum! {
    /// Who computes the source side of `validation = "checksum"` (`checksum_source`).
    pub enum ChecksumSource {
        /// barge, from the output of the encoder the copy used (compares the load).
        Barge = "barge",
        /// The source database, in its own SQL from its own values (compares the conversion).
        Database = "database",
    }
}

keyword_enum! {
    /// What to do with a source value that cannot be converted (`on_invalid_value`).
    pub enum InvalidValuePolicy {
        /// Stop the migration and name table, column and row (default).
        Error = "error",
        /// Load NULL and record the value in the reject file.
        Null = "null",
    }
}

keyword_enum! {
    /// What to do with NUL bytes in text, which PostgreSQL rejects (`nul_byte_mode`).
    pub enum NulByteMode {
        /// Stop and name the value (default).
        Error = "error",
        /// Remove the NUL bytes.
        Strip = "strip",
        /// Replace each NUL byte with U+FFFD.
        Replace = "replace",
    }
}

keyword_enum! {
    /// MySQL `ENUM` columns (`type_mapping.enum_mode`).
    pub enum EnumMode {
        Text = "text",
        Check = "check",
        Native = "native",
    }
}

keyword_enum! {
    /// MySQL `SET` columns (`type_mapping.set_mode`).
    pub enum SetMode {
        Text = "text",
        TextArray = "text_array",
        TextArrayCheck = "text_array_check",
    }
}

keyword_enum! {
    /// MySQL `BIT(n)` columns (`type_mapping.bit_mode`).
    pub enum BitMode {
        Bytea = "bytea",
        Bit = "bit",
        Varbit = "varbit",
    }
}

keyword_enum! {
    /// Byte order of `BINARY(16)` UUIDs (`type_mapping.binary16_uuid_mode`).
    pub enum Binary16UuidMode {
        Rfc4122 = "rfc4122",
        MysqlUuidToBinSwap = "mysql_uuid_to_bin_swap",
    }
}

keyword_enum! {
    /// MySQL `TIME` columns (`type_mapping.time_mode`).
    pub enum TimeMode {
        Text = "text",
        Time = "time",
        Interval = "interval",
    }
}

keyword_enum! {
    /// MySQL zero dates such as `0000-00-00` (`type_mapping.zero_date_mode`).
    pub enum ZeroDateMode {
        Null = "null",
        Error = "error",
    }
}

keyword_enum! {
    /// Spatial columns when PostGIS is not used (`type_mapping.spatial_mode`).
    pub enum SpatialMode {
        Off = "off",
        WkbBytea = "wkb_bytea",
        WktText = "wkt_text",
    }
}

keyword_enum! {
    /// Collation mapping for MySQL-family text columns (`type_mapping.collation_mode`).
    pub enum CollationMode {
        None = "none",
        Auto = "auto",
    }
}

keyword_enum! {
    /// What a run does to the tracking database's existing objects (`[tracking] mode`,
    /// `--migration_db_mode`).
    pub enum TrackingMode {
        /// Keep every earlier run's records (default; `--resume` needs them).
        Preserve = "preserve",
        /// Delete every record, keep the tables.
        Truncate = "truncate",
        /// Drop the tracking tables, view and sequence, and create them again.
        Drop = "drop",
    }
}

/// Type mapping choices (`[type_mapping]`). Defaults are pgferry's; see
/// [`TypeMapping::defaults_for`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeMapping {
    pub unknown_as_text: bool,
    pub json_as_jsonb: bool,
    pub datetime_as_timestamptz: bool,
    pub sanitize_json_null_bytes: bool,
    // MySQL and MariaDB only.
    pub tinyint1_as_boolean: bool,
    pub binary16_as_uuid: bool,
    pub binary16_uuid_mode: Binary16UuidMode,
    pub string_uuid_as_uuid: bool,
    pub varchar_as_text: bool,
    pub widen_unsigned_integers: bool,
    pub enum_mode: EnumMode,
    pub set_mode: SetMode,
    pub bit_mode: BitMode,
    pub time_mode: TimeMode,
    pub zero_date_mode: ZeroDateMode,
    pub collation_mode: CollationMode,
    pub collation_map: BTreeMap<String, String>,
    pub ci_as_citext: bool,
    // MySQL family and MSSQL.
    pub spatial_mode: SpatialMode,
    // MSSQL only.
    pub nvarchar_as_text: bool,
    pub money_as_numeric: bool,
    pub xml_as_text: bool,
}

impl TypeMapping {
    /// pgferry's defaults; only `enum_mode` depends on the source (`check` for MySQL and
    /// MariaDB, `text` otherwise).
    pub fn defaults_for(kind: SourceKind) -> Self {
        Self {
            unknown_as_text: false,
            json_as_jsonb: true,
            datetime_as_timestamptz: false,
            sanitize_json_null_bytes: true,
            tinyint1_as_boolean: false,
            binary16_as_uuid: false,
            binary16_uuid_mode: Binary16UuidMode::Rfc4122,
            string_uuid_as_uuid: false,
            varchar_as_text: false,
            widen_unsigned_integers: true,
            enum_mode: if kind.is_mysql_family() {
                EnumMode::Check
            } else {
                EnumMode::Text
            },
            set_mode: SetMode::Text,
            bit_mode: BitMode::Bytea,
            time_mode: TimeMode::Time,
            zero_date_mode: ZeroDateMode::Null,
            collation_mode: CollationMode::None,
            collation_map: BTreeMap::new(),
            ci_as_citext: false,
            spatial_mode: SpatialMode::Off,
            nvarchar_as_text: false,
            money_as_numeric: true,
            xml_as_text: false,
        }
    }
}

/// SQL files run at fixed points of a migration (`[hooks]`), absolute paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hooks {
    /// After tables are created, before data is copied.
    pub before_data: Vec<PathBuf>,
    /// After data is copied, before constraints.
    pub after_data: Vec<PathBuf>,
    /// After primary keys and indexes, before foreign keys.
    pub before_fk: Vec<PathBuf>,
    /// At the very end.
    pub after_all: Vec<PathBuf>,
}

/// `[postgis]` (MySQL and MariaDB sources).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PostGis {
    pub enabled: bool,
    pub create_extension: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSettings {
    pub kind: SourceKind,
    pub connection: Connection,
    /// The auth id the connection came from, if any.
    pub auth_id: Option<String>,
    /// Connection character set; `Some("utf8mb4")` by default for MySQL and MariaDB, `None`
    /// for other sources.
    pub charset: Option<String>,
    /// Schema to read; `Some("dbo")` by default for MSSQL, `None` for other sources.
    pub source_schema: Option<String>,
    /// What reads a MySQL/MariaDB source's rows; `Auto` for other sources.
    pub row_reader: RowReader,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSettings {
    /// Always a PostgreSQL connection.
    pub connection: Connection,
    pub auth_id: Option<String>,
}

/// The database barge records its runs in (`[tracking]` or the command line's migration
/// database auth id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingSettings {
    /// [`DatabaseKind::Postgres`] or [`DatabaseKind::Mssql`].
    pub kind: DatabaseKind,
    pub connection: Connection,
    pub auth_id: Option<String>,
    pub mode: TrackingMode,
    /// Label recorded with every run (`[tracking] project`, `--project`).
    pub project: Option<String>,
}

/// One migration's validated settings. `Debug` is safe to log: it never shows a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The TOML file, absolute; `None` when everything came from the command line.
    pub config_file: Option<PathBuf>,
    /// Folder of the config file (or the working directory): relative paths resolve here.
    pub base_dir: PathBuf,
    /// The credentials file, absolute, when one is configured.
    pub auth_file: Option<PathBuf>,

    pub source: SourceSettings,
    pub target: TargetSettings,
    pub tracking: Option<TrackingSettings>,

    /// Target PostgreSQL schema.
    pub schema: String,
    pub on_schema_exists: OnSchemaExists,
    /// `on_schema_exists = "recreate"` may drop and recreate schema `public`.
    pub allow_recreate_public: bool,
    pub schema_only: bool,
    pub data_only: bool,
    pub truncate_before_copy: bool,
    pub source_snapshot_mode: SnapshotMode,
    pub identifier_case: IdentifierCase,
    pub unlogged_tables: bool,
    pub preserve_defaults: bool,
    pub add_unsigned_checks: bool,
    pub clean_orphans: bool,
    pub clean_orphans_mode: CleanOrphansMode,
    /// Abort orphan cleanup above this many rows; `None` means no cap (TOML `0`).
    pub clean_orphans_max_rows: Option<u64>,
    pub replicate_on_update_current_timestamp: bool,
    /// Parallel copy workers, at least 1.
    pub workers: usize,
    /// Parallel index builds, at least 1.
    pub index_workers: usize,
    /// `maintenance_work_mem` of barge's PostgreSQL sessions (what an index build may sort
    /// in memory), as PostgreSQL spells it (`256MB`); `None` keeps the server's own setting.
    pub maintenance_work_mem: Option<String>,
    /// Rows (key-range width) per copy chunk, at least 1.
    pub chunk_size: u64,
    pub copy_risk_analysis: bool,
    pub resume: bool,
    pub validation: Validation,
    /// Who computes the checksum's source side (`checksum_source`).
    pub checksum_source: ChecksumSource,

    pub table_filter_mode: FilterMode,
    pub include_tables: Vec<String>,
    pub exclude_tables: Vec<String>,
    pub column_filter_mode: FilterMode,
    /// `Column` (any table) or `Table.Column` entries.
    pub exclude_columns: Vec<String>,

    pub type_mapping: TypeMapping,
    pub postgis: PostGis,
    pub hooks: Hooks,

    pub on_invalid_value: InvalidValuePolicy,
    /// What hides from the source account: an error (default), or findings.
    pub on_partial_visibility: PartialVisibility,
    /// Where rejected values are recorded (JSON lines), absolute.
    pub reject_file: PathBuf,
    pub nul_byte_mode: NulByteMode,
}

impl Settings {
    /// Whether source table `name` is migrated: listed in `include_tables` (or that list is
    /// empty) and not listed in `exclude_tables`, names compared as the source does.
    pub fn table_selected(&self, name: &str, rules: NameRules) -> bool {
        let mode = self.table_filter_mode;
        let case = rules.tables;
        let included = self.include_tables.is_empty()
            || self
                .include_tables
                .iter()
                .any(|p| mode.matches(p, name, case));
        included
            && !self
                .exclude_tables
                .iter()
                .any(|p| mode.matches(p, name, case))
    }

    /// Whether column `column` of source table `table` is left out by `exclude_columns`.
    pub fn column_excluded(&self, table: &str, column: &str, rules: NameRules) -> bool {
        let mode = self.column_filter_mode;
        self.exclude_columns
            .iter()
            .any(|entry| match entry.split_once('.') {
                Some((t, c)) => {
                    mode.matches(t, table, rules.tables) && mode.matches(c, column, rules.columns)
                }
                None => mode.matches(entry, column, rules.columns),
            })
    }

    /// Every `include_tables`, `exclude_tables` and `exclude_columns` entry that matches
    /// nothing in `source`: `(table name, its column names)` of every source table. A filter
    /// that matches nothing is almost always a typo, so callers refuse to run.
    pub fn unmatched_filters(
        &self,
        source: &[(&str, Vec<&str>)],
        rules: NameRules,
    ) -> Vec<UnmatchedFilter> {
        let tables: Vec<&str> = source.iter().map(|(t, _)| *t).collect();
        let mode = self.table_filter_mode;
        let mut out = Vec::new();
        let lists = [
            ("include_tables", &self.include_tables),
            ("exclude_tables", &self.exclude_tables),
        ];
        for (key, entries) in lists {
            for entry in entries {
                if !tables.iter().any(|t| mode.matches(entry, t, rules.tables)) {
                    out.push(UnmatchedFilter {
                        key,
                        entry: entry.clone(),
                        table: None,
                        kind: UnmatchedKind::NoTable,
                        near: near_matches(entry, mode, &tables, rules.tables),
                    });
                }
            }
        }
        let mode = self.column_filter_mode;
        for entry in &self.exclude_columns {
            let unmatched = |kind, table: Option<&str>, near| UnmatchedFilter {
                key: "exclude_columns",
                entry: entry.clone(),
                table: table.map(str::to_string),
                kind,
                near,
            };
            match entry.split_once('.') {
                Some((t, c)) => {
                    let hits: Vec<&(&str, Vec<&str>)> = source
                        .iter()
                        .filter(|(name, _)| mode.matches(t, name, rules.tables))
                        .collect();
                    if hits.is_empty() {
                        out.push(unmatched(
                            UnmatchedKind::NoTable,
                            None,
                            near_matches(t, mode, &tables, rules.tables),
                        ));
                        continue;
                    }
                    let columns: Vec<&str> = hits
                        .iter()
                        .flat_map(|(_, cols)| cols.iter().copied())
                        .collect();
                    if !columns
                        .iter()
                        .any(|col| mode.matches(c, col, rules.columns))
                    {
                        let near = near_matches(c, mode, &columns, rules.columns);
                        out.push(match hits.as_slice() {
                            [one] => unmatched(UnmatchedKind::NoColumn, Some(one.0), near),
                            _ if hits.len() == source.len() => {
                                unmatched(UnmatchedKind::NoColumnAnywhere, None, near)
                            }
                            _ => unmatched(UnmatchedKind::NoColumn, None, near),
                        });
                    }
                }
                None => {
                    let columns: Vec<&str> = source
                        .iter()
                        .flat_map(|(_, cols)| cols.iter().copied())
                        .collect();
                    if !columns
                        .iter()
                        .any(|col| mode.matches(entry, col, rules.columns))
                    {
                        out.push(unmatched(
                            UnmatchedKind::NoColumnAnywhere,
                            None,
                            near_matches(entry, mode, &columns, rules.columns),
                        ));
                    }
                }
            }
        }
        out
    }
}

/// A filter entry that matches nothing in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmatchedFilter {
    /// `include_tables`, `exclude_tables` or `exclude_columns`.
    pub key: &'static str,
    pub entry: String,
    /// The one table a `Table.Column` entry names, when it names exactly one.
    pub table: Option<String>,
    pub kind: UnmatchedKind,
    /// Names the user may have meant (another case, a typo away).
    pub near: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnmatchedKind {
    /// No source table matches (the entry, or the table part of `Table.Column`).
    NoTable,
    /// The table part matches, but none of its tables has a matching column.
    NoColumn,
    /// A bare `Column` entry that no table has.
    NoColumnAnywhere,
}

impl fmt::Display for UnmatchedFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (key, entry) = (self.key, &self.entry);
        match (self.kind, &self.table) {
            (UnmatchedKind::NoTable, _) => {
                write!(f, "`{key}` entry `{entry}` matches no table of the source")?
            }
            (UnmatchedKind::NoColumn, Some(t)) => {
                write!(f, "`{key}` entry `{entry}`: table `{t}` has no such column")?
            }
            (UnmatchedKind::NoColumn, None) => write!(
                f,
                "`{key}` entry `{entry}`: none of the tables it names has such a column"
            )?,
            (UnmatchedKind::NoColumnAnywhere, _) => {
                write!(f, "`{key}` entry `{entry}` matches no column of any table")?
            }
        }
        if !self.near.is_empty() {
            let names: Vec<String> = self.near.iter().map(|n| format!("`{n}`")).collect();
            write!(f, "; did you mean {}?", names.join(" or "))?;
        }
        Ok(())
    }
}
