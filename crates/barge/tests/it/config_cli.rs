//! Configuration and command line: credentials files, `$env{}`, config errors with their
//! position, exit codes, `plan` output, and secrets that must never be printed.

use crate::support::{
    assert_exit, assert_ok, barge, barge_env, barge_in, plan_json, stderr, stdout, text, Fixture,
    PgDb,
};
use std::path::PathBuf;

const SMALL: &str =
    "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b');";

/// A password shaped like a URL, so a leak through any DSN rendering would show.
const SECRET: &str = "postgres://leak:S3cr3t%40pw@evil.example:6543/x?password=hunter2";

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

#[track_caller]
fn assert_no_secret(o: &std::process::Output) {
    let all = text(o);
    for piece in [SECRET, "S3cr3t", "hunter2", "evil.example"] {
        assert!(!all.contains(piece), "`{piece}` printed:\n{all}");
    }
}

/// `creds.json` in the fixture folder: `src` is the fixture's SQLite file (relative path),
/// `tgt` the test database with its password from `$env{PGPASS}`, `down` a closed port.
fn credentials(fx: &Fixture, db: &PgDb) -> PathBuf {
    let (host, port, user) = db.server();
    let entry = |port: u16| {
        serde_json::json!({"ds_type": "postgres", "auth_mode": "classic",
            "info": {"username": user, "password": "$env{PGPASS}", "server": host,
                     "port": port, "database": db.name}})
    };
    let creds = serde_json::json!({
        "src": {"ds_type": "sqlite", "auth_mode": "classic", "info": {"filepath": "source.sqlite"}},
        "tgt": entry(port),
        "down": entry(1),
    });
    fx.write("creds.json", &serde_json::to_string_pretty(&creds).unwrap())
}

#[test]
fn credentials_file_with_env_password_migrates_without_a_config_file() {
    let fx = Fixture::sqlite(SMALL);
    let db = PgDb::new();
    credentials(&fx, &db);
    let args = [
        "--auth",
        "creds.json",
        "--source_db_auth_id",
        "src",
        "--target_db_auth_id",
        "tgt",
        "--target_schema_name",
        "app",
    ];
    let env = [("PGPASS", SECRET)];
    let migrate: Vec<&str> = ["migrate"].iter().chain(&args).copied().collect();
    let o = barge_in(Some(fx.path()), &migrate, &env);
    let out = assert_ok(&o);
    assert_no_secret(&o);
    let (host, port, user) = db.server();
    assert!(
        stderr(&o).contains(&format!(
            "-> {user}@{host}:{port}/{} (schema `app`)",
            db.name
        )),
        "{out}"
    );
    assert_eq!(
        db.query("SELECT id, v FROM app.t ORDER BY id"),
        vec![vec![s("1"), s("a")], vec![s("2"), s("b")]]
    );

    // plan takes the same flags (kebab-case spellings too), text and JSON.
    let plan = [
        "plan",
        "--auth",
        "creds.json",
        "--source-db-auth-id",
        "src",
        "--target-db-auth-id",
        "tgt",
        "--target-schema-name",
        "app",
    ];
    let o = barge_in(Some(fx.path()), &plan, &env);
    let out = assert_ok(&o);
    assert_no_secret(&o);
    assert!(
        stdout(&o).contains("table `t` -> `t`  (2 rows, 1 chunk)"),
        "{out}"
    );
    let json: Vec<&str> = plan.iter().chain(&["--format", "json"]).copied().collect();
    let o = barge_in(Some(fx.path()), &json, &env);
    assert_ok(&o);
    assert_no_secret(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["target_schema"], "app");
}

#[test]
fn config_file_can_take_connections_from_the_credentials_file() {
    let fx = Fixture::sqlite(SMALL);
    let db = PgDb::new();
    credentials(&fx, &db);
    let cfg = fx.write(
        "migration.toml",
        "schema = \"app\"\nauth_file = \"creds.json\"\n\n[source]\ntype = \"sqlite\"\nauth_id = \"src\"\n\n[target]\nauth_id = \"tgt\"\n",
    );
    // Run from elsewhere: the credentials file and the SQLite path resolve from their files.
    let o = barge_env(&["migrate", cfg.to_str().unwrap()], &[("PGPASS", SECRET)]);
    assert_ok(&o);
    assert_no_secret(&o);
    assert_eq!(
        db.scalar("SELECT count(*) FROM app.t").as_deref(),
        Some("2")
    );
}

