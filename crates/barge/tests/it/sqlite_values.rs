//! Values that do not match their column's type: converted when lossless, otherwise refused
//! with their location, or loaded as NULL and reported under `on_invalid_value = "null"`.

use crate::support::{assert_exit, assert_ok, barge, hex, stderr, stdout, Fixture, PgDb};

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

/// SQLite converts values to a column's affinity when they are inserted, so a text `'42'` can
/// only sit in an INTEGER column whose declared type changed afterwards (what tools that edit
/// `sqlite_schema` leave behind). `create` is the final declaration; `loose` declares the same
/// columns without types, so the inserted storage classes stay as written.
fn retyped(loose: &str, inserts: &str, create: &str) -> Fixture {
    Fixture::sqlite(&format!(
        "{loose};\n{inserts}\nPRAGMA writable_schema = ON;\n\
         UPDATE sqlite_schema SET sql = '{}' WHERE type = 'table' AND name = 't';\n\
         PRAGMA writable_schema = OFF;",
        create.replace('\'', "''")
    ))
}

#[test]
fn lossless_conversions_load_the_converted_value() {
    let fx = retyped(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, qty, whole, label, at, day, flag, price, u, doc)",
        r#"
        INSERT INTO t VALUES (1, '42', 3.0, 12, 1700000000, '2024-01-02 00:00:00', 'true', 0.99,
            x'123e4567e89b12d3a456426614174000', '{"a":1}');
        INSERT INTO t VALUES (2, '-7', -2.0, 2.5, '2024-01-02 03:04:05', 1704153600, 'no', '1.5',
            '{123E4567-E89B-12D3-A456-426614174000}', 5);
        INSERT INTO t VALUES (3, 9, NULL, 3.0, 1700000000.25, '2024-01-02', 1, 7, NULL, 2.5);
        "#,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, qty INTEGER, whole INTEGER, label TEXT, \
         at DATETIME, day DATE, flag BOOLEAN, price NUMERIC(10,2), u UUID, doc JSON)",
    );
    // The fixture really holds the mismatched storage classes.
    assert_eq!(
        fx.sqlite_query("SELECT typeof(qty), typeof(whole), typeof(label) FROM t ORDER BY id"),
        vec![
            vec![s("text"), s("real"), s("integer")],
            vec![s("text"), s("real"), s("real")],
            vec![s("integer"), s("null"), s("real")],
        ]
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let out = assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert!(!out.contains("reject"), "{out}");
    assert!(!fx.path().join("barge_rejects.jsonl").exists());
    let rows = db.query(
        "SELECT id, qty, whole, label, at, day, flag::text, \
         price, u, doc FROM app.t ORDER BY id",
    );
    assert_eq!(
        rows,
        vec![
            vec![
                s("1"),
                s("42"),
                s("3"),
                s("12"),
                s("2023-11-14 22:13:20"),
                s("2024-01-02"),
                s("true"),
                s("0.99"),
                s("123e4567-e89b-12d3-a456-426614174000"),
                s("{\"a\": 1}"),
            ],
            vec![
                s("2"),
                s("-7"),
                s("-2"),
                s("2.5"),
                s("2024-01-02 03:04:05"),
                s("2024-01-02"),
                s("false"),
                s("1.50"),
                s("123e4567-e89b-12d3-a456-426614174000"),
                s("5"),
            ],
            vec![
                s("3"),
                s("9"),
                None,
                s("3.0"),
                s("2023-11-14 22:13:20.25"),
                s("2024-01-02"),
                s("true"),
                s("7.00"),
                None,
                s("2.5"),
            ],
        ]
    );
}

#[test]
fn text_in_an_integer_column_stops_the_run_with_its_location() {
    let fx = Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, qty INTEGER);
         INSERT INTO t VALUES (1, 5), (2, 'lots-of-it'), (3, 6);",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = assert_exit(&o, 4);
    assert!(
        stderr(&o).contains(
            "error: column `qty` of table `t`: value `lots-of-it` is not a valid integer (rowid 2)\n\
             hint: set `on_invalid_value = \"null\"`"
        ),
        "{out}"
    );
    // The failed chunk rolled back: no partial table, and no reject report.
    assert_eq!(
        db.scalar("SELECT count(*) FROM app.t").as_deref(),
        Some("0")
    );
    assert!(!fx.path().join("barge_rejects.jsonl").exists());
}

