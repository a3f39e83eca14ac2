//! Checksum validation (`validation = "checksum"`, `barge validate --validation checksum`):
//! every value compared in canonical form; a clean run passes for SQLite and MariaDB with a
//! spread of types, and a changed value, a missing row and an extra row in the target are each
//! found and located by key (by all values for a table without a key).

use crate::mariadb::MariaDb;
use crate::support::{assert_exit, assert_ok, barge, Fixture, PgDb};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn write_config(dir: &Path, src: &MariaDb, db: &PgDb, extra: &str) -> PathBuf {
    crate::mariadb::write_config(dir, &src.url, &db.url, extra, "")
}

/// Every type barge maps from SQLite, with the values that are easy to get wrong: -0.0,
/// NaN-free floats, numerics that PostgreSQL pads to their scale, text with `|` and `:`,
/// unicode, NULLs, converted values (text `'42'` in an INTEGER column, an epoch DATETIME).
const SQLITE_SOURCE: &str = r#"
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        name TEXT,
        code VARCHAR(12),
        tag CHAR(5),
        qty INTEGER,
        small SMALLINT,
        price NUMERIC(10,2),
        ratio REAL,
        weight DOUBLE,
        flag BOOLEAN,
        born DATE,
        seen DATETIME,
        at_time TIME,
        doc JSON,
        uid UUID,
        raw BLOB
    );
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
      INSERT INTO items SELECT i, 'name|' || i || ':ü', 'c' || i, 'ab', i * 3, i % 100,
        i * 1.25, i / 8.0, i * 1e10, i % 2, date('2000-01-01', '+' || i || ' days'),
        datetime(1700000000 + i * 3600, 'unixepoch'), '10:00:0' || (i % 10),
        '{"b": ' || i || ', "a": [1.50, "x"]}', NULL, x'00ff' || i FROM n;
    UPDATE items SET qty = '42', ratio = -0.0, name = NULL, doc = '{"a":1,"a":2, "z" : 1e2}',
        uid = '123e4567-e89b-12d3-a456-426614174000', seen = 1700000000 WHERE id = 3;
    UPDATE items SET price = '7.5', flag = 'true', weight = 1e300, born = '2024-02-29 00:00:00' WHERE id = 4;
    CREATE TABLE notes (body TEXT, n INTEGER);
    INSERT INTO notes VALUES ('one', 1), ('two', 2), ('two', 2), (NULL, 3);
    CREATE TABLE pairs (a TEXT NOT NULL, b INTEGER NOT NULL, v TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;
    INSERT INTO pairs VALUES ('x', 1, 'p'), ('x', 2, 'q'), ('y', 1, 'r');
"#;

/// A MariaDB migration with `extra` configuration that must succeed: the folder holding its
/// configuration (keep it alive), the configuration and the run's output.
fn migrate_ok(src: &MariaDb, db: &PgDb, extra: &str) -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = write_config(dir.path(), src, db, extra);
    let out = assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    (dir, cfg, out)
}

fn checks(json: &Value) -> Vec<&Value> {
    json.as_array()
        .expect("a JSON array of tables")
        .iter()
        .collect()
}

fn table<'a>(json: &'a Value, name: &str) -> &'a Value {
    checks(json)
        .into_iter()
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

fn validate_json(cfg: &std::path::Path) -> (Option<i32>, Value, String) {
    let out = barge(&[
        "validate",
        cfg.to_str().unwrap(),
        "--validation",
        "checksum",
        "--format",
        "json",
    ]);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "validate --format json printed no JSON ({e}):\n{}",
            crate::support::text(&out)
        )
    });
    (out.status.code(), json, crate::support::text(&out))
}