#[test]
fn unreachable_target_is_exit_3_and_never_shows_the_password() {
    let fx = Fixture::sqlite(SMALL);
    let db = PgDb::new();
    let creds = credentials(&fx, &db);
    let o = barge_env(
        &[
            "migrate",
            "--auth",
            creds.to_str().unwrap(),
            "--source_db_auth_id",
            "src",
            "--target_db_auth_id",
            "down",
            "--target_schema_name",
            "app",
        ],
        &[("PGPASS", SECRET)],
    );
    let out = assert_exit(&o, 3);
    assert_no_secret(&o);
    let (host, _, user) = db.server();
    assert!(
        stderr(&o).contains(&format!(
            "error: cannot connect to PostgreSQL at {user}@{host}:1/{}",
            db.name
        )),
        "{out}"
    );
    assert!(stderr(&o).contains("Connection refused"), "{out}");
    assert!(
        stderr(&o).contains(
            "hint: nothing accepts connections at that address: check that the PostgreSQL server is running"
        ),
        "{out}"
    );

    // A password inside a TOML DSN is hidden the same way.
    let cfg = fx.write(
        "migration.toml",
        "schema = \"app\"\n[source]\ntype = \"sqlite\"\ndsn = \"source.sqlite\"\n[target]\ndsn = \"postgres://postgres:hunter2@127.0.0.1:1/x\"\n",
    );
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    assert_exit(&o, 3);
    assert_no_secret(&o);
}

#[test]
fn env_references_are_replaced_and_a_missing_variable_is_a_config_error() {
    let fx = Fixture::sqlite(SMALL);
    let db = PgDb::new();
    let creds = credentials(&fx, &db);
    let o = barge(&[
        "migrate",
        "--auth",
        creds.to_str().unwrap(),
        "--source_db_auth_id",
        "src",
        "--target_db_auth_id",
        "tgt",
        "--target_schema_name",
        "app",
    ]);
    let out = assert_exit(&o, 2);
    assert!(
        stderr(&o).contains(&format!(
            "error: environment variable `PGPASS` is not set: `tgt.info.password` in {} refers to it\nhint: export `PGPASS`",
            creds.display()
        )),
        "{out}"
    );
    assert!(!db.schema_exists("app"));

    // `$env{}` in a TOML DSN.
    let cfg = fx.write(
        "migration.toml",
        "schema = \"app\"\n[source]\ntype = \"sqlite\"\ndsn = \"source.sqlite\"\n[target]\ndsn = \"$env{BARGE_IT_TARGET}\"\n",
    );
    let o = barge_env(
        &["migrate", cfg.to_str().unwrap()],
        &[("BARGE_IT_TARGET", &db.url)],
    );
    assert_ok(&o);
    assert_eq!(
        db.scalar("SELECT count(*) FROM app.t").as_deref(),
        Some("2")
    );
}

#[test]
fn target_dsn_from_the_environment_overrides_the_file() {
    let fx = Fixture::sqlite(SMALL);
    let db = PgDb::new();
    let cfg = fx.write(
        "migration.toml",
        "schema = \"app\"\n[source]\ntype = \"sqlite\"\ndsn = \"source.sqlite\"\n[target]\ndsn = \"postgres://postgres@127.0.0.1:1/nowhere\"\n",
    );
    assert_ok(&barge_env(
        &["migrate", cfg.to_str().unwrap()],
        &[("BARGE_TARGET_DSN", &db.url)],
    ));
    assert_eq!(
        db.scalar("SELECT count(*) FROM app.t").as_deref(),
        Some("2")
    );
}

#[test]
fn unknown_keys_are_named_with_line_and_column() {
    let fx = Fixture::sqlite(SMALL);
    let db = PgDb::new();
    let cases = [
        (
            "schema = \"app\"\non_schema_exists = \"recreate\"\nchunk_sise = 5\n[source]\ntype = \"sqlite\"\ndsn = \"source.sqlite\"\n",
            "unknown key `chunk_sise` at line 3, column 1",
            "did you mean `chunk_size`?",
        ),
        (
            "schema = \"app\"\n[source]\ntype = \"sqlite\"\n  dsnn = \"source.sqlite\"\n",
            "unknown key `source.dsnn` at line 4, column 3",
            "did you mean `dsn`?",
        ),
        (
            "schema = \"app\"\n[type_mapping]\njson_as_json = false\n[source]\ntype = \"sqlite\"\ndsn = \"source.sqlite\"\n",
            "unknown key `type_mapping.json_as_json` at line 3, column 1",
            "did you mean `json_as_jsonb`?",
        ),
    ];
    for (body, message, hint) in cases {
        let cfg = fx.write(
            "migration.toml",
            &format!("{body}[target]\ndsn = \"{}\"\n", db.url),
        );
        for command in ["plan", "migrate"] {
            let o = barge(&[command, cfg.to_str().unwrap()]);
            let out = assert_exit(&o, 2);
            assert!(
                stderr(&o).contains(&format!(
                    "error: {message} of {}\nhint: {hint}",
                    cfg.display()
                )),
                "{command}: {out}"
            );
        }
    }
    assert!(!db.schema_exists("app"));
}