/// Each kind of invalid value with the error policy: the message names it and its place.
#[test]
fn each_invalid_value_is_refused_with_its_reason() {
    let cases: &[(&str, &str, &str)] = &[
        // (declared type, SQLite literal, expected error tail)
        (
            "TEXT",
            "CAST(x'ff' AS TEXT)",
            "value `x'ff'` is not valid UTF-8 (at byte 0) (rowid 1)",
        ),
        (
            "TEXT",
            "CAST(x'6162ff63' AS TEXT)",
            "value `x'6162ff63'` is not valid UTF-8 (at byte 2) (rowid 1)",
        ),
        (
            "VARCHAR(3)",
            "'abcd'",
            "value `abcd` is longer than 3 characters (rowid 1)",
        ),
        (
            "NUMERIC(4,2)",
            "0.999",
            "value `0.999` has 3 decimal places; numeric(4,2) would round it (rowid 1)",
        ),
        (
            "NUMERIC(4,2)",
            "123.4",
            "value `123.4` has 3 integer digits; numeric(4,2) holds 2 (rowid 1)",
        ),
        (
            "SMALLINT",
            "70000",
            "value `70000` is out of range for smallint (rowid 1)",
        ),
        (
            "INT",
            "3000000000",
            "value `3000000000` is out of range for integer (rowid 1)",
        ),
        (
            "INTEGER",
            "2.5",
            "value `2.5` is not an integer (rowid 1)",
        ),
        (
            "DATETIME",
            "1700000000000",
            "value `1700000000000` is an epoch number past year 9999; if it counts milliseconds, convert it in SQLite first (rowid 1)",
        ),
        (
            "DATETIME",
            "'2024-01-02T03:04:05+02:00'",
            "value `2024-01-02T03:04:05+02:00` carries a UTC offset, which a timestamp without time zone cannot keep (rowid 1)",
        ),
        (
            "DATE",
            "'2024-01-02 10:00:00'",
            "value `2024-01-02 10:00:00` has a time of day, which a date cannot keep (rowid 1)",
        ),
        (
            "BOOLEAN",
            "2",
            "value `2` is not a boolean (only 0 and 1 are) (rowid 1)",
        ),
        ("JSON", "'{a:1}'", "value `{a:1}` is not valid JSON (rowid 1)"),
        ("UUID", "'not-a-uuid'", "value `not-a-uuid` is not a UUID (rowid 1)"),
    ];
    // One database for all cases: each run recreates the schema.
    let db = PgDb::new();
    for (decl, value, expected) in cases {
        let fx = Fixture::sqlite(&format!(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v {decl}); INSERT INTO t VALUES (1, {value});"
        ));
        let cfg = fx.config(&db, "app", "");
        let o = barge(&["migrate", cfg.to_str().unwrap()]);
        let out = assert_exit(&o, 4);
        assert!(
            stderr(&o).contains(&format!("error: column `v` of table `t`: {expected}\n")),
            "{decl} {value}: {out}"
        );
    }
}

#[test]
fn nul_byte_in_text_is_refused() {
    let fx = Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, CAST(x'610062' AS TEXT));",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = assert_exit(&o, 4);
    assert!(
        stderr(&o).contains("contains a NUL byte, which PostgreSQL text cannot hold (rowid 1)"),
        "{out}"
    );
}

#[test]
fn nul_byte_is_escaped_in_the_error_message() {
    let fx = Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, CAST(x'610062' AS TEXT));",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    assert_exit(&o, 4);
    assert!(!o.stderr.contains(&0), "raw NUL in: {:?}", stderr(&o));
}

#[test]
fn invalid_text_in_constrained_numeric_is_named_once() {
    let fx = Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v NUMERIC(4,2)); INSERT INTO t VALUES (1, 'abcd');",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = assert_exit(&o, 4);
    assert!(
        stderr(&o).contains(
            "error: column `v` of table `t`: value `abcd` is not a decimal number (rowid 1)"
        ),
        "{out}"
    );
}