#[test]
fn checksum_passes_after_a_clean_sqlite_run() {
    let fx = Fixture::sqlite(SQLITE_SOURCE);
    let db = PgDb::new();
    // Small chunks, so the 500-row table is compared in several buckets.
    let cfg = fx.config(&db, "app", "validation = \"checksum\"\nchunk_size = 100");
    let out = assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert!(
        out.contains("validation: every value matches (checksums) in all 3 table(s)"),
        "{out}"
    );
    let (code, json, text) = validate_json(&cfg);
    assert_eq!(code, Some(0), "{text}");
    let items = table(&json, "items");
    assert_eq!(items["source_rows"], 500);
    assert_eq!(items["target_rows"], 500);
    assert_eq!(items["checksum"]["chunks"], 5, "{json:#}");
    assert_eq!(items["checksum"]["differing_chunks"], 0);
    assert_eq!(items["checksum"]["key"], serde_json::json!(["id"]));
    assert_eq!(
        table(&json, "notes")["checksum"]["key"],
        serde_json::json!([])
    );
    assert_eq!(
        table(&json, "pairs")["checksum"]["key"],
        serde_json::json!(["a", "b"])
    );
    // The text form says what was compared.
    let out = assert_ok(&barge(&[
        "validate",
        cfg.to_str().unwrap(),
        "--validation",
        "checksum",
    ]));
    assert!(
        out.contains("checksum: every value of every row compared"),
        "{out}"
    );
}

#[test]
fn checksum_locates_changed_missing_and_extra_rows_sqlite() {
    let fx = Fixture::sqlite(SQLITE_SOURCE);
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "chunk_size = 100");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    // Row counts alone would see nothing: one row changed, one gone, one added.
    db.execute(
        "UPDATE app.items SET price = 99.99 WHERE id = 7;
         DELETE FROM app.items WHERE id = 250;
         INSERT INTO app.items (id, name) VALUES (501, 'intruder');
         UPDATE app.notes SET body = 'uno' WHERE n = 1;
         UPDATE app.pairs SET v = 'Q' WHERE a = 'x' AND b = 2;",
    );
    let rows = barge(&["validate", cfg.to_str().unwrap()]);
    let rows_text = crate::support::text(&rows);
    assert_eq!(
        rows.status.code(),
        Some(0),
        "row counts still match: {rows_text}"
    );

    let (code, json, text) = validate_json(&cfg);
    assert_eq!(code, Some(4), "{text}");
    assert_eq!(
        differences(&json, "items"),
        [
            ("changed".to_string(), "(id) = (7)".to_string()),
            ("missing_in_target".to_string(), "(id) = (250)".to_string()),
            ("extra_in_target".to_string(), "(id) = (501)".to_string()),
        ]
    );
    let changed = &table(&json, "items")["checksum"]["differences"][0]["columns"];
    assert_eq!(
        changed,
        &serde_json::json!([{"column": "price", "source": "8.75", "target": "99.99"}])
    );
    // A table without a key: the changed row shows as one missing and one extra, by value.
    assert_eq!(
        differences(&json, "notes"),
        [
            (
                "missing_in_target".to_string(),
                "(body, n) = ('one', 1)".to_string()
            ),
            (
                "extra_in_target".to_string(),
                "(body, n) = ('uno', 1)".to_string()
            ),
        ]
    );
    assert_eq!(
        differences(&json, "pairs"),
        [("changed".to_string(), "(a, b) = ('x', 2)".to_string())]
    );

    // The same in the text report.
    let out = barge(&[
        "validate",
        cfg.to_str().unwrap(),
        "--validation",
        "checksum",
    ]);
    let t = assert_exit(&out, 4);
    assert!(t.contains("rows located by key (id)"), "{t}");
    assert!(
        t.contains("changed            (id) = (7): `price` 8.75 -> 99.99"),
        "{t}"
    );
    assert!(t.contains("missing in target  (id) = (250)"), "{t}");
    assert!(t.contains("extra in target    (id) = (501)"), "{t}");

    // After a run with `validation = "checksum"`, the same differences fail the run (exit 4).
    db.execute("DROP TABLE app.notes");
    let (code, json, text) = validate_json(&cfg);
    assert_eq!(code, Some(4), "{text}");
    assert!(table(&json, "notes")["target_rows"].is_null(), "{json:#}");
}

