//! The MigratorXpress credentials file: runs with no TOML, TOML `auth_id`s, and errors.

use std::fs;
use std::path::{Path, PathBuf};

use barge_config::{
    load_with, parse_str, ConfigError, Connection, Credentials, DatabaseKind, Overrides, Secret,
    SourceKind, TrackingMode,
};
use tempfile::TempDir;

use crate::env;

const CREDENTIALS: &str = r#"{
  "src": {
    "ds_type": "sqlite",
    "auth_mode": "classic",
    "info": { "filepath": "data/app.db" }
  },
  "tgt": {
    "ds_type": "postgres",
    "auth_mode": "classic",
    "info": {
      "username": "$env{PGUSER}",
      "password": "$env{PGPASSWORD}",
      "server": "db.example",
      "port": "$env{PGPORT}",
      "database": "sales"
    }
  },
  "track": {
    "ds_type": "postgres",
    "auth_mode": "classic",
    "info": { "username": "ops", "password": "tr4ck", "server": "ops-db", "port": 5433, "database": "barge" }
  },
  "shop": {
    "ds_type": "mysql",
    "auth_mode": "classic",
    "info": { "username": "root", "password": "myp4ss", "server": "mysql", "port": 3306, "database": "shop" }
  },
  "legacy": {
    "ds_type": "oracle",
    "auth_mode": "classic",
    "info": { "username": "u", "password": "oracle-pw", "server": "o", "port": 1521, "database": "ORCL" }
  },
  "badport": {
    "ds_type": "postgres",
    "info": { "username": "u", "password": "x", "server": "h", "port": "$env{PGPASSWORD}", "database": "d" }
  },
  "mem": { "ds_type": "sqlite", "info": { "filepath": ":memory:" } }
}"#;

const SECRET_VARS: [(&str, &str); 3] = [
    ("PGUSER", "app"),
    ("PGPASSWORD", "Sup3rS3cret"),
    ("PGPORT", "5432"),
];

/// A folder holding `creds/credentials.json`.
fn credentials_dir() -> TempDir {
    let dir = TempDir::new().unwrap();
    fs::create_dir(dir.path().join("creds")).unwrap();
    fs::write(dir.path().join("creds/credentials.json"), CREDENTIALS).unwrap();
    dir
}

fn cli_run(dir: &Path) -> Overrides {
    Overrides {
        auth_file: Some(dir.join("creds/credentials.json")),
        source_auth_id: Some("src".into()),
        target_auth_id: Some("tgt".into()),
        migration_db_auth_id: Some("track".into()),
        target_schema_name: Some("sales_copy".into()),
        resume: Some(true),
        ..Overrides::default()
    }
}

#[test]
fn a_run_can_take_every_connection_from_the_credentials_file() {
    let dir = credentials_dir();
    let s = load_with(None, &cli_run(dir.path()), &env(&SECRET_VARS)).unwrap();

    assert_eq!(s.config_file, None);
    assert_eq!(s.base_dir, PathBuf::from("/work"));
    assert_eq!(s.schema, "sales_copy");
    assert!(s.resume);
    assert_eq!(s.auth_file, Some(dir.path().join("creds/credentials.json")));
    assert_eq!(s.reject_file, PathBuf::from("/work/barge_rejects.jsonl"));

    assert_eq!(s.source.kind, SourceKind::Sqlite);
    assert_eq!(s.source.auth_id.as_deref(), Some("src"));
    // `filepath` is relative to the credentials file's folder.
    assert_eq!(
        s.source.connection,
        Connection::SqliteFile(dir.path().join("creds/data/app.db"))
    );
    assert_eq!(
        s.target.connection,
        Connection::Fields {
            server: "db.example".into(),
            port: Some(5432),
            username: "app".into(),
            password: Secret::new("Sup3rS3cret"),
            database: "sales".into(),
        }
    );
    assert_eq!(s.target.connection.redacted(), "app@db.example:5432/sales");
    let tracking = s.tracking.as_ref().unwrap();
    assert_eq!(tracking.kind, DatabaseKind::Postgres);
    assert_eq!(tracking.connection.redacted(), "ops@ops-db:5433/barge");
}

