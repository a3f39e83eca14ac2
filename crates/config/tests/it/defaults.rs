//! Defaults, and real pgferry configs running unchanged.

use std::path::{Path, PathBuf};

use barge_config::{
    parse_str, Binary16UuidMode, BitMode, CleanOrphansMode, CollationMode, Connection, EnumMode,
    FilterMode, IdentifierCase, InvalidValuePolicy, NameCase, NameRules, NulByteMode,
    OnSchemaExists, Overrides, SetMode, SnapshotMode, SourceKind, SpatialMode, TimeMode,
    Validation, ZeroDateMode,
};

use crate::{env, parse, MINIMAL};

#[test]
fn minimal_config_gets_pgferry_defaults() {
    let s = parse(MINIMAL).unwrap();
    assert_eq!(
        s.config_file.as_deref(),
        Some(Path::new("/cfg/migration.toml"))
    );
    assert_eq!(s.base_dir, PathBuf::from("/cfg"));
    assert_eq!(s.schema, "app");
    assert_eq!(s.source.kind, SourceKind::Sqlite);
    assert_eq!(
        s.source.connection,
        Connection::SqliteFile(PathBuf::from("/cfg/source.db"))
    );
    assert_eq!(s.source.charset, None);
    assert_eq!(s.source.source_schema, None);
    assert_eq!(s.on_schema_exists, OnSchemaExists::Error);
    assert!(!s.schema_only && !s.data_only && !s.truncate_before_copy);
    assert_eq!(s.source_snapshot_mode, SnapshotMode::None);
    assert_eq!(s.identifier_case, IdentifierCase::Snake);
    assert!(!s.unlogged_tables);
    assert!(s.preserve_defaults);
    assert!(!s.add_unsigned_checks);
    assert!(s.clean_orphans);
    assert_eq!(s.clean_orphans_mode, CleanOrphansMode::Apply);
    assert_eq!(s.clean_orphans_max_rows, None);
    assert!(!s.replicate_on_update_current_timestamp);
    assert_eq!(s.workers, 4, "the test environment has 4 CPUs");
    assert_eq!(s.index_workers, 4);
    assert_eq!(s.chunk_size, 100_000);
    assert!(s.copy_risk_analysis);
    assert!(!s.resume);
    assert_eq!(s.validation, Validation::None);
    assert_eq!(s.table_filter_mode, FilterMode::Exact);
    assert!(s.include_tables.is_empty() && s.exclude_tables.is_empty());
    assert!(s.exclude_columns.is_empty());
    assert_eq!(s.on_invalid_value, InvalidValuePolicy::Error);
    assert_eq!(s.reject_file, PathBuf::from("/cfg/barge_rejects.jsonl"));
    assert_eq!(s.nul_byte_mode, NulByteMode::Error);
    assert_eq!(s.auth_file, None);
    assert_eq!(s.tracking, None);
    assert!(!s.postgis.enabled && !s.postgis.create_extension);
    assert!(s.hooks.before_data.is_empty() && s.hooks.after_all.is_empty());

    let tm = &s.type_mapping;
    assert!(tm.json_as_jsonb);
    assert!(!tm.unknown_as_text && !tm.datetime_as_timestamptz);
    assert!(tm.sanitize_json_null_bytes);
    assert!(!tm.tinyint1_as_boolean && !tm.binary16_as_uuid && !tm.string_uuid_as_uuid);
    assert_eq!(tm.binary16_uuid_mode, Binary16UuidMode::Rfc4122);
    assert!(!tm.varchar_as_text);
    assert!(tm.widen_unsigned_integers);
    assert_eq!(tm.enum_mode, EnumMode::Text);
    assert_eq!(tm.set_mode, SetMode::Text);
    assert_eq!(tm.bit_mode, BitMode::Bytea);
    assert_eq!(tm.time_mode, TimeMode::Time);
    assert_eq!(tm.zero_date_mode, ZeroDateMode::Null);
    assert_eq!(tm.spatial_mode, SpatialMode::Off);
    assert_eq!(tm.collation_mode, CollationMode::None);
    assert!(tm.collation_map.is_empty() && !tm.ci_as_citext);
    assert!(!tm.nvarchar_as_text && tm.money_as_numeric && !tm.xml_as_text);
}

