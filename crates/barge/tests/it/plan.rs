//! `plan` as a cutover report: Markdown output and the `--fail-on` CI gate.

use crate::support::{assert_ok, barge, text, Fixture, PgDb};

const SOURCE: &str = "
    CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(8,2) DEFAULT 0);
    CREATE VIEW cheap AS SELECT * FROM item WHERE price < 1;
";

#[test]
fn markdown_plan_lists_mapping_findings_and_owned_objects() {
    let fx = Fixture::sqlite(SOURCE);
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let o = barge(&["plan", cfg.to_str().unwrap(), "--format", "markdown"]);
    let out = assert_ok(&o);
    let md = String::from_utf8_lossy(&o.stdout);
    assert!(md.starts_with("# Migration plan\n"), "{out}");
    assert!(md.contains("| `item` | `item` | 0 | 1 |"), "{out}");
    assert!(
        md.contains("| `price` | `NUMERIC(8,2)` | `numeric(8,2)` | yes | `0` |"),
        "{out}"
    );
    assert!(
        md.contains("## Warnings\n\n- `cheap`: view `cheap` is not migrated"),
        "{out}"
    );
    assert!(md.contains("### view `cheap`\n\n```sql\nCREATE VIEW cheap AS SELECT * FROM item WHERE price < 1\n```"), "{out}");
}

#[test]
fn fail_on_gates_by_severity() {
    let fx = Fixture::sqlite(SOURCE);
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let cfg = cfg.to_str().unwrap();
    let warnings = barge(&["plan", cfg, "--fail-on", "warnings"]);
    assert_eq!(warnings.status.code(), Some(4), "{}", text(&warnings));
    assert!(text(&warnings).contains("--fail-on"));
    assert_ok(&barge(&["plan", cfg, "--fail-on", "errors"]));
    assert_ok(&barge(&["plan", cfg]));
}

/// `barge init` writes a starter file that parses as is (every key valid) and never
/// overwrites one.
#[test]
fn init_writes_a_valid_commented_config() {
    for source in ["sqlite", "mariadb"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("migration.toml");
        let p = path.to_str().unwrap();
        assert_ok(&barge(&["init", "--source", source, p]));
        let text_of = std::fs::read_to_string(&path).unwrap();
        assert!(
            text_of.contains(&format!("type = \"{source}\"")),
            "{text_of}"
        );
        // It parses: the offline checkpoint command loads the full configuration.
        let status = crate::support::barge_env(
            &["checkpoint", "status", p],
            &[("PGPASSWORD", "x"), ("MYSQL_PWD", "y")],
        );
        let out = assert_ok(&status);
        assert!(out.contains("no checkpoint"), "{out}");
        let again = barge(&["init", "--source", source, p]);
        assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    }
}

/// `plan --output-dir` writes one hook skeleton per object the user still owns, carrying its
/// source SQL under a TODO.
#[test]
fn output_dir_gets_hook_skeletons_with_the_source_sql() {
    let fx = Fixture::sqlite(&format!(
        "{SOURCE} CREATE TRIGGER touch AFTER UPDATE ON item BEGIN SELECT 1; END;"
    ));
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let dir = fx.path().join("hooks");
    assert_ok(&barge(&[
        "plan",
        cfg.to_str().unwrap(),
        "--output-dir",
        dir.to_str().unwrap(),
    ]));
    let view = std::fs::read_to_string(dir.join("view_cheap.sql")).expect("view skeleton");
    assert!(view.starts_with("-- TODO: recreate view `cheap`"), "{view}");
    assert!(
        view.contains("--   CREATE VIEW cheap AS SELECT * FROM item WHERE price < 1"),
        "{view}"
    );
    let trigger = std::fs::read_to_string(dir.join("trigger_touch.sql")).expect("trigger skeleton");
    assert!(trigger.contains("--   CREATE TRIGGER touch"), "{trigger}");
}
