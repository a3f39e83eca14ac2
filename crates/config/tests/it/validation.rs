//! Cross-key checks and refused values.

use std::path::Path;

use barge_config::{parse_str, ConfigError, Overrides, RowReader, SourceKind};

use crate::{env, parse, parse_err, CONFIG, MINIMAL};

fn with_top(keys: &str) -> String {
    format!("{keys}\n{MINIMAL}")
}

#[test]
fn schema_only_and_data_only_conflict() {
    assert_eq!(
        parse_err(&with_top("schema_only = true\ndata_only = true")),
        "`schema_only` and `data_only` cannot be used together in /cfg/migration.toml: choose one, or neither for a full migration"
    );
}

#[test]
fn conflict_across_file_and_command_line_says_so() {
    let overrides = Overrides {
        data_only: Some(true),
        ..Overrides::default()
    };
    let err = parse_str(
        &with_top("schema_only = true"),
        Path::new(CONFIG),
        &overrides,
        &env(&[]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`schema_only` and `data_only` cannot be used together in /cfg/migration.toml and on the command line: choose one, or neither for a full migration"
    );
}

#[test]
fn resume_conflicts() {
    // A resumed run skips the schema step its ledger records, so `recreate`, `use` and
    // `schema_only` combine with it; truncating or UNLOGGED tables would lose recorded rows.
    for ok in [
        "resume = true\non_schema_exists = \"recreate\"",
        "resume = true\non_schema_exists = \"use\"",
        "resume = true\nschema_only = true",
    ] {
        assert!(parse(&with_top(ok)).expect(ok).resume, "{ok}");
    }
    for (keys, second) in [
        (
            "resume = true\ntruncate_before_copy = true",
            "truncate_before_copy",
        ),
        ("resume = true\nunlogged_tables = true", "unlogged_tables"),
    ] {
        let err = parse_err(&with_top(keys));
        assert!(
            err.starts_with(&format!("`resume` and `{second}` cannot be used together")),
            "{keys}: {err}"
        );
    }
    assert!(
        parse_err(&with_top("schema_only = true\ntruncate_before_copy = true"))
            .starts_with("`schema_only` and `truncate_before_copy`")
    );
}

#[test]
fn in_memory_sqlite_is_refused() {
    for dsn in [
        ":memory:",
        "file::memory:",
        "file:app?mode=memory&cache=shared",
    ] {
        let text = MINIMAL.replace("./source.db", dsn);
        let err = parse(&text).unwrap_err();
        assert!(
            matches!(err, ConfigError::SqliteInMemory { .. }),
            "{dsn}: {err}"
        );
        assert_eq!(
            err.to_string(),
            "`source.dsn` in /cfg/migration.toml names an in-memory SQLite database: there is nothing to migrate from it\nhint: give the path of the SQLite database file, e.g. `dsn = \"./app.db\"`"
        );
    }
}

#[test]
fn sqlite_uri_forms_are_accepted() {
    for (dsn, path) in [
        ("file:/data/app.db?cache=shared", "/data/app.db"),
        ("sqlite:///data/app.db", "/data/app.db"),
        ("sqlite://rel/app.db", "/cfg/rel/app.db"),
        ("file:rel.db", "/cfg/rel.db"),
    ] {
        let s = parse(&MINIMAL.replace("./source.db", dsn)).unwrap();
        assert_eq!(
            s.source.connection,
            barge_config::Connection::SqliteFile(path.into()),
            "{dsn}"
        );
    }
}

#[test]
fn missing_schema() {
    let text = MINIMAL.replace("schema = \"app\"", "schema = \"  \"");
    assert_eq!(
        parse_err(&text),
        "missing `schema` in /cfg/migration.toml\nhint: set `schema = \"app\"` to name the target PostgreSQL schema, or pass the target schema name on the command line"
    );
}

#[test]
fn over_long_schema_name_is_refused() {
    let long = "s".repeat(64);
    let err = parse_err(&MINIMAL.replace("\"app\"", &format!("\"{long}\"")));
    assert!(
        err.ends_with("is 64 bytes long, and PostgreSQL names are at most 63"),
        "{err}"
    );
}

#[test]
fn missing_source_type() {
    let text = MINIMAL.replace("type = \"sqlite\"\n", "");
    assert_eq!(
        parse_err(&text),
        "missing `source.type` in /cfg/migration.toml\nhint: set `type = \"sqlite\"` (or `mysql`, `mariadb`, `mssql`) in `[source]`"
    );
}

#[test]
fn numbers_out_of_range() {
    assert_eq!(
        parse_err(&with_top("chunk_size = 0")),
        "invalid `chunk_size` in /cfg/migration.toml: must be greater than 0, got `0`\nhint: omit `chunk_size` to use the default of 100000"
    );
    assert_eq!(
        parse_err(&with_top("workers = -2")),
        "invalid `workers` in /cfg/migration.toml: must be 0 (automatic) or more, got `-2`"
    );
    assert!(parse_err(&with_top("clean_orphans_max_rows = -1"))
        .starts_with("invalid `clean_orphans_max_rows`"));
    assert_eq!(parse(&with_top("workers = 0")).unwrap().workers, 4);
}

#[test]
fn mysql_only_type_options_are_refused_for_sqlite() {
    let text = format!("{MINIMAL}\n[type_mapping]\ntinyint1_as_boolean = true\n");
    assert_eq!(
        parse_err(&text),
        "invalid `type_mapping.tinyint1_as_boolean` in /cfg/migration.toml: applies only to MySQL and MariaDB sources, and the source is `sqlite`\nhint: remove `tinyint1_as_boolean`"
    );
    // The default value spelled out is fine, as in pgferry.
    let text = format!("{MINIMAL}\n[type_mapping]\nenum_mode = \"text\"\nwiden_unsigned_integers = true\ndatetime_as_timestamptz = true\n");
    assert!(parse(&text).unwrap().type_mapping.datetime_as_timestamptz);
    let text = format!("{MINIMAL}\n[type_mapping]\nxml_as_text = true\n");
    assert!(parse_err(&text).contains("applies only to MSSQL sources"));
}

#[test]
fn source_specific_keys() {
    let text = MINIMAL.replace(
        "dsn = \"./source.db\"",
        "dsn = \"./source.db\"\ncharset = \"latin1\"",
    );
    assert!(parse_err(&text).starts_with("invalid `source.charset` in /cfg/migration.toml: applies only to MySQL and MariaDB sources"));
    let text = MINIMAL.replace(
        "dsn = \"./source.db\"",
        "dsn = \"./source.db\"\ncharset = \"utf8mb4\"",
    );
    assert_eq!(parse(&text).unwrap().source.charset, None);
    let text = MINIMAL.replace(
        "dsn = \"./source.db\"",
        "dsn = \"./source.db\"\nrow_reader = \"driver\"",
    );
    assert!(parse_err(&text).starts_with("invalid `source.row_reader` in /cfg/migration.toml: applies only to MySQL and MariaDB sources"));
    let mysql = MINIMAL.replace(
        "type = \"sqlite\"\ndsn = \"./source.db\"",
        "type = \"mariadb\"\ndsn = \"mysql://u@db/shop\"",
    );
    assert_eq!(parse(&mysql).unwrap().source.row_reader, RowReader::Auto);
    for (value, expected) in [("auto", RowReader::Auto), ("driver", RowReader::Driver)] {
        let text = mysql.replace(
            "[source]\n",
            &format!("[source]\nrow_reader = \"{value}\"\n"),
        );
        assert_eq!(parse(&text).unwrap().source.row_reader, expected);
    }
    let text = mysql.replace("[source]\n", "[source]\nrow_reader = \"lean\"\n");
    assert!(
        parse_err(&text).contains("row_reader"),
        "{}",
        parse_err(&text)
    );
    assert!(parse_err(&with_top("source_snapshot_mode = \"single_tx\""))
        .starts_with("invalid `source_snapshot_mode` in /cfg/migration.toml: `single_tx` is not supported for SQLite sources"));
}

#[test]
fn postgis_rules() {
    let mysql = MINIMAL
        .replace("type = \"sqlite\"", "type = \"mysql\"")
        .replace("./source.db", "root@tcp(h)/db");
    assert!(
        parse(&format!("{mysql}[postgis]\nenabled = true\n"))
            .unwrap()
            .postgis
            .enabled
    );
    assert!(
        parse_err(&format!("{mysql}[postgis]\ncreate_extension = true\n"))
            .starts_with("invalid `postgis.create_extension`")
    );
    let err = parse_err(&format!(
        "{mysql}[postgis]\nenabled = true\n[type_mapping]\nspatial_mode = \"wkb_bytea\"\n"
    ));
    assert!(
        err.starts_with(
            "`postgis.enabled` and `type_mapping.spatial_mode` cannot be used together"
        ),
        "{err}"
    );
    // MariaDB stores geometry like MySQL: PostGIS columns work for both.
    let mariadb = mysql.replace("\"mysql\"", "\"mariadb\"");
    assert!(
        parse(&format!("{mariadb}[postgis]\nenabled = true\n"))
            .unwrap()
            .postgis
            .enabled
    );
    let err = parse_err(&format!("{MINIMAL}[postgis]\nenabled = true\n"));
    assert!(
        err.contains("PostGIS columns are supported for MySQL and MariaDB sources only"),
        "{err}"
    );
    assert_eq!(parse(&mariadb).unwrap().source.kind, SourceKind::Mariadb);
}

#[test]
fn binary16_uuid_mode_needs_binary16_as_uuid() {
    let mysql = MINIMAL
        .replace("type = \"sqlite\"", "type = \"mysql\"")
        .replace("./source.db", "root@tcp(h)/db");
    let err = parse_err(&format!(
        "{mysql}[type_mapping]\nbinary16_uuid_mode = \"mysql_uuid_to_bin_swap\"\n"
    ));
    assert!(
        err.starts_with("invalid `type_mapping.binary16_uuid_mode`"),
        "{err}"
    );
}

#[test]
fn identifier_case_and_its_older_spelling_must_agree() {
    assert!(parse(&with_top(
        "identifier_case = \"snake\"\nsnake_case_identifiers = true"
    ))
    .is_ok());
    assert!(parse_err(&with_top(
        "identifier_case = \"preserve\"\nsnake_case_identifiers = true"
    ))
    .starts_with("`identifier_case` and `snake_case_identifiers` cannot be used together"));
}

#[test]
fn table_filters_are_checked() {
    assert_eq!(
        parse_err(&with_top("include_tables = [\"tmp_*\"]")),
        "invalid `include_tables` in /cfg/migration.toml: entry `tmp_*` is a pattern, but `table_filter_mode` is `exact`\nhint: set `table_filter_mode = \"glob\"` to use `*` and `?`"
    );
    assert!(parse_err(&with_top("exclude_tables = [\"a\", \"A\"]"))
        .starts_with("invalid `exclude_tables` in /cfg/migration.toml: entry `A` repeats `a`"));
    assert!(parse_err(&with_top("exclude_columns = [\"t.c.x\"]"))
        .starts_with("invalid `exclude_columns`"));
}

#[test]
fn hook_paths_are_checked_and_resolved() {
    let text = format!("{MINIMAL}[hooks]\nafter_all = [\"../shared/post.sql\", \"\"]\n");
    assert_eq!(
        parse_err(&text),
        "invalid `hooks.after_all` in /cfg/migration.toml: entries must not be empty"
    );
}

#[test]
fn command_line_paths_are_relative_to_the_working_directory() {
    let overrides = Overrides {
        reject_file: Some("out/rejects.jsonl".into()),
        ..Overrides::default()
    };
    let s = parse_str(MINIMAL, Path::new(CONFIG), &overrides, &env(&[])).unwrap();
    assert_eq!(s.reject_file, Path::new("/work/out/rejects.jsonl"));
}

#[test]
fn relative_config_path_is_made_absolute() {
    let s = parse_str(
        MINIMAL,
        Path::new("conf/m.toml"),
        &Overrides::default(),
        &env(&[]),
    )
    .unwrap();
    assert_eq!(s.base_dir, Path::new("/work/conf"));
    assert_eq!(
        s.source.connection,
        barge_config::Connection::SqliteFile("/work/conf/source.db".into())
    );
}

#[test]
fn unreadable_config_file_is_named() {
    let err = barge_config::load_with(
        Some(Path::new("/nonexistent/barge/m.toml")),
        &Overrides::default(),
        &env(&[]),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot read config file `/nonexistent/barge/m.toml`: "),
        "{err}"
    );
}

#[test]
fn maintenance_work_mem_is_a_size_or_server() {
    assert_eq!(
        parse(MINIMAL).unwrap().maintenance_work_mem.as_deref(),
        Some("256MB")
    );
    for (value, expected) in [
        ("1GB", Some("1GB")),
        ("65536", Some("65536")),
        ("1MB", Some("1MB")),
        ("1024kB", Some("1024kB")),
        ("server", None),
    ] {
        let s = parse(&with_top(&format!("maintenance_work_mem = \"{value}\""))).expect(value);
        assert_eq!(s.maintenance_work_mem.as_deref(), expected, "{value}");
    }
    // Anything else would reach a SET statement, or fail there: refused here, by name.
    for bad in [
        "",
        "MB",
        "256 MB",
        "256mb",
        "1GB' ; DROP TABLE x; --",
        "-1",
        "0",
        "1023kB",
        "3TB",
        "99999999999999999999999999999999999999999TB",
    ] {
        let err = parse_err(&with_top(&format!("maintenance_work_mem = \"{bad}\"")));
        assert!(
            err.contains("maintenance_work_mem") && err.contains("must be a size from 1MB to 2TB"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn system_and_ledger_schemas_are_refused_in_every_mode() {
    for schema in [
        "information_schema",
        "pg_catalog",
        "pg_x",
        "pg_toast",
        "_barge",
        "pg",
    ] {
        for mode in ["error", "use", "recreate"] {
            let text = MINIMAL.replace(
                "schema = \"app\"",
                &format!("schema = \"{schema}\"\non_schema_exists = \"{mode}\""),
            );
            let err = parse_err(&text);
            assert!(
                err.starts_with(&format!(
                    "invalid `schema` in /cfg/migration.toml: barge cannot migrate into schema `{schema}`"
                )),
                "{schema} {mode}: {err}"
            );
        }
    }
    // The command line's schema is checked the same way.
    let overrides = Overrides {
        target_schema_name: Some("information_schema".into()),
        ..Overrides::default()
    };
    let err = parse_str(MINIMAL, Path::new(CONFIG), &overrides, &env(&[])).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid `schema` on the command line: barge cannot migrate into schema `information_schema`"),
        "{err}"
    );
}

#[test]
fn recreating_public_needs_its_own_option() {
    let public = MINIMAL.replace("schema = \"app\"", "schema = \"public\"");
    let err = parse_err(&with_top_of(&public, "on_schema_exists = \"recreate\""));
    assert!(
        err.starts_with("invalid `on_schema_exists` in /cfg/migration.toml: `recreate` would drop schema `public`"),
        "{err}"
    );
    assert!(err.contains("allow_recreate_public = true"), "{err}");
    let ok = parse(&with_top_of(
        &public,
        "on_schema_exists = \"recreate\"\nallow_recreate_public = true",
    ))
    .expect("allowed");
    assert!(ok.allow_recreate_public);
    // `error` and `use` never drop it.
    for mode in ["error", "use"] {
        parse(&with_top_of(
            &public,
            &format!("on_schema_exists = \"{mode}\""),
        ))
        .expect(mode);
    }
}

fn with_top_of(config: &str, keys: &str) -> String {
    format!("{keys}\n{config}")
}