#[test]
fn default_workers_are_capped_at_eight() {
    let many = env(&[]).with_cpus(64);
    let s = parse_str(
        MINIMAL,
        Path::new("/cfg/m.toml"),
        &Overrides::default(),
        &many,
    )
    .unwrap();
    assert_eq!(s.workers, 8);
    let text = MINIMAL.replacen("schema", "workers = 0\nindex_workers = 3\nschema", 1);
    let s = parse_str(
        &text,
        Path::new("/cfg/m.toml"),
        &Overrides::default(),
        &many,
    )
    .unwrap();
    assert_eq!((s.workers, s.index_workers), (8, 3));
}

#[test]
fn mysql_sources_default_to_check_enums_and_utf8mb4() {
    let text = r#"
schema = "app"
[source]
type = "mysql"
dsn = "root:root@tcp(127.0.0.1:3306)/shop"
[target]
dsn = "postgres://postgres@127.0.0.1:5432/target_db?sslmode=disable"
"#;
    let s = parse(text).unwrap();
    assert_eq!(s.source.kind, SourceKind::Mysql);
    assert_eq!(s.type_mapping.enum_mode, EnumMode::Check);
    assert_eq!(s.source.charset.as_deref(), Some("utf8mb4"));
    assert_eq!(
        s.source.connection.redacted(),
        "root@tcp(127.0.0.1:3306)/shop"
    );
}

#[test]
fn mssql_source_schema_defaults_to_dbo() {
    let text = r#"
schema = "app"
[source]
type = "mssql"
dsn = "sqlserver://sa:pw@host:1433?database=shop"
[target]
dsn = "host=db dbname=target user=app password=pw"
"#;
    let s = parse(text).unwrap();
    assert_eq!(s.source.source_schema.as_deref(), Some("dbo"));
    assert_eq!(
        s.target.connection.redacted(),
        "host=db dbname=target user=app"
    );
}

/// pgferry's `examples/sqlite/hooks/migration.toml`, verbatim.
const PGFERRY_SQLITE_HOOKS: &str = r#"schema = "app"
on_schema_exists = "error"
source_snapshot_mode = "none"
unlogged_tables = false
clean_orphans = false
preserve_defaults = true

[source]
type = "sqlite"
dsn = "./source.db"

[target]
dsn = "postgres://postgres:postgres@127.0.0.1:5432/target_db?sslmode=disable"

[type_mapping]
json_as_jsonb = true
sanitize_json_null_bytes = true
unknown_as_text = false

[hooks]
before_data = ["before_data.sql"]
after_data = ["after_data.sql"]
before_fk = ["before_fk.sql"]
after_all = ["after_all.sql"]
"#;

/// pgferry's `examples/sqlite/chunked-resume/migration.toml`, verbatim.
const PGFERRY_SQLITE_CHUNKED_RESUME: &str = r#"schema = "app"
on_schema_exists = "error"
unlogged_tables = false
chunk_size = 100000
resume = true
validation = "row_count"

[source]
type = "sqlite"
dsn = "/path/to/database.db"

[target]
dsn = "postgres://postgres:postgres@127.0.0.1:5432/target_db?sslmode=disable"
"#;

/// pgferry's `examples/sqlite/recreate-fast/migration.toml`, verbatim.
const PGFERRY_SQLITE_RECREATE_FAST: &str = r#"schema = "app"
on_schema_exists = "recreate"
source_snapshot_mode = "none"
unlogged_tables = true
clean_orphans = true
preserve_defaults = true

[source]
type = "sqlite"
dsn = "./source.db"

[target]
dsn = "postgres://postgres:postgres@127.0.0.1:5432/target_db?sslmode=disable"

[type_mapping]
json_as_jsonb = true
sanitize_json_null_bytes = true
unknown_as_text = false

[hooks]
before_data = []
after_data = []
before_fk = []
after_all = []
"#;

#[test]
fn pgferry_sqlite_hooks_example_runs_unchanged() {
    let s = parse_str(
        PGFERRY_SQLITE_HOOKS,
        Path::new("/work/examples/sqlite/hooks/migration.toml"),
        &Overrides::default(),
        &env(&[]),
    )
    .unwrap();
    let dir = Path::new("/work/examples/sqlite/hooks");
    assert_eq!(
        s.source.connection,
        Connection::SqliteFile(dir.join("source.db"))
    );
    assert!(!s.clean_orphans);
    assert_eq!(s.hooks.before_data, [dir.join("before_data.sql")]);
    assert_eq!(s.hooks.after_data, [dir.join("after_data.sql")]);
    assert_eq!(s.hooks.before_fk, [dir.join("before_fk.sql")]);
    assert_eq!(s.hooks.after_all, [dir.join("after_all.sql")]);
    assert_eq!(
        s.target.connection.redacted(),
        "postgres://postgres@127.0.0.1:5432/target_db?sslmode=disable"
    );
}