#[test]
fn passwords_from_the_credentials_file_never_show() {
    let dir = credentials_dir();
    let s = load_with(None, &cli_run(dir.path()), &env(&SECRET_VARS)).unwrap();
    let shown = format!(
        "{s:?} {} {} {:?}",
        s.target.connection.redacted(),
        s.tracking.as_ref().unwrap().connection.redacted(),
        Credentials::load(&dir.path().join("creds/credentials.json")).unwrap()
    );
    for password in ["Sup3rS3cret", "tr4ck", "myp4ss", "oracle-pw"] {
        assert!(!shown.contains(password), "{password} in {shown}");
    }
    assert!(shown.contains("***"));

    // An error about a field filled from the password variable does not show it either.
    let overrides = Overrides {
        target_auth_id: Some("badport".into()),
        ..cli_run(dir.path())
    };
    let err = load_with(None, &overrides, &env(&SECRET_VARS)).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("Sup3rS3cret"), "{shown}");
    assert!(
        err.to_string()
            .ends_with(": `info.port` must be a port number from 1 to 65535"),
        "{err}"
    );
}

#[test]
fn missing_variable_in_credentials_names_entry_and_field() {
    let dir = credentials_dir();
    let err = load_with(
        None,
        &cli_run(dir.path()),
        &env(&[("PGUSER", "app"), ("PGPORT", "1")]),
    )
    .unwrap_err();
    let path = dir.path().join("creds/credentials.json");
    assert_eq!(
        err.to_string(),
        format!(
            "environment variable `PGPASSWORD` is not set: `tgt.info.password` in {} refers to it\nhint: export `PGPASSWORD`, or remove `$env{{PGPASSWORD}}` from `tgt.info.password`",
            path.display()
        )
    );
}

#[test]
fn unsupported_ds_type_lists_the_accepted_ones() {
    let dir = credentials_dir();
    let overrides = Overrides {
        source_auth_id: Some("legacy".into()),
        ..cli_run(dir.path())
    };
    let err = load_with(None, &overrides, &env(&SECRET_VARS)).unwrap_err();
    assert!(matches!(err, ConfigError::UnsupportedDsType { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "auth id `legacy` in {}: `ds_type` `oracle` is not supported\nhint: accepted `ds_type` values: `postgres`, `mysql`, `mariadb`, `sqlite`, `mssql`",
            dir.path().join("creds/credentials.json").display()
        )
    );
    assert!(!format!("{err:?}").contains("oracle-pw"));
}

#[test]
fn unknown_auth_id_lists_the_available_ones() {
    let dir = credentials_dir();
    let overrides = Overrides {
        target_auth_id: Some("prod".into()),
        ..cli_run(dir.path())
    };
    let err = load_with(None, &overrides, &env(&SECRET_VARS)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "auth id `prod` is not in credentials file {}\nhint: available ids: `badport`, `legacy`, `mem`, `shop`, `src`, `tgt`, `track`",
            dir.path().join("creds/credentials.json").display()
        )
    );
}

#[test]
fn target_must_be_postgres() {
    let dir = credentials_dir();
    let overrides = Overrides {
        target_auth_id: Some("shop".into()),
        ..cli_run(dir.path())
    };
    let err = load_with(None, &overrides, &env(&SECRET_VARS)).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("is a `mysql` database: the target must be `postgres`"),
        "{err}"
    );
}

#[test]
fn in_memory_sqlite_entry_is_refused() {
    let dir = credentials_dir();
    let overrides = Overrides {
        source_auth_id: Some("mem".into()),
        ..cli_run(dir.path())
    };
    let err = load_with(None, &overrides, &env(&SECRET_VARS)).unwrap_err();
    assert!(matches!(err, ConfigError::SqliteInMemory { .. }), "{err}");
}

#[test]
fn toml_can_name_auth_ids_with_a_relative_auth_file() {
    let dir = credentials_dir();
    let config = dir.path().join("migration.toml");
    fs::write(
        &config,
        r#"schema = "app"
auth_file = "creds/credentials.json"

[source]
auth_id = "shop"

[target]
auth_id = "tgt"

[tracking]
auth_id = "track"
"#,
    )
    .unwrap();
    let s = load_with(Some(&config), &Overrides::default(), &env(&SECRET_VARS)).unwrap();
    assert_eq!(
        s.source.kind,
        SourceKind::Mysql,
        "kind comes from `ds_type`"
    );
    assert_eq!(s.source.connection.redacted(), "root@mysql:3306/shop");
    assert_eq!(s.target.auth_id.as_deref(), Some("tgt"));
    assert_eq!(s.tracking.unwrap().auth_id.as_deref(), Some("track"));
}

#[test]
fn command_line_wins_over_toml() {
    let dir = credentials_dir();
    let config = dir.path().join("migration.toml");
    fs::write(
        &config,
        r#"schema = "app"
workers = 2
auth_file = "creds/credentials.json"

[source]
type = "sqlite"
dsn = "./local.db"

[target]
dsn = "postgres://app:pw@localhost/sales"
"#,
    )
    .unwrap();
    let overrides = Overrides {
        target_auth_id: Some("tgt".into()),
        target_schema_name: Some("other".into()),
        workers: Some(3),
        ..Overrides::default()
    };
    let s = load_with(Some(&config), &overrides, &env(&SECRET_VARS)).unwrap();
    assert_eq!(s.schema, "other");
    assert_eq!(s.workers, 3);
    assert_eq!(s.target.connection.redacted(), "app@db.example:5432/sales");
    assert_eq!(
        s.source.connection,
        Connection::SqliteFile(dir.path().join("local.db"))
    );
}