#[test]
fn checksum_after_a_run_fails_the_run_when_the_target_changed_under_it() {
    let fx = Fixture::sqlite(SQLITE_SOURCE);
    let db = PgDb::new();
    // An after_data hook changes a value behind barge's back: the checksum must see it.
    fx.write(
        "tamper.sql",
        "UPDATE {{schema}}.items SET name = 'tampered' WHERE id = 11;",
    );
    let cfg = fx.config_toml(
        &db,
        "schema = \"app\"\non_schema_exists = \"recreate\"\nvalidation = \"checksum\"\n\n[hooks]\nafter_data = [\"tamper.sql\"]",
    );
    let out = barge(&["migrate", cfg.to_str().unwrap()]);
    let t = assert_exit(&out, 4);
    assert!(t.contains("validation: 1 table(s) differ"), "{t}");
    assert!(
        t.contains("changed            (id) = (11): `name` 'name|11:ü' -> 'tampered'"),
        "{t}"
    );
}

/// A MariaDB table with a spread of the types barge maps, including converted ones
/// (tinyint(1) to boolean, a zero date to NULL, unsigned widening, enum to text).
const MARIADB_SOURCE: &[&str] = &[
    "SET SESSION sql_mode = ''",
    "CREATE TABLE things (
        id INT UNSIGNED NOT NULL PRIMARY KEY,
        active TINYINT(1),
        tiny TINYINT,
        big BIGINT,
        ubig BIGINT UNSIGNED,
        amount DECIMAL(12,3),
        f FLOAT,
        d DOUBLE,
        name VARCHAR(40) CHARACTER SET utf8mb4,
        legacy VARCHAR(20) CHARACTER SET latin1,
        code CHAR(4),
        body TEXT,
        kind ENUM('small','large'),
        bin VARBINARY(8),
        blobby BLOB,
        day DATE,
        at DATETIME(6),
        stamp TIMESTAMP NULL,
        t TIME,
        yr YEAR,
        doc JSON
    ) ENGINE=InnoDB",
    "INSERT INTO things VALUES
        (1, 1, -128, -9223372036854775808, 18446744073709551615, 123456789.125, 1.5, -0.0,
         'Zoë | one:1', 'café', 'ab', 'long text', 'small', X'00FF10', X'DEADBEEF',
         '2024-02-29', '2024-01-02 03:04:05.123456', '2024-06-01 12:00:00', '23:59:59', 2024,
         '{\"b\": 1, \"a\": [1.50, 2e3]}'),
        (2, 0, 127, 9223372036854775807, 0, -0.001, -3.25e-3, 1e300,
         '', NULL, 'abcd', '', 'large', X'', NULL,
         '0000-00-00', '1970-01-01 00:00:00', NULL, '00:00:00.000000', 1901, 'null'),
        (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    "INSERT INTO things (id, name, amount, day)
        SELECT 100 + seq, CONCAT('row ', seq), seq / 8, '2001-01-01' + INTERVAL seq DAY
        FROM seq_1_to_300",
    "CREATE TABLE log (line VARCHAR(20), n INT)",
    "INSERT INTO log VALUES ('a', 1), ('a', 1), ('b', 2)",
];

#[test]
fn checksum_mariadb_clean_run_passes_and_differences_are_located() {
    let src = MariaDb::new(MARIADB_SOURCE);
    let db = PgDb::new();
    let (_dir, cfg, out) = migrate_ok(&src, &db, "validation = \"checksum\"\nchunk_size = 50\n\n[type_mapping]\nzero_date_mode = \"null\"\nwiden_unsigned_integers = true");
    assert!(
        out.contains("validation: every value matches (checksums) in all 2 table(s)"),
        "{out}"
    );
    let (code, json, text) = validate_json(&cfg);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(table(&json, "things")["source_rows"], 303);
    assert!(
        table(&json, "things")["checksum"]["chunks"].as_u64() > Some(1),
        "{json:#}"
    );

    db.execute(
        "UPDATE app.things SET at = at + interval '1 microsecond' WHERE id = 1;
         DELETE FROM app.things WHERE id = 150;
         INSERT INTO app.things (id, name) VALUES (9999, 'extra');
         DELETE FROM app.log WHERE line = 'a' AND ctid = (SELECT min(ctid) FROM app.log WHERE line = 'a');",
    );
    let (code, json, text) = validate_json(&cfg);
    assert_eq!(code, Some(4), "{text}");
    assert_eq!(
        differences(&json, "things"),
        [
            ("changed".to_string(), "(id) = (1)".to_string()),
            ("missing_in_target".to_string(), "(id) = (150)".to_string()),
            ("extra_in_target".to_string(), "(id) = (9999)".to_string()),
        ]
    );
    assert_eq!(
        table(&json, "things")["checksum"]["differences"][0]["columns"],
        serde_json::json!([{
            "column": "at",
            "source": "2024-01-02 03:04:05.123456",
            "target": "2024-01-02 03:04:05.123457"
        }])
    );
    // One of two identical rows removed from a table without a key.
    assert_eq!(
        differences(&json, "log"),
        [(
            "missing_in_target".to_string(),
            "(line, n) = ('a', 1)".to_string()
        )]
    );
}