#[test]
fn invalid_values_and_conflicting_keys_are_config_errors() {
    let fx = Fixture::sqlite(SMALL);
    let db = PgDb::new();
    let cases = [
        (
            "on_invalid_value = \"skip\"",
            "error: invalid value for `on_invalid_value` at line 2, column 20 of",
            "unknown variant `skip`, expected `error` or `null`",
        ),
        (
            "identifier_case = \"snake\"\nsnake_case_identifiers = false",
            "`identifier_case` and `snake_case_identifiers` cannot be used together",
            "they disagree",
        ),
        ("workers = -1", "`workers`", "-1"),
    ];
    for (line, message, detail) in cases {
        let cfg = fx.config_toml(&db, &format!("schema = \"app\"\n{line}"));
        let o = barge(&["migrate", cfg.to_str().unwrap()]);
        let out = assert_exit(&o, 2);
        assert!(stderr(&o).contains(message), "{line}: {out}");
        assert!(stderr(&o).contains(detail), "{line}: {out}");
    }
    // Command-line mistakes are exit 2 as well.
    let cfg = fx.config(&db, "app", "");
    for args in [
        vec!["migrate", cfg.to_str().unwrap(), "--workers", "many"],
        vec!["migrate", cfg.to_str().unwrap(), "--no-such-flag"],
        vec!["plan", cfg.to_str().unwrap(), "--format", "yaml"],
    ] {
        assert_exit(&barge(&args), 2);
    }
    assert!(!db.schema_exists("app"));
}

#[test]
fn options_accepted_but_not_implemented_are_refused_before_any_work() {
    let fx = Fixture::sqlite(SMALL);
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "nul_byte_mode = \"strip\"");
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = text(&o);
    assert_ne!(o.status.code(), Some(0), "{out}");
    assert!(stderr(&o).contains("not implemented"), "{out}");
    assert!(stderr(&o).contains("`nul_byte_mode = \"strip\"`"), "{out}");
    assert!(!db.schema_exists("app"));
}

#[test]
fn plan_json_parses_and_lists_tables_and_findings() {
    let fx = Fixture::sqlite(
        "CREATE TABLE artist (id INTEGER PRIMARY KEY, name TEXT NOT NULL, rating MONEY);
         CREATE TABLE album (id INTEGER PRIMARY KEY, artist_id INTEGER REFERENCES artist (id), title TEXT);
         CREATE INDEX album_titled ON album (artist_id) WHERE title IS NOT NULL;
         CREATE TABLE log (msg TEXT);
         CREATE VIEW v AS SELECT name FROM artist;
         CREATE TRIGGER trg AFTER INSERT ON album BEGIN INSERT INTO log VALUES ('x'); END;
         INSERT INTO artist VALUES (1, 'a', 1), (2, 'b', NULL);
         INSERT INTO album VALUES (1, 1, 't'), (2, 1, NULL), (3, 2, 'u');",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "chunk_size = 2");
    let o = barge(&["plan", cfg.to_str().unwrap(), "--format", "json"]);
    let out = assert_ok(&o);
    assert_eq!(stderr(&o), "", "{out}");
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).expect("plan JSON parses");
    assert_eq!(plan["target_schema"], "app");
    let tables: Vec<(String, u64, u64)> = plan["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["target_name"].as_str().unwrap().to_string(),
                t["rows"].as_u64().unwrap(),
                t["chunk_count"].as_u64().unwrap(),
            )
        })
        .collect();
    // The trigger filled `log` in SQLite: one row per album.
    assert_eq!(
        tables,
        vec![
            ("album".to_string(), 3, 2),
            ("artist".to_string(), 2, 1),
            ("log".to_string(), 3, 2),
        ]
    );
    let artist = &plan["schema"]["tables"][1];
    let columns: Vec<(&str, &str)> = artist["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["target_name"].as_str().unwrap(),
                c["data_type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        columns,
        [("id", "bigint"), ("name", "text"), ("rating", "numeric")]
    );
    let kinds: Vec<(&str, &str, &str)> = plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["table"].as_str().unwrap_or(""),
            )
        })
        .collect();
    for expected in [
        ("unknown_type", "warning", "artist"),
        ("index_translated", "info", "album"),
        ("no_primary_key", "info", "log"),
        ("view_not_migrated", "warning", "v"),
        ("trigger_not_migrated", "warning", "album"),
    ] {
        assert!(kinds.contains(&expected), "{expected:?} not in {kinds:?}");
    }
    let ddl = plan["ddl"].to_string();
    assert!(
        ddl.contains("CREATE TABLE \\\"app\\\".\\\"album\\\""),
        "{ddl}"
    );
    // plan never touched the target.
    assert!(!db.schema_exists("app"));
}