#[test]
fn source_type_must_agree_with_ds_type() {
    let dir = credentials_dir();
    let text = r#"schema = "app"
auth_file = "creds/credentials.json"
[source]
type = "mssql"
auth_id = "shop"
[target]
auth_id = "tgt"
"#;
    let config = dir.path().join("migration.toml");
    let err = parse_str(text, &config, &Overrides::default(), &env(&SECRET_VARS)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "invalid `source.type` in {}: `mssql` does not match auth id `shop`, a `mysql` database\nhint: drop `type` from `[source]`, or fix `ds_type` in the credentials file",
            config.display()
        )
    );
}

#[test]
fn auth_id_without_auth_file_is_explained() {
    let text =
        "schema = \"app\"\n[source]\nauth_id = \"src\"\n[target]\ndsn = \"postgres://a@b/c\"\n";
    let err = parse_str(
        text,
        Path::new("/cfg/m.toml"),
        &Overrides::default(),
        &env(&[]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "missing `auth_file` in /cfg/m.toml\nhint: `source.auth_id` names an entry of a credentials file: set `auth_file = \"credentials.json\"` in the config file or pass the credentials file on the command line"
    );
}

#[test]
fn dsn_and_auth_id_together_are_refused() {
    let text = "schema = \"app\"\nauth_file = \"c.json\"\n[source]\ntype = \"sqlite\"\ndsn = \"a.db\"\nauth_id = \"src\"\n[target]\ndsn = \"postgres://a@b/c\"\n";
    let err = parse_str(
        text,
        Path::new("/cfg/m.toml"),
        &Overrides::default(),
        &env(&[]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`source.dsn` and `source.auth_id` cannot be used together in /cfg/m.toml: give the connection one way: a DSN, or an entry of the credentials file"
    );
}

#[test]
fn json_syntax_errors_have_a_position_and_no_content() {
    let text =
        "{\n  \"tgt\": { \"ds_type\": \"postgres\", \"info\": { \"password\": \"hunter2 }\n}";
    let err = Credentials::parse(text, Path::new("/cfg/creds.json")).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(
        shown.starts_with("invalid credentials file at line "),
        "{shown}"
    );
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[test]
fn credentials_without_a_toml_need_a_schema() {
    let dir = credentials_dir();
    let overrides = Overrides {
        target_schema_name: None,
        ..cli_run(dir.path())
    };
    let err = load_with(None, &overrides, &env(&SECRET_VARS)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "missing `target_schema_name` on the command line\nhint: without a config file, the target schema name must be given on the command line"
    );
}

#[test]
fn tracking_mode_and_project_come_from_toml_or_command_line() {
    let dir = credentials_dir();
    let config = dir.path().join("migration.toml");
    fs::write(
        &config,
        r#"schema = "app"
auth_file = "creds/credentials.json"

[source]
auth_id = "shop"

[target]
auth_id = "tgt"

[tracking]
auth_id = "track"
mode = "truncate"
project = "rehearsal"
"#,
    )
    .unwrap();
    let s = load_with(Some(&config), &Overrides::default(), &env(&SECRET_VARS)).unwrap();
    let t = s.tracking.unwrap();
    assert_eq!(t.mode, TrackingMode::Truncate);
    assert_eq!(t.project.as_deref(), Some("rehearsal"));

    let cli = Overrides {
        migration_db_mode: Some(TrackingMode::Drop),
        project: Some("cutover".into()),
        ..Overrides::default()
    };
    let t = load_with(Some(&config), &cli, &env(&SECRET_VARS))
        .unwrap()
        .tracking
        .unwrap();
    assert_eq!(
        (t.mode, t.project.as_deref()),
        (TrackingMode::Drop, Some("cutover"))
    );

    // Without a tracking database the options would be ignored: refused instead.
    let mut cli = cli_run(dir.path());
    cli.migration_db_auth_id = None;
    cli.project = Some("cutover".into());
    let err = load_with(None, &cli, &env(&SECRET_VARS))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`project`"), "{err}");
    assert!(err.contains("--migration_db_auth_id"), "{err}");
    let s = load_with(None, &cli_run(dir.path()), &env(&SECRET_VARS)).unwrap();
    assert_eq!(
        s.tracking.unwrap().mode,
        TrackingMode::Preserve,
        "the default"
    );
}