#[test]
fn checksum_lists_the_first_rows_in_key_order_and_counts_the_rest() {
    let fx = Fixture::sqlite(SQLITE_SOURCE);
    let db = PgDb::new();
    // 500 rows in buckets of about 10: changing every tenth row touches many buckets.
    let cfg = fx.config(&db, "app", "chunk_size = 10");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    db.execute("UPDATE app.items SET qty = -1 WHERE id % 10 = 0");
    let (code, json, text) = validate_json(&cfg);
    assert_eq!(code, Some(4), "{text}");
    let items = &table(&json, "items")["checksum"];
    assert_eq!(items["chunks"], 50, "{json:#}");
    let differing_chunks = items["differing_chunks"].as_u64().unwrap();
    assert!(differing_chunks > 8, "{json:#}");
    // Only the first 8 differing buckets are examined row by row, and it says so.
    assert_eq!(items["incomplete"], true);
    let listed = differences(&json, "items");
    assert!(!listed.is_empty() && listed.len() <= 20, "{listed:?}");
    assert!(
        listed.iter().all(|(kind, _)| kind == "changed"),
        "{listed:?}"
    );
    let ids: Vec<u64> = listed
        .iter()
        .map(|(_, row)| {
            row.trim_start_matches("(id) = (")
                .trim_end_matches(')')
                .parse()
                .unwrap()
        })
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "key order: {ids:?}");
    assert!(ids.iter().all(|id| id % 10 == 0), "{ids:?}");
    assert!(items["differing_rows"].as_u64().unwrap() >= ids.len() as u64);
    let out = barge(&[
        "validate",
        cfg.to_str().unwrap(),
        "--validation",
        "checksum",
    ]);
    let t = assert_exit(&out, 4);
    assert!(
        t.contains("more chunks differ than are examined row by row"),
        "{t}"
    );
    // `--validation row_count` still compares counts only, which match.
    let out = barge(&[
        "validate",
        cfg.to_str().unwrap(),
        "--validation",
        "row_count",
    ]);
    assert_ok(&out);
}

#[test]
fn checksum_counts_quarantined_orphans_as_present_and_names_nulled_references() {
    let fx = Fixture::sqlite(
        "PRAGMA foreign_keys = OFF;
         CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customer (id));
         CREATE TABLE note (id INTEGER PRIMARY KEY,
             customer_id INTEGER REFERENCES customer (id) ON DELETE SET NULL, body TEXT);
         INSERT INTO customer VALUES (1, 'a');
         INSERT INTO orders VALUES (10, 1), (11, 99);
         INSERT INTO note VALUES (1, 1, 'kept'), (2, 77, 'dangling');",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    let (code, json, text) = validate_json(&cfg);
    assert_eq!(code, Some(4), "{text}");
    // Order 11 moved to the quarantine on purpose: not a difference.
    let orders = table(&json, "orders");
    assert_eq!(orders["quarantined_rows"], 1, "{json:#}");
    assert_eq!(orders["checksum"]["differing_chunks"], 0, "{json:#}");
    assert_eq!(table(&json, "customer")["checksum"]["differing_chunks"], 0);
    // A reference orphan cleanup set to NULL is a changed value, named as such.
    assert_eq!(
        differences(&json, "note"),
        [("changed".to_string(), "(id) = (2)".to_string())]
    );
    assert_eq!(
        table(&json, "note")["checksum"]["differences"][0]["columns"],
        serde_json::json!([{"column": "customer_id", "source": "77", "target": "NULL"}])
    );
}

