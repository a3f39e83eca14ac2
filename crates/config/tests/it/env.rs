//! `$env{VAR}` references and the `BARGE_*_DSN` overrides, through an injected environment.

use std::path::{Path, PathBuf};

use barge_config::{parse_str, ConfigError, Connection, Origin, Overrides, Secret};

use crate::{env, CONFIG, MINIMAL};

const WITH_REFERENCES: &str = r#"schema = "app"

[source]
type = "sqlite"
dsn = "$env{DATA_DIR}/source.db"

[target]
dsn = "postgres://$env{PGUSER}:$env{PGPASSWORD}@db.example:5432/sales"
"#;

#[test]
fn references_are_replaced() {
    let vars = [
        ("DATA_DIR", "/data"),
        ("PGUSER", "app"),
        ("PGPASSWORD", "s3cr3t"),
    ];
    let s = parse_str(
        WITH_REFERENCES,
        Path::new(CONFIG),
        &Overrides::default(),
        &env(&vars),
    )
    .unwrap();
    assert_eq!(
        s.source.connection,
        Connection::SqliteFile(PathBuf::from("/data/source.db"))
    );
    assert_eq!(
        s.target.connection,
        Connection::Url(Secret::new("postgres://app:s3cr3t@db.example:5432/sales"))
    );
    assert_eq!(
        s.target.connection.redacted(),
        "postgres://app@db.example:5432/sales"
    );
}

#[test]
fn missing_variable_is_named_without_the_dsn() {
    let vars = [("DATA_DIR", "/data"), ("PGUSER", "app")];
    let err = parse_str(
        WITH_REFERENCES,
        Path::new(CONFIG),
        &Overrides::default(),
        &env(&vars),
    )
    .unwrap_err();
    assert!(matches!(
        &err,
        ConfigError::MissingEnvVar { var, field, origin }
            if var == "PGPASSWORD" && field == "target.dsn" && *origin == Origin::File(CONFIG.into())
    ));
    let text = err.to_string();
    assert_eq!(
        text,
        "environment variable `PGPASSWORD` is not set: `target.dsn` in /cfg/migration.toml refers to it\nhint: export `PGPASSWORD`, or remove `$env{PGPASSWORD}` from `target.dsn`"
    );
    assert!(!text.contains("db.example"), "{text}");
    assert!(!format!("{err:?}").contains("db.example"));
}

#[test]
fn barge_dsn_variables_override_the_file() {
    let vars = [
        ("BARGE_SOURCE_DSN", "other.db"),
        ("BARGE_TARGET_DSN", "postgres://ops:pw2@db2/sales"),
    ];
    let s = parse_str(
        MINIMAL,
        Path::new(CONFIG),
        &Overrides::default(),
        &env(&vars),
    )
    .unwrap();
    // A DSN from the environment is relative to the working directory, not the config file.
    assert_eq!(
        s.source.connection,
        Connection::SqliteFile(PathBuf::from("/work/other.db"))
    );
    assert_eq!(s.target.connection.redacted(), "postgres://ops@db2/sales");
}

#[test]
fn empty_override_variable_is_ignored() {
    let vars = [("BARGE_TARGET_DSN", "  ")];
    let s = parse_str(
        MINIMAL,
        Path::new(CONFIG),
        &Overrides::default(),
        &env(&vars),
    )
    .unwrap();
    assert_eq!(
        s.target.connection.redacted(),
        "postgres://app@db.example:5432/sales"
    );
}

#[test]
fn dsn_can_come_only_from_the_environment() {
    let text = "schema = \"app\"\n[source]\ntype = \"sqlite\"\n[target]\n";
    let vars = [
        ("BARGE_SOURCE_DSN", "/data/app.db"),
        ("BARGE_TARGET_DSN", "host=db dbname=sales"),
    ];
    let s = parse_str(text, Path::new(CONFIG), &Overrides::default(), &env(&vars)).unwrap();
    assert_eq!(
        s.source.connection,
        Connection::SqliteFile(PathBuf::from("/data/app.db"))
    );
}

#[test]
fn command_line_dsn_beats_the_environment() {
    let vars = [("BARGE_TARGET_DSN", "postgres://env@db/x")];
    let overrides = Overrides {
        target_dsn: Some(Secret::new("postgres://cli@db/x")),
        ..Overrides::default()
    };
    let s = parse_str(MINIMAL, Path::new(CONFIG), &overrides, &env(&vars)).unwrap();
    assert_eq!(s.target.connection.redacted(), "postgres://cli@db/x");
}

#[test]
fn missing_dsn_hints_at_the_variable_and_at_pgferry_s() {
    let text = "schema = \"app\"\n[source]\ntype = \"sqlite\"\ndsn = \"a.db\"\n";
    let vars = [("PGFERRY_TARGET_DSN", "postgres://u:pw@h/d")];
    let err = parse_str(text, Path::new(CONFIG), &Overrides::default(), &env(&vars))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "missing `target.dsn` in /cfg/migration.toml\nhint: set `dsn` (or `auth_id` with `auth_file`) in `[target]`, or export `BARGE_TARGET_DSN`; `PGFERRY_TARGET_DSN` is set, but barge reads `BARGE_TARGET_DSN`"
    );
}

#[test]
fn target_from_environment_must_be_postgres() {
    let vars = [("BARGE_TARGET_DSN", "root:pw@tcp(h:3306)/db")];
    let err = parse_str(
        MINIMAL,
        Path::new(CONFIG),
        &Overrides::default(),
        &env(&vars),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "invalid `target.dsn` in environment variable `BARGE_TARGET_DSN`: is not a PostgreSQL connection string\nhint: write it as `postgres://user@host:5432/database` or `host=... dbname=...`"
    );
}

#[test]
fn schema_takes_env_references_too() {
    let text = WITH_REFERENCES.replace("schema = \"app\"", "schema = \"app_$env{STAGE}\"");
    let vars = [
        ("DATA_DIR", "/data"),
        ("PGUSER", "app"),
        ("PGPASSWORD", "s3cr3t"),
        ("STAGE", "qa"),
    ];
    let s = parse_str(&text, Path::new(CONFIG), &Overrides::default(), &env(&vars)).unwrap();
    assert_eq!(s.schema, "app_qa");
    let missing = parse_str(
        &text,
        Path::new(CONFIG),
        &Overrides::default(),
        &env(&vars[..3]),
    );
    assert!(missing.unwrap_err().to_string().contains("STAGE"));
}