#[test]
fn pgferry_sqlite_chunked_resume_example_runs_unchanged() {
    let s = parse(PGFERRY_SQLITE_CHUNKED_RESUME).unwrap();
    assert!(s.resume);
    assert_eq!(s.validation, Validation::RowCount);
    assert_eq!(s.chunk_size, 100_000);
    assert_eq!(
        s.source.connection,
        Connection::SqliteFile(PathBuf::from("/path/to/database.db"))
    );
}

#[test]
fn pgferry_sqlite_recreate_fast_example_runs_unchanged() {
    let s = parse(PGFERRY_SQLITE_RECREATE_FAST).unwrap();
    assert_eq!(s.on_schema_exists, OnSchemaExists::Recreate);
    assert!(s.unlogged_tables);
}

/// Every key pgferry documents, for a MySQL source (pgferry's configuration reference).
const PGFERRY_FULL_MYSQL: &str = r#"
schema = "app"
table_filter_mode = "glob"
column_filter_mode = "exact"
include_tables = ["orders", "order_*"]
exclude_tables = ["order_tmp"]
exclude_columns = ["legacy_flag", "orders.internal_note"]
on_schema_exists = "use"
schema_only = false
data_only = true
truncate_before_copy = true
source_snapshot_mode = "single_tx"
identifier_case = "lower"
unlogged_tables = false
preserve_defaults = false
add_unsigned_checks = true
clean_orphans = true
clean_orphans_mode = "report"
clean_orphans_max_rows = 10000
replicate_on_update_current_timestamp = true
workers = 6
index_workers = 2
chunk_size = 50000
copy_risk_analysis = false
resume = false
validation = "sampled_hash"

[source]
type = "mysql"
dsn = "root:root@tcp(127.0.0.1:3306)/source_db"
charset = "latin1"

[target]
dsn = "postgres://postgres:postgres@127.0.0.1:5432/target_db?sslmode=disable"

[postgis]
enabled = true
create_extension = true

[type_mapping]
tinyint1_as_boolean = true
binary16_as_uuid = true
datetime_as_timestamptz = true
varchar_as_text = true
json_as_jsonb = false
widen_unsigned_integers = false
sanitize_json_null_bytes = false
unknown_as_text = true
enum_mode = "native"
set_mode = "text_array_check"
bit_mode = "varbit"
string_uuid_as_uuid = true
binary16_uuid_mode = "mysql_uuid_to_bin_swap"
time_mode = "interval"
zero_date_mode = "error"
spatial_mode = "off"
collation_mode = "auto"
ci_as_citext = true

[type_mapping.collation_map]
utf8mb4_general_ci = "und-x-icu"

[hooks]
before_data = ["sql/before.sql"]
after_data = []
before_fk = []
after_all = ["/abs/after_all.sql"]
"#;

#[test]
fn every_pgferry_key_is_accepted() {
    let s = parse(PGFERRY_FULL_MYSQL).unwrap();
    assert_eq!(s.table_filter_mode, FilterMode::Glob);
    assert_eq!(s.include_tables, ["orders", "order_*"]);
    assert_eq!(s.on_schema_exists, OnSchemaExists::Use);
    assert!(s.data_only && s.truncate_before_copy);
    assert_eq!(s.source_snapshot_mode, SnapshotMode::SingleTx);
    assert_eq!(s.identifier_case, IdentifierCase::Lower);
    assert_eq!(s.clean_orphans_mode, CleanOrphansMode::Report);
    assert_eq!(s.clean_orphans_max_rows, Some(10_000));
    assert_eq!((s.workers, s.index_workers, s.chunk_size), (6, 2, 50_000));
    assert!(!s.copy_risk_analysis);
    assert_eq!(s.validation, Validation::SampledHash);
    assert_eq!(s.source.charset.as_deref(), Some("latin1"));
    assert!(s.postgis.enabled && s.postgis.create_extension);
    let tm = &s.type_mapping;
    assert!(tm.tinyint1_as_boolean && tm.binary16_as_uuid && tm.string_uuid_as_uuid);
    assert_eq!(tm.binary16_uuid_mode, Binary16UuidMode::MysqlUuidToBinSwap);
    assert_eq!(tm.enum_mode, EnumMode::Native);
    assert_eq!(tm.set_mode, SetMode::TextArrayCheck);
    assert_eq!(tm.bit_mode, BitMode::Varbit);
    assert_eq!(tm.time_mode, TimeMode::Interval);
    assert_eq!(tm.zero_date_mode, ZeroDateMode::Error);
    assert_eq!(tm.collation_mode, CollationMode::Auto);
    assert_eq!(tm.collation_map["utf8mb4_general_ci"], "und-x-icu");
    assert_eq!(s.hooks.before_data, [PathBuf::from("/cfg/sql/before.sql")]);
    assert_eq!(s.hooks.after_all, [PathBuf::from("/abs/after_all.sql")]);
}

