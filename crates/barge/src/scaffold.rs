//! Starter files barge writes for the user: the commented `migration.toml` of `barge init`
//! (every key at its default, so a new user starts from a file that parses), and the hook
//! skeletons of `barge plan --output-dir` for the objects barge does not migrate.

/// The starter configuration for a source type (`sqlite`, `mysql`, `mariadb`).
pub fn template(source: &str) -> String {
    let (dsn, source_notes, type_mapping) = match source {
        "sqlite" => (
            "data/app.sqlite",
            "# A path to the SQLite file, relative to this file's folder. It is opened read-only.",
            SQLITE_TYPES,
        ),
        _ => (
            "mysql://app:$env{MYSQL_PWD}@127.0.0.1:3306/shop",
            "# A mysql:// URL; $env{VAR} is replaced by the environment variable.",
            MYSQL_TYPES,
        ),
    };
    format!(
        r#"# barge migration configuration ({source} -> PostgreSQL).
# Every key is shown at its default; delete what you do not change.
# Reference: README.md, "Configuration reference".

# Target PostgreSQL schema, and what to do when it exists: error | recreate | use (empty).
# `recreate` drops only what barge owns: it refuses system schemas, and any drop that would
# take objects in other schemas along; it names what it drops first.
schema = "app"
on_schema_exists = "error"
# `recreate` may drop and recreate schema `public` (with everything in it) only when set.
allow_recreate_public = false

# Only the DDL and post-load steps, or only the copy into existing, empty tables.
schema_only = false
data_only = false

# Names: snake (OrderItems -> order_items) | lower | preserve.
identifier_case = "snake"

# Load into UNLOGGED tables and set them LOGGED afterwards (not with resume).
unlogged_tables = false
preserve_defaults = true

# Parallel copy workers, key/index workers, and rows per chunk of a large table.
# workers = <CPUs, at most 8>
# index_workers = <workers>
chunk_size = 100000

# Table and column filters (exact names, or globs with table_filter_mode = "glob").
include_tables = []
exclude_tables = []
exclude_columns = []

# A value that does not fit its column: error (stop, naming table/column/row) or null
# (load NULL and write it to the reject report).
on_invalid_value = "error"
reject_file = "barge_rejects.jsonl"

# What the source account cannot see (tables, columns, keys, CHECKs its privileges hide):
# error (stop, naming what is hidden and the GRANT that shows it) or accept (migrate what it
# sees, each hidden object recorded as a finding).
on_partial_visibility = "error"

# Continue an interrupted run (same as --resume): never starts a new one; with nothing to
# resume barge says the run is complete (exit 0) or refuses (exit 5).
resume = false

# Child rows whose parent is missing, before foreign keys: moved to <schema>_orphans.
clean_orphans = true
clean_orphans_mode = "apply"      # apply | report
clean_orphans_max_rows = 0        # 0 = no limit

# After the run: none | row_count | checksum (every value; see README "Validation")
validation = "none"
# Who computes the checksum's source side: barge (from what it loaded) | database (the source
# database itself, from its own values: checks the conversion too)
checksum_source = "barge"

[source]
type = "{source}"
{source_notes}
dsn = "{dsn}"

[target]
# A postgres:// URL or key=value DSN; BARGE_TARGET_DSN overrides it.
dsn = "postgres://app:$env{{PGPASSWORD}}@127.0.0.1:5432/app"

[type_mapping]
{type_mapping}
[hooks]
# SQL files run at each point; {{{{schema}}}} is replaced by the quoted target schema.
before_data = []
after_data = []
before_fk = []
after_all = []
"#
    )
}

const SQLITE_TYPES: &str = r#"unknown_as_text = false          # declared types only affinity places: text, not numeric
json_as_jsonb = true
datetime_as_timestamptz = false
"#;

const MYSQL_TYPES: &str = r#"unknown_as_text = false
json_as_jsonb = true
datetime_as_timestamptz = false
tinyint1_as_boolean = false
widen_unsigned_integers = true
binary16_as_uuid = false
binary16_uuid_mode = "rfc4122"   # rfc4122 | mysql_uuid_to_bin_swap
string_uuid_as_uuid = false
varchar_as_text = false
enum_mode = "check"              # text | check
time_mode = "time"               # time | text
zero_date_mode = "null"          # null (counted in the summary) | error
spatial_mode = "off"             # off | wkb_bytea | wkt_text
"#;

/// Hook skeletons for the objects barge does not migrate: one `after_all` file per object,
/// the source SQL commented out under a TODO, named `<kind>_<name>.sql`.
pub fn hook_skeletons(schema: &barge_model::Schema) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for (kind, list) in [
        ("view", &schema.views),
        ("trigger", &schema.triggers),
        ("routine", &schema.routines),
    ] {
        for o in list {
            let safe: String = o
                .name
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let commented: Vec<String> = o.sql.lines().map(|l| format!("--   {l}")).collect();
            let text = format!(
                "-- TODO: recreate {kind} `{}` in PostgreSQL, then list this file under\n\
                 -- [hooks] after_all. {{{{schema}}}} is replaced by the quoted target schema.\n\
                 --\n-- Source SQL:\n{}\n",
                o.name,
                commented.join("\n")
            );
            files.push((format!("{kind}_{safe}.sql"), text));
        }
    }
    files
}
