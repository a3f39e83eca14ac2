//! SQLite declared types -> PostgreSQL column types, with a value through each.

use crate::support::{assert_ok, barge, ident, Fixture, PgDb};

/// One column per type rule: (column, declared type, PostgreSQL `format_type`, SQLite literal
/// inserted, PostgreSQL text of the loaded value).
const RULES: &[(&str, &str, &str, &str, &str)] = &[
    ("b", "BOOLEAN", "boolean", "1", "true"),
    ("bo", "BOOL", "boolean", "0", "false"),
    ("ti", "TINYINT", "smallint", "127", "127"),
    ("si", "SMALLINT", "smallint", "-32768", "-32768"),
    ("i2", "INT2", "smallint", "5", "5"),
    ("i", "INT", "integer", "2147483647", "2147483647"),
    ("mi", "MEDIUMINT", "integer", "-5", "-5"),
    ("i4", "INT4", "integer", "7", "7"),
    (
        "ig",
        "INTEGER",
        "bigint",
        "9007199254740993",
        "9007199254740993",
    ),
    (
        "bi",
        "BIGINT",
        "bigint",
        "-9223372036854775808",
        "-9223372036854775808",
    ),
    ("i8", "INT8", "bigint", "8", "8"),
    ("ubi", "UNSIGNED BIG INT", "bigint", "9", "9"),
    ("r", "REAL", "double precision", "1.5", "1.5"),
    ("d", "DOUBLE", "double precision", "-2.25", "-2.25"),
    ("dp", "DOUBLE PRECISION", "double precision", "0.5", "0.5"),
    ("f", "FLOAT", "double precision", "1e300", "1e+300"),
    (
        "n",
        "NUMERIC(10,2)",
        "numeric(10,2)",
        "12345678.91",
        "12345678.91",
    ),
    ("dec", "DECIMAL(5,1)", "numeric(5,1)", "1234.5", "1234.5"),
    ("np", "NUMERIC(5)", "numeric(5,0)", "42", "42"),
    (
        "nn",
        "NUMERIC",
        "numeric",
        "123456789012345678",
        "123456789012345678",
    ),
    (
        "vc",
        "VARCHAR(20)",
        "character varying(20)",
        "'hello'",
        "hello",
    ),
    (
        "nvc",
        "NVARCHAR(20)",
        "character varying(20)",
        "'ünïcødé'",
        "ünïcødé",
    ),
    ("c", "CHAR(5)", "character varying(5)", "'abc'", "abc"),
    ("nc", "NCHAR(5)", "character varying(5)", "'xy'", "xy"),
    ("ch", "CHARACTER(3)", "character varying(3)", "'abc'", "abc"),
    ("vn", "VARCHAR", "text", "'no length'", "no length"),
    ("tx", "TEXT", "text", "'long text ✓'", "long text ✓"),
    ("cl", "CLOB", "text", "'clob'", "clob"),
    ("bl", "BLOB", "bytea", "x'00ff'", "\\x00ff"),
    ("dt", "DATE", "date", "'2024-02-29'", "2024-02-29"),
    (
        "dtt",
        "DATETIME",
        "timestamp without time zone",
        "'2024-01-02 03:04:05'",
        "2024-01-02 03:04:05",
    ),
    (
        "ts",
        "TIMESTAMP",
        "timestamp without time zone",
        "'1999-12-31 23:59:59.123456'",
        "1999-12-31 23:59:59.123456",
    ),
    (
        "tm",
        "TIME",
        "time without time zone",
        "'12:34:56'",
        "12:34:56",
    ),
    ("js", "JSON", "jsonb", "'{\"a\":[1, 2]}'", "{\"a\": [1, 2]}"),
    (
        "u",
        "UUID",
        "uuid",
        "'123E4567-E89B-12D3-A456-426614174000'",
        "123e4567-e89b-12d3-a456-426614174000",
    ),
    ("notype", "", "text", "'anything'", "anything"),
    // SQLite's affinity rules for names barge does not know.
    ("aff_int", "SHORTINT", "bigint", "42", "42"),
    ("aff_text", "VARYINGTEXT", "text", "'txt'", "txt"),
    ("aff_blob", "LONGBLOB", "bytea", "x'01'", "\\x01"),
    ("aff_real", "FLOATING", "double precision", "3.25", "3.25"),
    ("aff_num", "MONEY", "numeric", "19.99", "19.99"),
];

fn rules_fixture() -> Fixture {
    let columns: Vec<String> = RULES
        .iter()
        .map(|(c, decl, ..)| format!("{c} {decl}"))
        .collect();
    let names: Vec<&str> = RULES.iter().map(|r| r.0).collect();
    let values: Vec<&str> = RULES.iter().map(|r| r.3).collect();
    Fixture::sqlite(&format!(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, {});\n\
         INSERT INTO t (id, {}) VALUES (1, {});\n\
         INSERT INTO t (id) VALUES (2);",
        columns.join(", "),
        names.join(", "),
        values.join(", ")
    ))
}

