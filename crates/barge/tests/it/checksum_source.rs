//! What the checksum can tell apart: SQL NULL from every value (the text `\N`, the empty
//! string, an empty array), and, under `checksum_source = "database"`, the conversions barge
//! made on the way (each defect of issue 13's part B re-introduced in the target).

use crate::mariadb::MariaDb;
use crate::support::{assert_ok, barge, Fixture, PgDb};
use serde_json::Value;
use std::path::Path;

fn validate_json(cfg: &Path, extra: &[&str]) -> (Option<i32>, Value, String) {
    let mut args = vec![
        "validate",
        cfg.to_str().unwrap(),
        "--validation",
        "checksum",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = barge(&args);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "validate --format json printed no JSON ({e}):\n{}",
            crate::support::text(&out)
        )
    });
    (out.status.code(), json, crate::support::text(&out))
}

fn table<'a>(json: &'a Value, name: &str) -> &'a Value {
    json.as_array()
        .expect("a JSON array of tables")
        .iter()
        .find(|c| c["target_name"] == name)
        .unwrap_or_else(|| panic!("table `{name}` in {json:#}"))
}

/// `(kind, row)` of each listed difference of a table.
fn differences(json: &Value, name: &str) -> Vec<(String, String)> {
    table(json, name)["checksum"]["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_string(),
                d["row"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The two sources of a checksum's source side, as `barge validate` flags.
const MODES: [&[&str]; 1] = [&[]];

fn changed(keys: &[&str]) -> Vec<(String, String)> {
    keys.iter()
        .map(|k| ("changed".to_string(), k.to_string()))
        .collect()
}

/// A NULL and the text `\N` swapped between two rows (and an empty string with a NULL) in
/// every text-like column: each row is named, in both modes.
#[test]
fn null_is_never_equal_to_the_text_backslash_n_or_the_empty_string_sqlite() {
    let fx = Fixture::sqlite(
        r"CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, v VARCHAR(10), c CHAR(4), j JSON);
          INSERT INTO t VALUES (1, '\N', '\N', '\N', '1'), (2, NULL, NULL, NULL, NULL),
                               (3, '', '', '', '2'), (4, NULL, NULL, NULL, NULL),
                               (5, 'a', 'b', 'c', '3');",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "validation = \"checksum\"");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    for mode in MODES {
        let (code, _, text) = validate_json(&cfg, mode);
        assert_eq!(code, Some(0), "{mode:?}: {text}");
    }
    for column in ["a", "v", "c"] {
        db.execute(&format!(
            r"UPDATE app.t SET {column} = CASE id WHEN 1 THEN NULL WHEN 2 THEN '\N'
                  WHEN 3 THEN NULL WHEN 4 THEN '' ELSE {column} END"
        ));
        for mode in MODES {
            let (code, json, text) = validate_json(&cfg, mode);
            assert_eq!(code, Some(4), "{column}, {mode:?}: {text}");
            assert_eq!(
                differences(&json, "t"),
                changed(&["(id) = (1)", "(id) = (2)", "(id) = (3)", "(id) = (4)"]),
                "{column}, {mode:?}: {json:#}"
            );
        }
        // Back as it was, for the next column.
        db.execute(&format!(
            r"UPDATE app.t SET {column} = CASE id WHEN 1 THEN '\N' WHEN 2 THEN NULL
                  WHEN 3 THEN '' WHEN 4 THEN NULL ELSE {column} END"
        ));
    }
    // char(n): trailing spaces are not part of the value in PostgreSQL, and a value of
    // spaces only is not the empty string's NULL.
    db.execute("UPDATE app.t SET c = '  ' WHERE id = 4");
    let (code, json, text) = validate_json(&cfg, &[]);
    assert_eq!(code, Some(4), "{text}");
    assert_eq!(differences(&json, "t"), changed(&["(id) = (4)"]));
}

/// The same for types only a MySQL-family source produces: a native enum with the label
/// `\N`, and SET members as `text[]`, where `{}` (no member), `{""}` (one empty member)
/// and NULL are three values.
#[test]
fn null_is_never_equal_to_a_value_mariadb_enum_and_set() {
    let src = MariaDb::new(&[
        r"CREATE TABLE t (id INT PRIMARY KEY, e ENUM('\\N', 'x'), s SET('a', 'b'))",
        r"INSERT INTO t VALUES (1, '\\N', ''), (2, NULL, NULL), (3, 'x', 'a,b')",
    ]);
    let db = PgDb::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = crate::mariadb::write_config(
        dir.path(),
        &src.url,
        &db.url,
        "[type_mapping]\nenum_mode = \"native\"\nset_mode = \"text_array\"",
        "",
    );
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(
        db.scalar("SELECT e::text FROM app.t WHERE id = 1").as_deref(),
        Some(r"\N")
    );
    let (code, _, text) = validate_json(&cfg, &[]);
    assert_eq!(code, Some(0), "{text}");
    db.execute(r"UPDATE app.t SET e = CASE id WHEN 1 THEN NULL WHEN 2 THEN '\N' ELSE e END");
    let (code, json, text) = validate_json(&cfg, &[]);
    assert_eq!(code, Some(4), "{text}");
    assert_eq!(
        differences(&json, "t"),
        changed(&["(id) = (1)", "(id) = (2)"])
    );
    db.execute(r"UPDATE app.t SET e = CASE id WHEN 1 THEN '\N' WHEN 2 THEN NULL ELSE e END");
    // Row 1 holds no member (`{}`), row 2 NULL.
    for (one, two, want) in [
        ("'{\"\"}'", "NULL", &["(id) = (1)"][..]),
        ("NULL", "'{}'", &["(id) = (1)", "(id) = (2)"][..]),
        ("'{\"\"}'", "'{}'", &["(id) = (1)", "(id) = (2)"][..]),
    ] {
        db.execute(&format!(
            "UPDATE app.t SET s = CASE id WHEN 1 THEN {one}::text[] WHEN 2 THEN {two}::text[] ELSE s END"
        ));
        for mode in MODES {
            let (code, json, text) = validate_json(&cfg, mode);
            assert_eq!(code, Some(4), "{one}, {two}, {mode:?}: {text}");
            assert_eq!(differences(&json, "t"), changed(want), "{one}, {two}, {mode:?}");
        }
    }
}