#[test]
fn blob_in_integer_column_message_reads_correctly() {
    let fx = Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO t VALUES (1, x'0102');",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = assert_exit(&o, 4);
    assert!(
        stderr(&o)
            .contains("value `x'0102'` is a blob, which an integer column cannot hold (rowid 1)"),
        "{out}"
    );
}

#[test]
fn null_policy_loads_null_and_writes_the_reject_report() {
    let fx = Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, qty INTEGER, name TEXT, code VARCHAR(3),
             price NUMERIC(4,2), small SMALLINT, at DATETIME, tag TEXT NOT NULL);
         INSERT INTO t VALUES (1, 5, 'ok', 'abc', 12.34, 7, '2024-01-01 10:00:00', 'r1');
         INSERT INTO t VALUES (2, 'lots-of-it', 'n2', 'c2', 1.5, 1, NULL, 'r2');
         INSERT INTO t VALUES (3, 3, CAST(x'ff' AS TEXT), NULL, NULL, NULL, NULL, 'r3');
         INSERT INTO t VALUES (4, 4, CAST(x'610062' AS TEXT), NULL, NULL, NULL, NULL, 'r4');
         INSERT INTO t VALUES (5, 5, 'n5', 'abcd', NULL, NULL, NULL, 'r5');
         INSERT INTO t VALUES (6, 6, 'n6', NULL, 0.999, NULL, NULL, 'r6');
         INSERT INTO t VALUES (7, 7, 'n7', NULL, NULL, 70000, NULL, 'r7');
         INSERT INTO t VALUES (8, 8, 'n8', NULL, NULL, NULL, 1700000000000, 'r8');",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "on_invalid_value = \"null\"");
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = assert_ok(&o);

    // Every row arrives; only the invalid values are NULL.
    let rows = db.query(
        "SELECT id, qty, name, code, price, small, at, tag \
         FROM app.t ORDER BY id",
    );
    assert_eq!(
        rows,
        vec![
            vec![
                s("1"),
                s("5"),
                s("ok"),
                s("abc"),
                s("12.34"),
                s("7"),
                s("2024-01-01 10:00:00"),
                s("r1")
            ],
            vec![
                s("2"),
                None,
                s("n2"),
                s("c2"),
                s("1.50"),
                s("1"),
                None,
                s("r2")
            ],
            vec![s("3"), s("3"), None, None, None, None, None, s("r3")],
            vec![s("4"), s("4"), None, None, None, None, None, s("r4")],
            vec![s("5"), s("5"), s("n5"), None, None, None, None, s("r5")],
            vec![s("6"), s("6"), s("n6"), None, None, None, None, s("r6")],
            vec![s("7"), s("7"), s("n7"), None, None, None, None, s("r7")],
            vec![s("8"), s("8"), s("n8"), None, None, None, None, s("r8")],
        ]
    );

    // The report: one JSON line per value, next to the config.
    let report_path = fx.path().join("barge_rejects.jsonl");
    let report = std::fs::read_to_string(&report_path).expect("reject report written");
    let mut lines: Vec<serde_json::Value> = report
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    lines.sort_by_key(|v| v["row"].as_str().unwrap_or_default().to_string());
    let reject = |column: &str, row: u32, value: &str, reason: &str| {
        serde_json::json!({"table": "t", "column": column, "row": format!("rowid {row}"),
            "value": value, "reason": reason})
    };
    assert_eq!(
        lines,
        vec![
            reject("qty", 2, "lots-of-it", "is not a valid integer"),
            reject("name", 3, "x'ff'", "is not valid UTF-8 (at byte 0)"),
            reject("name", 4, "a\u{0}b", "contains a NUL byte, which PostgreSQL text cannot hold"),
            reject("code", 5, "abcd", "is longer than 3 characters"),
            reject("price", 6, "0.999", "has 3 decimal places; numeric(4,2) would round it"),
            reject("small", 7, "70000", "is out of range for smallint"),
            reject(
                "at",
                8,
                "1700000000000",
                "is an epoch number past year 9999; if it counts milliseconds, convert it in SQLite first"
            ),
        ]
    );
    // The summary points to the report, and each column was warned about.
    assert!(
        stdout(&o).contains(&format!(
            "7 value(s) loaded as NULL; see the reject report {}",
            report_path.display()
        )),
        "{out}"
    );
    assert!(
        stderr(&o).contains("warning: table `t`, column `qty`: invalid value loaded as NULL"),
        "{out}"
    );
}