#[test]
fn mssql_only_type_options_are_accepted_for_mssql() {
    let text = r#"
schema = "app"
[source]
type = "mssql"
dsn = "sqlserver://sa:pw@host:1433?database=shop"
source_schema = "sales"
[target]
dsn = "postgres://app@db/target"
[type_mapping]
nvarchar_as_text = true
money_as_numeric = false
xml_as_text = true
spatial_mode = "wkt_text"
"#;
    let s = parse(text).unwrap();
    assert_eq!(s.source.source_schema.as_deref(), Some("sales"));
    assert!(s.type_mapping.nvarchar_as_text && !s.type_mapping.money_as_numeric);
    assert_eq!(s.type_mapping.spatial_mode, SpatialMode::WktText);
}

#[test]
fn older_snake_case_identifiers_key_still_works() {
    let off = MINIMAL.replacen("schema", "snake_case_identifiers = false\nschema", 1);
    assert_eq!(parse(&off).unwrap().identifier_case, IdentifierCase::Lower);
    let on = MINIMAL.replacen("schema", "snake_case_identifiers = true\nschema", 1);
    assert_eq!(parse(&on).unwrap().identifier_case, IdentifierCase::Snake);
}

#[test]
fn barge_keys() {
    let text = MINIMAL.replacen(
        "schema",
        "on_invalid_value = \"null\"\nreject_file = \"out/rejects.jsonl\"\nnul_byte_mode = \"strip\"\nschema",
        1,
    );
    let s = parse(&text).unwrap();
    assert_eq!(s.on_invalid_value, InvalidValuePolicy::Null);
    assert_eq!(s.reject_file, PathBuf::from("/cfg/out/rejects.jsonl"));
    assert_eq!(s.nul_byte_mode, NulByteMode::Strip);
}

#[test]
fn table_and_column_filters() {
    let text = MINIMAL.replacen(
        "schema",
        "table_filter_mode = \"glob\"\ninclude_tables = [\"order*\", \"Customers\"]\nexclude_tables = [\"*_tmp\"]\nexclude_columns = [\"secret\", \"orders.note\"]\nschema",
        1,
    );
    let s = parse(&text).unwrap();
    let rules = NameRules::for_source(s.source.kind);
    assert!(s.table_selected("orders", rules));
    assert!(s.table_selected("ORDER_ITEMS", rules));
    assert!(s.table_selected("customers", rules));
    assert!(!s.table_selected("order_tmp", rules));
    assert!(!s.table_selected("products", rules));
    assert!(s.column_excluded("anything", "Secret", rules));
    assert!(s.column_excluded("Orders", "note", rules));
    assert!(!s.column_excluded("customers", "note", rules));
    let unmatched: Vec<String> = s
        .unmatched_filters(
            &[("orders", vec!["id", "note"]), ("products", vec!["id"])],
            rules,
        )
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        unmatched,
        [
            "`include_tables` entry `Customers` matches no table of the source",
            "`exclude_tables` entry `*_tmp` matches no table of the source",
            "`exclude_columns` entry `secret` matches no column of any table",
        ]
    );

    // A MySQL source tells `Users` from `users` (lower_case_table_names = 0).
    let mysql = NameRules {
        tables: NameCase::Sensitive,
        columns: NameCase::Insensitive,
    };
    assert!(!s.table_selected("CUSTOMERS", mysql));
    assert!(s.table_selected("Customers", mysql));
    assert!(s.column_excluded("orders", "NOTE", mysql));
    assert!(!s.column_excluded("Orders", "note", mysql));

    let everything = parse(MINIMAL).unwrap();
    assert!(everything.table_selected("any_table", rules));
}