#[test]
fn checksum_mariadb_native_enums_sets_bits_intervals_inet_and_ci_collations() {
    let src = MariaDb::new(&[
        "CREATE TABLE gear (
            code VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL PRIMARY KEY,
            size ENUM('s','m','l'),
            tags SET('red','green','blue ish'),
            flags BIT(10),
            span TIME(3),
            addr INET6,
            label VARCHAR(30) COLLATE utf8mb4_bin
        )",
        "INSERT INTO gear VALUES
            ('Abc', 'm', 'red,blue ish', b'1010000011', '-12:30:00.250', '2001:db8::1', 'Straße'),
            ('b', NULL, '', b'0', '838:59:59', '::ffff:10.0.0.1', ''),
            ('c', 'l', NULL, NULL, NULL, NULL, NULL)",
    ]);
    let db = PgDb::new();
    let (_dir, cfg, out) = migrate_ok(&src, &db, "validation = \"checksum\"\n\n[type_mapping]\nenum_mode = \"native\"\nset_mode = \"text_array\"\nbit_mode = \"varbit\"\ntime_mode = \"interval\"\ncollation_mode = \"auto\"");
    assert!(
        out.contains("validation: every value matches (checksums) in all 1 table(s)"),
        "{out}"
    );
    // The types under test really are the ones named above.
    let types: Vec<String> = db
        .columns("app", "gear")
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    for want in ["text[]", "interval", "inet", "bit varying(10)"] {
        assert!(types.iter().any(|t| t == want), "{want} in {types:?}");
    }
    assert!(
        db.scalar("SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'app' AND t.typtype = 'e'")
            == Some("1".into()),
        "a native enum type"
    );
    // A change of case only: equal under the column's case-insensitive collation, but not
    // the same value, and the checksum says so.
    db.execute("UPDATE app.gear SET code = 'ABC' WHERE code = 'Abc'");
    let (code, json, text) = validate_json(&cfg);
    assert_eq!(code, Some(4), "{text}");
    assert_eq!(
        differences(&json, "gear"),
        [
            (
                "extra_in_target".to_string(),
                "(code) = ('ABC')".to_string()
            ),
            (
                "missing_in_target".to_string(),
                "(code) = ('Abc')".to_string()
            ),
        ]
    );
}

#[test]
fn checksum_mariadb_geometry_as_postgis_and_as_wkb_bytea() {
    let src = MariaDb::new(&[
        "CREATE TABLE place (
            id int PRIMARY KEY,
            pos point NOT NULL,
            area polygon,
            any_shape geometry,
            flat point
        )",
        "INSERT INTO place VALUES
            (1, ST_GeomFromText('POINT(1 2)', 4326), ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))', 4326),
                ST_GeomFromText('MULTILINESTRING((0 0,1 1),(2 2,3 3.5))', 3857), ST_GeomFromText('POINT(-0.5 1e-7)')),
            (2, ST_GeomFromText('POINT(-71.06 42.36)', 4326), NULL,
                ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1),LINESTRING(0 0,2 2))'), NULL)",
    ]);
    for (mapping, column_type, tampered) in [
        (
            "[postgis]\nenabled = true\ncreate_extension = true",
            "geometry",
            "UPDATE app.place SET any_shape = ST_SetSRID(any_shape, 4326) WHERE id = 1",
        ),
        (
            "[type_mapping]\nspatial_mode = \"wkb_bytea\"",
            "bytea",
            "UPDATE app.place SET flat = set_byte(flat, 9, 1) WHERE id = 1",
        ),
    ] {
        let db = PgDb::new();
        let (_dir, cfg, out) = migrate_ok(
            &src,
            &db,
            &format!("validation = \"checksum\"\n\n{mapping}"),
        );
        assert!(
            out.contains("validation: every value matches (checksums) in all 1 table(s)"),
            "{mapping}: {out}"
        );
        for (name, ty) in db.columns("app", "place").into_iter().skip(1) {
            assert!(ty.starts_with(column_type), "{mapping}: {name} is {ty}");
        }
        // One value changed by a single detail (the SRID, one byte of a coordinate): found.
        db.execute(tampered);
        let (code, json, text) = validate_json(&cfg);
        assert_eq!(code, Some(4), "{mapping}: {text}");
        assert_eq!(
            differences(&json, "place"),
            [("changed".to_string(), "(id) = (1)".to_string())],
            "{mapping}"
        );
    }
}