#[test]
fn reject_file_path_is_relative_to_the_config() {
    let fx = Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, qty INTEGER); INSERT INTO t VALUES (1, 'x');",
    );
    let db = PgDb::new();
    let cfg = fx.config(
        &db,
        "app",
        "on_invalid_value = \"null\"\nreject_file = \"report/bad.jsonl\"",
    );
    std::fs::create_dir(fx.path().join("report")).unwrap();
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    assert_ok(&o);
    let report = std::fs::read_to_string(fx.path().join("report/bad.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    assert_eq!(line["row"], "rowid 1");
    assert_eq!(line["value"], "x");
    assert!(!fx.path().join("barge_rejects.jsonl").exists());
}

#[test]
fn null_policy_cannot_null_a_not_null_column() {
    let fx = Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL);
         INSERT INTO t VALUES (1, 1), (2, 'x');",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "on_invalid_value = \"null\"");
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = assert_exit(&o, 4);
    assert!(
        stderr(&o).contains(
            "error: column `qty` of table `t`: value `x` is not a valid integer, and the column is NOT NULL so it cannot be loaded as NULL (rowid 2)"
        ),
        "{out}"
    );
}

#[test]
fn not_null_refusal_does_not_suggest_the_policy_already_set() {
    let fx = Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL);
         INSERT INTO t VALUES (1, 'x');",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "on_invalid_value = \"null\"");
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = assert_exit(&o, 4);
    assert!(
        !stderr(&o).contains("set `on_invalid_value = \"null\"`"),
        "{out}"
    );
}

#[test]
fn table_without_rowid_names_the_key_of_an_invalid_value() {
    let fx = Fixture::sqlite(
        "CREATE TABLE kv (k TEXT, n INTEGER, v INTEGER, PRIMARY KEY (k, n)) WITHOUT ROWID;
         INSERT INTO kv VALUES ('a', 1, 1), ('b', 2, 'abc');",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = assert_exit(&o, 4);
    assert!(
        stderr(&o).contains(
            "error: column `v` of table `kv`: value `abc` is not a valid integer (key (k, n) = (b, 2))"
        ),
        "{out}"
    );

    // With the null policy the report names the key too, and the table copies as one stream.
    let cfg = fx.config(&db, "app", "on_invalid_value = \"null\"");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(
        db.query("SELECT k, n, v FROM app.kv ORDER BY k"),
        vec![vec![s("a"), s("1"), s("1")], vec![s("b"), s("2"), None]]
    );
    let report = std::fs::read_to_string(fx.path().join("barge_rejects.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    assert_eq!(line["row"], "key (k, n) = (b, 2)");
}

#[test]
fn blob_round_trips_every_byte_value() {
    let all: Vec<u8> = (0..=255u8).collect();
    // Large enough to span several 256 KiB COPY buffers.
    let big: Vec<u8> = (0..700_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let fx = Fixture::sqlite(&format!(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB);
         INSERT INTO t VALUES (1, x'{}'), (2, x''), (3, NULL), (4, x'{}'), (5, x'00');",
        hex(&all),
        hex(&big)
    ));
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    let rows = db.query("SELECT id, encode(b, 'hex'), length(b) FROM app.t ORDER BY id");
    assert_eq!(
        rows,
        vec![
            vec![s("1"), Some(hex(&all)), s("256")],
            vec![s("2"), s(""), s("0")],
            vec![s("3"), None, None],
            vec![s("4"), Some(hex(&big)), s("700000")],
            vec![s("5"), s("00"), s("1")],
        ]
    );
}
