//! Row-count validation: after a run (`validation = "row_count"`) and standalone
//! (`barge validate`), with a missing row, an extra row and a missing table each found.

use crate::support::{assert_ok, barge, text, Fixture, PgDb};

const SOURCE: &str = "
    CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT);
    CREATE TABLE b (id INTEGER PRIMARY KEY, v TEXT);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
      INSERT INTO a SELECT i, 'x' || i FROM n;
    INSERT INTO b VALUES (1, 'one'), (2, 'two');
";

#[test]
fn row_count_validation_passes_after_a_clean_run() {
    let fx = Fixture::sqlite(SOURCE);
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "validation = \"row_count\"");
    let out = assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert!(
        out.contains("validation: row counts match for all 2 table(s)"),
        "{out}"
    );
    let v = barge(&["validate", cfg.to_str().unwrap()]);
    let vt = assert_ok(&v);
    assert!(
        vt.contains("a                                           500            500  ok"),
        "{vt}"
    );
}

#[test]
fn validate_finds_missing_extra_rows_and_missing_tables() {
    let fx = Fixture::sqlite(SOURCE);
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    db.execute("DELETE FROM app.a WHERE id = 7; INSERT INTO app.b VALUES (3, 'extra')");
    let v = barge(&["validate", cfg.to_str().unwrap(), "--format", "json"]);
    let vt = text(&v);
    assert_eq!(v.status.code(), Some(4), "{vt}");
    let json: serde_json::Value = serde_json::from_slice(&v.stdout).expect("json");
    let rows: Vec<(String, u64, Option<u64>)> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["target_name"].as_str().unwrap().to_string(),
                c["source_rows"].as_u64().unwrap(),
                c["target_rows"].as_u64(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("a".to_string(), 500, Some(499)),
            ("b".to_string(), 2, Some(3))
        ]
    );
    db.execute("DROP TABLE app.b");
    let v = barge(&["validate", cfg.to_str().unwrap()]);
    let vt = text(&v);
    assert_eq!(v.status.code(), Some(4), "{vt}");
    assert!(vt.contains("missing  DIFFERS"), "{vt}");
}
