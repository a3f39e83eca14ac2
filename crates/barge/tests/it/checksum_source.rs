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
const MODES: [&[&str]; 2] = [&[], DATABASE];

const DATABASE: &[&str] = &["--checksum-source", "database"];

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
        db.scalar("SELECT e::text FROM app.t WHERE id = 1")
            .as_deref(),
        Some(r"\N")
    );
    for mode in MODES {
        let (code, _, text) = validate_json(&cfg, mode);
        assert_eq!(code, Some(0), "{mode:?}: {text}");
    }
    db.execute(r"UPDATE app.t SET e = CASE id WHEN 1 THEN NULL WHEN 2 THEN '\N' ELSE e END");
    for mode in MODES {
        let (code, json, text) = validate_json(&cfg, mode);
        assert_eq!(code, Some(4), "{mode:?}: {text}");
        assert_eq!(
            differences(&json, "t"),
            changed(&["(id) = (1)", "(id) = (2)"])
        );
    }
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
            assert_eq!(
                differences(&json, "t"),
                changed(want),
                "{one}, {two}, {mode:?}"
            );
        }
    }
}

/// `(row, column)` of every changed column of every listed difference of a table.
fn changed_columns(json: &Value, name: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for d in table(json, name)["checksum"]["differences"]
        .as_array()
        .expect("differences")
    {
        assert_eq!(d["kind"], "changed", "{d:#}");
        for c in d["columns"].as_array().expect("columns") {
            out.push((
                d["row"].as_str().unwrap().to_string(),
                c["column"].as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

fn sqlite_exec(fx: &Fixture, sql: &str) {
    let conn = rusqlite::Connection::open(&fx.sqlite).expect("open sqlite fixture");
    conn.execute_batch(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// SQLite values of every kind barge converts, migrated faithfully: the database mode agrees
/// with PostgreSQL on each (shortest floats, microseconds, numerics, UUIDs, blobs).
const SQLITE_VALUES: &str = r#"
    CREATE TABLE v (id INTEGER PRIMARY KEY, seen DATETIME, flag BOOLEAN, ratio REAL,
        uid UUID, anything, doc JSON, price NUMERIC(10,2), born DATE, t TIME, name TEXT,
        raw BLOB, qty INTEGER, big BIGINT, code CHAR(3));
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9)
      INSERT INTO v SELECT i, '2024-01-02 03:04:05.12345' || i, i % 2,
        CASE i WHEN 1 THEN 0.1 + 0.2 WHEN 2 THEN 1e300 WHEN 3 THEN -2.5e-7
               WHEN 4 THEN 123456789.123 ELSE i / 7.0 END,
        '123e4567-e89b-12d3-a456-42661417400' || i, 'text ' || i, '{"b": [1.50, "x"], "a": ' || i || '}',
        i * 1.25, date('2000-01-01', '+' || i || ' days'), '10:00:0' || i || '.5', 'name|' || i || ':ü',
        x'00ff' || i, i * 3, 9223372036854775807 - i, 'ab'
      FROM n;
    UPDATE v SET seen = '2024-02-29T23:59:59', t = '23:59:59', uid = x'123e4567e89b12d3a456426614174000',
        price = 7, ratio = 1e-300, raw = 'text in a blob' WHERE id = 9;
"#;

#[test]
fn database_checksum_agrees_with_a_faithful_sqlite_migration_and_names_each_guess() {
    let fx = Fixture::sqlite(SQLITE_VALUES);
    let db = PgDb::new();
    let cfg = fx.config(
        &db,
        "app",
        "validation = \"checksum\"\nchecksum_source = \"database\"\nchunk_size = 2",
    );
    let out = assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert!(
        out.contains("validation: every value matches (checksums) in all 1 table(s)"),
        "{out}"
    );
    assert!(out.contains("policy applied: "), "{out}");
    let (code, json, text) = validate_json(&cfg, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(table(&json, "v")["checksum"]["source_side"], "database");

    // Each defect of issue 13 part B that SQLite can show, re-introduced: the source holds
    // the value, the target what the defect loaded for it.
    sqlite_exec(
        &fx,
        "UPDATE v SET seen = 2459000.5 WHERE id = 1;
         UPDATE v SET seen = 20200101 WHERE id = 2;
         UPDATE v SET seen = 1700000000.1234567 WHERE id = 3;
         UPDATE v SET anything = x'68656c6c6f' WHERE id = 4;
         UPDATE v SET flag = 'yes' WHERE id = 5;
         UPDATE v SET ratio = 'NaN' WHERE id = 6;
         UPDATE v SET uid = '{123e4567-e89b-12d3-a456-426614174007}' WHERE id = 7;",
    );
    db.execute(
        "UPDATE app.v SET seen = to_timestamp(2459000.5) AT TIME ZONE 'UTC' WHERE id = 1;
         UPDATE app.v SET seen = to_timestamp(20200101) AT TIME ZONE 'UTC' WHERE id = 2;
         UPDATE app.v SET seen = to_timestamp(1700000000.123457) AT TIME ZONE 'UTC' WHERE id = 3;
         UPDATE app.v SET anything = 'hello' WHERE id = 4;
         UPDATE app.v SET flag = true WHERE id = 5;
         UPDATE app.v SET ratio = 'NaN' WHERE id = 6;",
    );
    let (code, json, text) = validate_json(&cfg, DATABASE);
    assert_eq!(code, Some(4), "{text}");
    assert_eq!(
        changed_columns(&json, "v"),
        pairs(&[
            ("(id) = (1)", "seen"),
            ("(id) = (2)", "seen"),
            ("(id) = (3)", "seen"),
            ("(id) = (4)", "anything"),
            ("(id) = (5)", "flag"),
            ("(id) = (6)", "ratio"),
            ("(id) = (7)", "uid"),
        ]),
        "{json:#}"
    );
    let out = barge(&[
        "validate",
        cfg.to_str().unwrap(),
        "--checksum-source",
        "database",
    ]);
    let t = crate::support::assert_exit(&out, 4);
    assert!(
        t.contains("`seen` real 2459000.5 (no canonical form) -> '1970-01-29 11:03:20.500000'"),
        "{t}"
    );
    assert!(
        t.contains("`flag` text 'yes' (no canonical form) -> 't'"),
        "{t}"
    );
}

/// MariaDB values of every kind barge maps, including converted ones (tinyint(1) to
/// boolean, a zero date to NULL, unsigned widening, latin1 text, JSON to jsonb, a stored
/// generated column).
const MARIADB_VALUES: &[&str] = &[
    "SET SESSION sql_mode = ''",
    "CREATE TABLE things (
        id INT UNSIGNED NOT NULL PRIMARY KEY,
        active TINYINT(1),
        tiny TINYINT,
        ubig BIGINT UNSIGNED,
        amount DECIMAL(12,3),
        f FLOAT,
        d DOUBLE,
        dd DOUBLE(10,4),
        name VARCHAR(40) CHARACTER SET utf8mb4,
        lowered VARCHAR(40) AS (LOWER(name)) STORED,
        legacy VARCHAR(20) CHARACTER SET latin1,
        code CHAR(4),
        kind ENUM('small','large'),
        bin VARBINARY(8),
        day DATE,
        at DATETIME(6),
        stamp TIMESTAMP(3) NULL,
        t TIME(2),
        yr YEAR,
        flags BIT(5),
        doc JSON,
        shape POINT
    ) ENGINE=InnoDB",
    "INSERT INTO things (id, active, tiny, ubig, amount, f, d, dd, name, legacy, code, kind, bin,
        day, at, stamp, t, yr, flags, doc, shape) VALUES
        (1, 1, -128, 18446744073709551615, 123456789.125, 1.5, 0.1 + 0.2, 1.2345,
         'Zoë | one:1', 'café', 'ab', 'small', X'00FF10', '2024-02-29',
         '2024-01-02 03:04:05.123456', '2024-06-01 12:00:00.5', '23:59:59.25', 2024, b'10101',
         '{\"b\": 1, \"a\": [1.50, 2e3, \"xé\", {\"z\": null, \"y\": true}]}', ST_GeomFromText('POINT(1 2)')),
        (2, 0, 127, 0, -0.001, -3.25e-3, 1e300, -0.5,
         'SCHOOL', NULL, 'abcd', 'large', X'', '0000-00-00', '1970-01-01 00:00:00', NULL,
         '00:00:00', 1901, b'0', 'null', NULL),
        (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    "INSERT INTO things (id, name, amount, day, d, doc)
        SELECT 100 + seq, CONCAT('row ', seq), seq / 8, '2001-01-01' + INTERVAL seq DAY,
            seq / 7e0, CONCAT('{\"n\": ', seq, '}')
        FROM seq_1_to_60",
];

#[test]
fn database_checksum_agrees_with_a_faithful_mariadb_migration_and_names_each_defect() {
    let mut src = MariaDb::new(MARIADB_VALUES);
    let db = PgDb::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = crate::mariadb::write_config(
        dir.path(),
        &src.url,
        &db.url,
        "validation = \"checksum\"\nchecksum_source = \"database\"\nchunk_size = 20\n\n[type_mapping]\nzero_date_mode = \"null\"\nwiden_unsigned_integers = true\nspatial_mode = \"wkt_text\"\njson_as_jsonb = true\ntinyint1_as_boolean = true",
        "",
    );
    let out = assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert!(
        out.contains("validation: every value matches (checksums) in all 1 table(s)"),
        "{out}"
    );
    let (code, json, text) = validate_json(&cfg, &[]);
    assert_eq!(code, Some(0), "{text}");
    let policies = table(&json, "things")["checksum"]["policies"].to_string();
    for want in ["zero dates compared as NULL", "read as boolean", "widened"] {
        assert!(policies.contains(want), "{want}: {policies}");
    }
    // Only the database mode compares the generated column (PostgreSQL computes its own).
    assert_eq!(
        db.scalar("SELECT is_generated FROM information_schema.columns WHERE table_schema = 'app' AND column_name = 'lowered'").as_deref(),
        Some("ALWAYS")
    );

    // Each defect of issue 13 part B that MariaDB can show, re-introduced.
    src.execute(
        "UPDATE things SET doc = '{\"a\":1,\"a\":2}' WHERE id = 101;
         UPDATE things SET doc = '-0' WHERE id = 102;
         UPDATE things SET shape = ST_GeomFromText('POINT(1 2)', 4326) WHERE id = 1;
         UPDATE things SET name = 'ÉCOLE' WHERE id = 2",
    );
    db.execute(
        "UPDATE app.things SET doc = '{\"a\":2}' WHERE id = 101;
         UPDATE app.things SET doc = '0' WHERE id = 102;
         UPDATE app.things SET dd = 1.23 WHERE id = 1;
         UPDATE app.things SET at = at + interval '1 hour' WHERE id = 2;
         UPDATE app.things SET name = 'ÉCOLE' WHERE id = 2;
         ALTER TABLE app.things DROP COLUMN lowered;
         ALTER TABLE app.things ADD COLUMN lowered text GENERATED ALWAYS AS (lower(name COLLATE \"C\")) STORED;",
    );
    let (code, json, text) = validate_json(&cfg, DATABASE);
    assert_eq!(code, Some(4), "{text}");
    assert_eq!(
        changed_columns(&json, "things"),
        pairs(&[
            ("(id) = (1)", "dd"),
            ("(id) = (1)", "shape"),
            ("(id) = (2)", "lowered"),
            ("(id) = (2)", "at"),
            ("(id) = (101)", "doc"),
            ("(id) = (102)", "doc"),
        ]),
        "{json:#}"
    );
}

/// The MariaDB types of the other mappings (native enums, SET as text[], BIT as bit
/// varying, TIME as interval, INET6, UUID, geometry as PostGIS and as WKB bytea) agree in the
/// database mode after a faithful migration, and one changed value of each is found.
#[test]
fn database_checksum_agrees_on_every_mariadb_mapping() {
    let src = MariaDb::new(&[
        "CREATE TABLE gear (
            code VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL PRIMARY KEY,
            size ENUM('s','m','l'),
            tags SET('red','green','blue ish'),
            flags BIT(10),
            span TIME(3),
            addr INET6,
            id UUID,
            raw BINARY(16),
            pos POINT,
            any_shape GEOMETRY
        )",
        "INSERT INTO gear VALUES
            ('Abc', 'm', 'red,blue ish', b'1010000011', '-12:30:00.250', '2001:db8::1',
             '123e4567-e89b-12d3-a456-426614174000', X'00112233445566778899AABBCCDDEEFF',
             ST_GeomFromText('POINT(1 2)', 4326), ST_GeomFromText('MULTILINESTRING((0 0,1 1),(2 2,3 3.5))', 3857)),
            ('b', NULL, '', b'0', '838:59:59', '::ffff:10.0.0.1', NULL, NULL,
             ST_GeomFromText('POINT(-0.5 1e-7)'), ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1),LINESTRING(0 0,2 2))')),
            ('c', 'l', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    ]);
    for (mapping, tamper) in [
        (
            "[type_mapping]\nenum_mode = \"native\"\nset_mode = \"text_array\"\nbit_mode = \"varbit\"\ntime_mode = \"interval\"\ncollation_mode = \"auto\"\n\n[postgis]\nenabled = true\ncreate_extension = true",
            "UPDATE app.gear SET span = span + interval '1 microsecond', tags = '{red}', flags = B'1010000010', addr = '2001:db8::2', id = '123e4567-e89b-12d3-a456-426614174001', any_shape = ST_SetSRID(any_shape, 4326) WHERE code = 'Abc'",
        ),
        (
            "[type_mapping]\nspatial_mode = \"wkb_bytea\"\ntime_mode = \"interval\"",
            "UPDATE app.gear SET pos = set_byte(pos, 9, 1) WHERE code = 'Abc'",
        ),
    ] {
        let db = PgDb::new();
        let dir = tempfile::tempdir().expect("temp dir");
        let cfg = crate::mariadb::write_config(
            dir.path(),
            &src.url,
            &db.url,
            &format!("validation = \"checksum\"\nchecksum_source = \"database\"\n\n{mapping}"),
            "",
        );
        let out = assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
        assert!(
            out.contains("validation: every value matches (checksums) in all 1 table(s)"),
            "{mapping}: {out}"
        );
        db.execute(tamper);
        let (code, json, text) = validate_json(&cfg, DATABASE);
        assert_eq!(code, Some(4), "{mapping}: {text}");
        assert_eq!(
            differences(&json, "gear"),
            changed(&["(code) = ('Abc')"]),
            "{mapping}: {json:#}"
        );
    }
}
