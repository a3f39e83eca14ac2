//! barge never overwrites a user's file and refuses what a command cannot honour; under
//! `--format json` a failure is a JSON object on stdout.

use crate::support::{assert_exit, assert_ok, barge, text, Fixture, PgDb};

const SOURCE: &str = "
    CREATE TABLE item (id INTEGER PRIMARY KEY, price REAL);
    CREATE VIEW cheap AS SELECT * FROM item WHERE price < 1;
    CREATE TRIGGER touch AFTER UPDATE ON item BEGIN SELECT 1; END;
    INSERT INTO item VALUES (1, 0.5), (2, 3.5);
";

#[test]
fn plan_output_dir_never_replaces_a_file_that_differs() {
    let fx = Fixture::sqlite(SOURCE);
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let cfg = cfg.to_str().unwrap();
    let dir = fx.path().join("hooks");
    let plan = |format: &str| {
        barge(&[
            "plan",
            cfg,
            "--output-dir",
            dir.to_str().unwrap(),
            "--format",
            format,
        ])
    };
    assert_ok(&plan("text"));
    // The same skeletons again: identical files are left as they are.
    assert_ok(&plan("text"));
    // A hand-edited hook, and one skeleton gone.
    let view = dir.join("view_cheap.sql");
    std::fs::write(&view, "CREATE VIEW app.cheap AS SELECT 1; -- mine\n").unwrap();
    std::fs::remove_file(dir.join("trigger_touch.sql")).unwrap();
    let o = plan("text");
    let out = assert_exit(&o, 2);
    assert!(out.contains("barge never overwrites them"), "{out}");
    assert!(out.contains(&format!("`{}`", view.display())), "{out}");
    assert!(out.contains("nothing was written"), "{out}");
    // Refused before writing anything, and before printing the plan.
    assert_eq!(
        std::fs::read_to_string(&view).unwrap(),
        "CREATE VIEW app.cheap AS SELECT 1; -- mine\n"
    );
    assert!(!dir.join("trigger_touch.sql").exists());
    assert!(o.stdout.is_empty(), "{out}");
    // As JSON: the error object, not the plan.
    let o = plan("json");
    assert_exit(&o, 2);
    let json: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(&o)));
    assert_eq!(json["status"], "invalid", "{json}");
    assert_eq!(json["exit_code"], 2, "{json}");
    assert!(
        json["message"].as_str().unwrap().contains("view_cheap.sql"),
        "{json}"
    );
}

#[test]
fn flags_a_command_cannot_honour_are_refused_before_any_work() {
    let fx = Fixture::sqlite(SOURCE);
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let cfg = cfg.to_str().unwrap();
    let dir = fx.path().join("out");
    let dir = dir.to_str().unwrap();
    for (args, flag) in [
        (
            vec!["migrate", cfg, "--format", "markdown"],
            "--format markdown",
        ),
        (
            vec!["validate", cfg, "--format", "markdown"],
            "--format markdown",
        ),
        (vec!["validate", cfg, "--output-dir", dir], "--output-dir"),
        (vec!["validate", cfg, "--fail-on", "warnings"], "--fail-on"),
        (
            vec!["plan", cfg, "--validation", "checksum"],
            "--validation",
        ),
        (vec!["plan", cfg, "--project", "p"], "--project"),
        (
            vec!["plan", cfg, "--migration_db_auth_id", "t"],
            "--migration_db_auth_id",
        ),
    ] {
        let o = barge(&args);
        let out = assert_exit(&o, 2);
        assert!(
            out.contains(&format!(
                "error: `{flag}` cannot be used with `barge {}`",
                args[0]
            )),
            "{args:?}: {out}"
        );
        assert!(o.stdout.is_empty(), "{args:?}: {out}");
    }
    // Nothing was done: no schema, no ledger, no folder.
    assert!(!db.schema_exists("app"));
    assert!(!db.schema_exists("_barge"));
    assert!(!std::path::Path::new(dir).exists());
}

#[test]
fn json_failures_are_an_object_on_stdout() {
    let fx = Fixture::sqlite(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER);
         INSERT INTO items VALUES (1, 5), (2, 'lots'), (3, 7);",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "workers = 1");
    let cfg = cfg.to_str().unwrap();

    // migrate: a failed run, with its table, run id and resume command.
    let o = barge(&["migrate", cfg, "--format", "json"]);
    assert_exit(&o, 4);
    let json: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(&o)));
    assert_eq!(json["status"], "failed", "{json}");
    assert_eq!(json["exit_code"], 4, "{json}");
    assert_eq!(json["failed_table"], "items", "{json}");
    assert!(json["message"].as_str().unwrap().contains("lots"), "{json}");
    let run = json["run_id"].as_str().expect("run id");
    let resume = json["resume_command"].as_str().expect("resume command");
    assert!(
        resume.ends_with(&format!("--format json --resume {run}")),
        "{json}"
    );
    // The human text stays on stderr.
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("error: "),
        "{}",
        text(&o)
    );

    // A configuration error (exit 2), for each command that takes --format.
    let bad = fx.write("bad.toml", "schema = \"app\"\nworkers = \"many\"\n");
    let bad = bad.to_str().unwrap();
    for command in ["migrate", "plan", "validate"] {
        let o = barge(&[command, bad, "--format", "json"]);
        assert_exit(&o, 2);
        let json: serde_json::Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(&o)));
        assert_eq!(json["status"], "invalid", "{command}: {json}");
        assert_eq!(json["exit_code"], 2, "{command}: {json}");
        assert!(
            json["message"].as_str().unwrap().contains("workers"),
            "{json}"
        );
        assert!(json["resume_command"].is_null(), "{json}");
    }

    // validate: an unreachable target (exit 3).
    let unreachable = fx.write(
        "unreachable.toml",
        "schema = \"app\"\n\n[source]\ntype = \"sqlite\"\ndsn = \"source.sqlite\"\n\n[target]\ndsn = \"postgres://nobody@127.0.0.1:1/nothing\"\n",
    );
    let o = barge(&[
        "validate",
        unreachable.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_exit(&o, 3);
    let json: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(&o)));
    assert_eq!(json["status"], "unreachable", "{json}");
    assert_eq!(json["exit_code"], 3, "{json}");
}