#[test]
fn plan_json_handles_every_column_type() {
    let fx = Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(20), code CHAR(3), at DATETIME,
             ts TIMESTAMP, tod TIME, price NUMERIC(8,2));",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let plan = plan_json(&cfg);
    let types: Vec<&str> = plan["schema"]["tables"][0]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["data_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "bigint",
            "varchar(20)",
            "varchar(3)",
            "timestamp",
            "timestamp",
            "time",
            "numeric(8,2)"
        ],
        "{plan}"
    );
}

#[test]
fn plan_does_not_connect_to_the_target() {
    let fx = Fixture::sqlite(SMALL);
    let cfg = fx.write(
        "migration.toml",
        "schema = \"app\"\n[source]\ntype = \"sqlite\"\ndsn = \"source.sqlite\"\n[target]\ndsn = \"postgres://postgres@127.0.0.1:1/nowhere\"\n",
    );
    let o = barge(&["plan", cfg.to_str().unwrap()]);
    let out = assert_ok(&o);
    assert!(
        stdout(&o).contains("target: postgres@127.0.0.1:1/nowhere (schema `app`)"),
        "{out}"
    );
    assert!(
        stdout(&o).contains("table `t` -> `t`  (2 rows, 1 chunk)"),
        "{out}"
    );
}

#[test]
fn missing_sqlite_file_is_exit_3_naming_the_file() {
    let fx = Fixture::sqlite(SMALL);
    let db = PgDb::new();
    let cfg = fx.write(
        "migration.toml",
        &format!(
            "schema = \"app\"\n[source]\ntype = \"sqlite\"\ndsn = \"missing.sqlite\"\n[target]\ndsn = \"{}\"\n",
            db.url
        ),
    );
    let missing = fx.path().join("missing.sqlite");
    for command in ["plan", "migrate"] {
        let o = barge(&[command, cfg.to_str().unwrap()]);
        let out = assert_exit(&o, 3);
        assert!(
            stderr(&o).contains(&format!(
                "error: SQLite database `{}` does not exist",
                missing.display()
            )),
            "{command}: {out}"
        );
    }
    assert!(!missing.exists(), "barge must not create the SQLite file");
    assert!(!db.schema_exists("app"));
}

#[test]
fn migrate_json_summary_reports_rows_and_rejects() {
    let fx = Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, qty INTEGER);
         INSERT INTO t VALUES (1, 1), (2, 'bad'), (3, 3);
         CREATE TABLE u (x TEXT); INSERT INTO u VALUES ('only');",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "on_invalid_value = \"null\"");
    let o = barge(&[
        "migrate",
        cfg.to_str().unwrap(),
        "--format",
        "json",
        "--quiet",
    ]);
    let out = assert_ok(&o);
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).expect("summary JSON");
    assert_eq!(summary["target_schema"], "app", "{out}");
    let rows: Vec<(&str, u64)> = summary["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["target_name"].as_str().unwrap(),
                t["rows"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, [("t", 3), ("u", 1)]);
    assert_eq!(summary["rejected_values"], 1);
    assert_eq!(
        summary["reject_file"].as_str().map(PathBuf::from),
        Some(fx.path().join("barge_rejects.jsonl"))
    );
    // --quiet: nothing but errors on stderr.
    assert_eq!(stderr(&o), "", "{out}");
}

#[test]
fn cli_workers_and_chunk_size_override_the_file() {
    let fx = Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
         WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 500)
           INSERT INTO t SELECT i * 3, 'v' || i FROM k;",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "chunk_size = 100000\nworkers = 1");
    assert_ok(&barge(&[
        "migrate",
        cfg.to_str().unwrap(),
        "--workers",
        "3",
        "--chunk_size",
        "7",
    ]));
    assert_eq!(
        db.query("SELECT id, v FROM app.t ORDER BY id"),
        fx.sqlite_query("SELECT id, v FROM t ORDER BY id")
    );
}

#[test]
fn plan_into_a_closed_pipe_exits_quietly() {
    let fx = Fixture::sqlite(SMALL);
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_barge"))
        .args(["plan", cfg.to_str().unwrap()])
        .env_remove("BARGE_SOURCE_DSN")
        .env_remove("BARGE_TARGET_DSN")
        .stdout(writer)
        .output()
        .expect("run barge");
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(o.status.code(), Some(101), "{err}");
}