#[test]
fn every_type_rule_gives_its_postgres_type_and_loads_its_value() {
    let fx = rules_fixture();
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));

    let mut expected = vec![("id".to_string(), "bigint".to_string())];
    expected.extend(RULES.iter().map(|r| (r.0.to_string(), r.2.to_string())));
    assert_eq!(db.columns("app", "t"), expected);
    assert_eq!(
        db.scalar(
            "SELECT is_identity FROM information_schema.columns \
             WHERE table_schema = 'app' AND table_name = 't' AND column_name = 'id'"
        )
        .as_deref(),
        Some("YES")
    );

    let select: Vec<String> = RULES
        .iter()
        .map(|r| format!("{}::text", ident(r.0)))
        .collect();
    let rows = db.query(&format!(
        "SELECT id, {} FROM app.t ORDER BY id",
        select.join(", ")
    ));
    let mut first = vec![Some("1".to_string())];
    first.extend(RULES.iter().map(|r| Some(r.4.to_string())));
    let mut second = vec![Some("2".to_string())];
    second.extend(RULES.iter().map(|_| None));
    assert_eq!(rows, vec![first, second]);
}

#[test]
fn plan_flags_types_placed_only_by_affinity() {
    let fx = rules_fixture();
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let out = assert_ok(&barge(&["plan", cfg.to_str().unwrap()]));
    for (column, decl) in [
        ("aff_int", "SHORTINT"),
        ("aff_text", "VARYINGTEXT"),
        ("aff_blob", "LONGBLOB"),
        ("aff_real", "FLOATING"),
        ("aff_num", "MONEY"),
    ] {
        assert!(
            out.contains(&format!(
                "warning: table `t`, column `{column}`: declared type `{decl}` is not a known type name"
            )),
            "{column}: {out}"
        );
    }
    // Known names raise nothing; only the five above are unknown.
    assert_eq!(out.matches("is not a known type name").count(), 5, "{out}");
    assert!(
        out.contains(
            "note: table `t`, column `notype`: column has no declared type; loaded as text"
        ),
        "{out}"
    );
    // The plan's column lines show the target type.
    assert!(out.contains("-> numeric(10,2)"), "{out}");
    assert!(out.contains("-> varchar(20)"), "{out}");
}

#[test]
fn affinity_findings_name_the_postgres_type() {
    let fx = rules_fixture();
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let out = assert_ok(&barge(&["plan", cfg.to_str().unwrap()]));
    let finding = |column: &str| -> String {
        out.lines()
            .find(|l| l.contains(&format!("column `{column}`: declared type")))
            .unwrap_or_else(|| panic!("no finding for {column}: {out}"))
            .to_string()
    };
    for (column, pg) in [
        ("aff_int", "bigint"),
        ("aff_text", "text"),
        ("aff_blob", "bytea"),
        ("aff_real", "double precision"),
        ("aff_num", "numeric"),
    ] {
        let line = finding(column);
        assert!(
            line.ends_with(&format!(" as {pg}")) || line.contains(&format!("`{pg}`")),
            "{line}"
        );
        for rust_name in ["Int8", "Text", "Bytea", "Float8", "Numeric {"] {
            assert!(!line.contains(rust_name), "{line}");
        }
    }
    // `unknown_as_text` changes only the numeric fallback, so only MONEY should suggest it.
    assert_eq!(out.matches("unknown_as_text").count(), 1, "{out}");
}

#[test]
fn type_mapping_options_change_datetime_json_and_unknown_types() {
    let fx = Fixture::sqlite(
        r#"
        CREATE TABLE t (id INTEGER PRIMARY KEY, dtt DATETIME, ts TIMESTAMP, d DATE, js JSON,
            m MONEY, aff_int SHORTINT);
        INSERT INTO t VALUES (1, '2024-01-02 03:04:05', '2024-01-02T03:04:05+02:00', '2024-01-02',
            '{"b":1,  "a":2}', 'twelve', 5);
        INSERT INTO t VALUES (2, 1700000000, '2024-06-30 23:59:59.5Z', NULL, '[1,2]', 19.99, NULL);
        "#,
    );
    let db = PgDb::new();
    let cfg = fx.config(
        &db,
        "app",
        "[type_mapping]\ndatetime_as_timestamptz = true\njson_as_jsonb = false\nunknown_as_text = true",
    );
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(
        db.columns("app", "t"),
        [
            ("id", "bigint"),
            ("dtt", "timestamp with time zone"),
            ("ts", "timestamp with time zone"),
            ("d", "date"),
            ("js", "json"),
            ("m", "text"),
            ("aff_int", "bigint"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // Times without an offset are UTC (SQLite's own clock); json keeps the text as written.
    let rows = db.query(
        "SELECT id, to_char(dtt AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), \
         to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), d::text, js::text, m, aff_int::text \
         FROM app.t ORDER BY id",
    );
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        rows,
        vec![
            vec![
                s("1"),
                s("2024-01-02 03:04:05.000000"),
                s("2024-01-02 01:04:05.000000"),
                s("2024-01-02"),
                s("{\"b\":1,  \"a\":2}"),
                s("twelve"),
                s("5"),
            ],
            vec![
                s("2"),
                s("2023-11-14 22:13:20.000000"),
                s("2024-06-30 23:59:59.500000"),
                None,
                s("[1,2]"),
                s("19.99"),
                None,
            ],
        ]
    );
}