/// Generated columns that PostgreSQL computes (`GENERATED ALWAYS AS ... STORED`) are not
/// copied, so they are not in the source stream: the checksum compares the copied columns,
/// and a changed base value is still found (named by its own column).
#[test]
fn checksum_compares_the_copied_columns_of_a_table_with_generated_ones() {
    let src = MariaDb::new(&[
        "CREATE TABLE g (id INT PRIMARY KEY, a INT, b INT AS (a * 2) STORED,
            c INT AS (a + 1) VIRTUAL, d VARCHAR(10))",
        "INSERT INTO g (id, a, d) SELECT seq, seq * 3, CONCAT('d', seq) FROM seq_1_to_120",
    ]);
    let db = PgDb::new();
    let (_dir, cfg, out) = migrate_ok(&src, &db, "validation = \"checksum\"\nchunk_size = 40");
    assert!(
        out.contains("validation: every value matches (checksums) in all 1 table(s)"),
        "{out}"
    );
    // Both generated columns are PostgreSQL's own: computed there, not copied.
    assert_eq!(
        db.scalar("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'app' AND table_name = 'g' AND is_generated = 'ALWAYS'")
            .as_deref(),
        Some("2")
    );
    db.execute("UPDATE app.g SET a = 1000 WHERE id = 7");
    let (code, json, text) = validate_json(&cfg);
    assert_eq!(code, Some(4), "{text}");
    assert_eq!(
        differences(&json, "g"),
        [("changed".to_string(), "(id) = (7)".to_string())]
    );
    assert_eq!(
        table(&json, "g")["checksum"]["differences"][0]["columns"],
        serde_json::json!([{"column": "a", "source": "21", "target": "1000"}])
    );
}

/// `[source] row_reader = "driver"` reads with mysql_async instead of barge's own protocol
/// reader, which the default uses here (plain TCP): a migration read by one and validated
/// through the other finds every value equal, so each checks the other.
#[test]
fn rows_read_by_barge_and_by_the_driver_agree() {
    let src = MariaDb::new(MARIADB_SOURCE);
    let db = PgDb::new();
    let extra = "chunk_size = 50\n\n[type_mapping]\nzero_date_mode = \"null\"\nwiden_unsigned_integers = true";
    let dir = tempfile::tempdir().expect("temp dir");
    let lean = write_config(dir.path(), &src, &db, extra);
    let out = barge(&["migrate", lean.to_str().unwrap(), "--format", "json"]);
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON summary ({e}):\n{}", crate::support::text(&out)));
    assert_eq!(summary["source_reader"], "barge", "{summary:#}");

    let driver_dir = tempfile::tempdir().expect("temp dir");
    let driver = write_config(driver_dir.path(), &src, &db, extra);
    let text = std::fs::read_to_string(&driver).unwrap();
    std::fs::write(
        &driver,
        text.replacen("[source]\n", "[source]\nrow_reader = \"driver\"\n", 1),
    )
    .unwrap();
    let (code, json, text) = validate_json(&driver);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(table(&json, "things")["source_rows"], 303);
    assert!(
        table(&json, "things")["checksum"]["chunks"].as_u64() > Some(1),
        "{json:#}"
    );
    // And a migration read by the driver says so.
    let out = barge(&["migrate", driver.to_str().unwrap(), "--format", "json"]);
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON summary ({e}):\n{}", crate::support::text(&out)));
    assert_eq!(summary["source_reader"], "mysql_async", "{summary:#}");
}
