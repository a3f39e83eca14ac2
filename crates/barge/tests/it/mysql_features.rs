//! MariaDB -> PostgreSQL through `barge migrate`, one test per capability of the MySQL-family
//! source: each `[type_mapping]` mode's types and values, generated columns, CHECKs, comments,
//! FULLTEXT / prefix / functional indexes, ON UPDATE CURRENT_TIMESTAMP, unsigned checks, NUL
//! bytes, `single_tx` snapshots and PostGIS. Values are compared through PostgreSQL's text
//! of each column.

use crate::mariadb::MariaDb;
use crate::support::{assert_exit, assert_ok, barge, PgDb};
use std::path::PathBuf;

/// A config for the MariaDB at `src_url` -> `db` (schema `app`); see `mariadb::write_config`.
fn config(dir: &tempfile::TempDir, src_url: &str, db: &PgDb, top: &str, tail: &str) -> PathBuf {
    crate::mariadb::write_config(dir.path(), src_url, &db.url, top, tail)
}

fn migrate(src: &MariaDb, db: &PgDb, top: &str, tail: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(&dir, &src.url, db, top, tail);
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]))
}

fn rows(db: &PgDb, sql: &str) -> Vec<Vec<String>> {
    db.query(sql)
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|v| v.unwrap_or_else(|| "NULL".into()))
                .collect()
        })
        .collect()
}

fn column_type(db: &PgDb, table: &str, column: &str) -> String {
    db.scalar(&format!(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
         WHERE attrelid = 'app.{table}'::regclass AND attname = '{column}'"
    ))
    .unwrap_or_default()
}

const TYPED: &str = "CREATE TABLE t (
    id int PRIMARY KEY,
    b1 bit(1) NOT NULL DEFAULT b'0',
    b3 bit(3) DEFAULT b'101',
    b10 bit(10),
    tm time(3),
    ip4 inet4,
    ip6 inet6,
    st set('x','y','z') DEFAULT 'x,z',
    en enum('small','it''s big')
)";

const TYPED_ROWS: &str = "INSERT INTO t (id, b1, b3, b10, tm, ip4, ip6, st, en) VALUES
    (1, b'1', b'011', b'1000000001', '-838:59:59', '10.0.0.1', '2001:db8::1', 'y,z', 'it''s big'),
    (2, b'0', NULL, b'0', '838:59:58.125', '255.255.255.255', '::ffff:1.2.3.4', '', 'small'),
    (3, b'1', b'111', NULL, NULL, NULL, NULL, NULL, NULL)";

#[test]
fn type_modes_carry_every_value_and_default() {
    let src = MariaDb::new(&[TYPED, TYPED_ROWS, "INSERT INTO t (id) VALUES (4)"]);
    let db = PgDb::new();
    migrate(
        &src,
        &db,
        "",
        "[type_mapping]\nbit_mode = \"bit\"\ntime_mode = \"interval\"\nset_mode = \"text_array_check\"\nenum_mode = \"native\"",
    );
    let types: Vec<String> = ["b1", "b3", "b10", "tm", "ip4", "ip6", "st", "en"]
        .iter()
        .map(|c| column_type(&db, "t", c))
        .collect();
    assert_eq!(
        types,
        ["bit(1)", "bit(3)", "bit(10)", "interval", "inet", "inet", "text[]", "app.t_en"]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT id::text, b1::text, b3::text, b10::text, tm::text, host(ip4), host(ip6), st::text, en::text \
             FROM app.t ORDER BY id"
        ),
        [
            ["1", "1", "011", "1000000001", "-838:59:59", "10.0.0.1", "2001:db8::1", "{y,z}", "it's big"],
            ["2", "0", "NULL", "0000000000", "838:59:58.125", "255.255.255.255", "::ffff:1.2.3.4", "{}", "small"],
            ["3", "1", "111", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"],
            // Defaults: b'0' in bit(1), b'101' in bit(3), the SET default as an array.
            ["4", "0", "101", "NULL", "NULL", "NULL", "NULL", "{x,z}", "NULL"],
        ]
    );
    // The enum type has the labels in order; the SET's CHECK holds and is validated.
    assert_eq!(
        db.scalar("SELECT string_agg(enumlabel, '|' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = 'app.t_en'::regtype"),
        Some("small|it's big".into())
    );
    assert_eq!(
        db.scalar("SELECT string_agg(pg_get_constraintdef(oid) || ' ' || convalidated, ';') FROM pg_constraint WHERE conrelid = 'app.t'::regclass AND contype = 'c'"),
        Some("CHECK ((st <@ ARRAY['x'::text, 'y'::text, 'z'::text])) true".into())
    );
    assert!(db
        .try_execute("INSERT INTO app.t (id, st) VALUES (9, '{w}')")
        .is_err());
    // Defaults also hold for new rows.
    db.execute("INSERT INTO app.t (id) VALUES (10)");
    assert_eq!(
        rows(
            &db,
            "SELECT b1::text, b3::text, st::text FROM app.t WHERE id = 10"
        ),
        [["0", "101", "{x,z}"]]
    );

    // varbit keeps the same bits; text_array has no CHECK; bytea is the default.
    let db = PgDb::new();
    migrate(
        &src,
        &db,
        "",
        "[type_mapping]\nbit_mode = \"varbit\"\nset_mode = \"text_array\"\ntime_mode = \"text\"",
    );
    assert_eq!(column_type(&db, "t", "b10"), "bit varying(10)");
    assert_eq!(column_type(&db, "t", "st"), "text[]");
    assert_eq!(
        rows(
            &db,
            "SELECT b1::text, b3::text, b10::text FROM app.t ORDER BY id"
        ),
        [
            ["1", "011", "1000000001"],
            ["0", "NULL", "0000000000"],
            ["1", "111", "NULL"],
            ["0", "101", "NULL"]
        ]
    );
    // Only the enum's CHECK (enum_mode = "check" by default), none on the set.
    let checks = db
        .scalar("SELECT string_agg(pg_get_constraintdef(oid), ';') FROM pg_constraint WHERE conrelid = 'app.t'::regclass AND contype = 'c'")
        .unwrap_or_default();
    assert!(checks.contains("en") && !checks.contains("<@"), "{checks}");
    let db = PgDb::new();
    migrate(&src, &db, "", "[type_mapping]\ntime_mode = \"text\"");
    assert_eq!(column_type(&db, "t", "b10"), "bytea");
    assert_eq!(
        rows(&db, "SELECT encode(b1, 'hex'), encode(b10, 'hex'), pg_get_expr(adbin, adrelid) FROM app.t, pg_attrdef WHERE id = 1 AND adrelid = 'app.t'::regclass AND adnum = 2"),
        [["01", "0201", "'\\x00'::bytea"]]
    );
}

#[test]
fn generated_columns_checks_comments_and_indexes_are_recreated() {
    let src = MariaDb::new(&[
        "CREATE TABLE item (
            id int PRIMARY KEY COMMENT 'the key',
            name varchar(40) NOT NULL,
            qty int NOT NULL,
            price decimal(8,2) NOT NULL,
            total decimal(12,2) AS (qty * price) STORED,
            label varchar(60) AS (concat(upper(name), '-', name)) VIRTUAL,
            ratio decimal(10,4) AS (qty / 3) STORED,
            body text,
            CONSTRAINT qty_positive CHECK (qty > 0),
            CONSTRAINT name_set CHECK (name IN ('a', 'b', 'it''s') OR qty BETWEEN 10 AND 20),
            CONSTRAINT name_like CHECK (name LIKE '%'),
            FULLTEXT KEY ft_body (body, name),
            KEY ix_name_prefix (name(3))
        ) COMMENT 'things we sell'",
        "INSERT INTO item (id, name, qty, price, body) VALUES
            (1, 'a', 2, 1.25, 'red apples and pears'),
            (2, 'it''s', 15, 10.00, NULL)",
    ]);
    let db = PgDb::new();
    let out = migrate(&src, &db, "", "");
    // Translated generated columns are computed by PostgreSQL and hold the same values.
    assert_eq!(
        rows(
            &db,
            "SELECT id::text, total::text, label, ratio::text FROM app.item ORDER BY id"
        ),
        [
            ["1", "2.50", "A-a", "0.6667"],
            ["2", "150.00", "IT'S-it's", "5.0000"]
        ]
    );
    let generated = |c: &str| {
        db.scalar(&format!(
            "SELECT attgenerated::text FROM pg_attribute WHERE attrelid = 'app.item'::regclass AND attname = '{c}'"
        ))
    };
    assert_eq!(generated("total"), Some("s".into()));
    assert_eq!(generated("label"), Some("s".into()));
    // Division is not translated (MySQL and PostgreSQL divide integers differently): the
    // stored values are copied, and the summary says why.
    assert_eq!(generated("ratio"), Some("".into()));
    assert!(out.contains("ratio") && out.contains("division"), "{out}");
    db.execute("UPDATE app.item SET qty = 4 WHERE id = 1");
    assert_eq!(
        db.scalar("SELECT total::text FROM app.item WHERE id = 1"),
        Some("5.00".into())
    );
    // CHECKs keep their names; LIKE is refused with a finding.
    assert_eq!(
        rows(&db, "SELECT conname, convalidated::text FROM pg_constraint WHERE conrelid = 'app.item'::regclass AND contype = 'c' ORDER BY conname"),
        [["item_name_set", "true"], ["item_qty_positive", "true"]]
    );
    assert!(out.contains("name_like"), "{out}");
    assert!(db
        .try_execute("INSERT INTO app.item (id, name, qty, price) VALUES (3, 'a', 0, 1)")
        .is_err());
    // Comments.
    assert_eq!(
        db.scalar("SELECT obj_description('app.item'::regclass, 'pg_class')"),
        Some("things we sell".into())
    );
    assert_eq!(
        db.scalar("SELECT col_description('app.item'::regclass, 1)"),
        Some("the key".into())
    );
    // FULLTEXT as GIN over to_tsvector, usable by a search with the same expression; the
    // prefix index as an expression index.
    let defs = rows(
        &db,
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'app' AND tablename = 'item' ORDER BY indexname",
    );
    let def = |name: &str| {
        defs.iter()
            .find(|r| r[0] == name)
            .map(|r| r[1].clone())
            .unwrap_or_else(|| panic!("index {name} in {defs:?}"))
    };
    assert!(
        def("item_ft_body").contains("USING gin (to_tsvector('simple'::regconfig"),
        "{defs:?}"
    );
    assert!(
        def("item_ix_name_prefix").contains("substr((name)::text, 1, 3)"),
        "{defs:?}"
    );
    assert_eq!(
        db.scalar("SELECT id::text FROM app.item WHERE to_tsvector('simple'::regconfig, ((COALESCE(body, ''::text) || ' '::text) || (COALESCE(name, ''::character varying))::text)) @@ to_tsquery('simple', 'pears')"),
        Some("1".into())
    );
}

#[test]
fn on_update_current_timestamp_is_emulated_only_for_updates_that_leave_it_alone() {
    let src = MariaDb::new(&[
        "CREATE TABLE doc (
            id int PRIMARY KEY,
            body text,
            changed datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
        )",
        "INSERT INTO doc VALUES (1, 'a', '2001-01-01 00:00:00'), (2, 'b', '2001-01-01 00:00:00')",
    ]);
    let db = PgDb::new();
    migrate(
        &src,
        &db,
        "replicate_on_update_current_timestamp = true",
        "",
    );
    // Loaded values are the source's.
    assert_eq!(
        db.scalar("SELECT string_agg(changed::text, ',' ORDER BY id) FROM app.doc"),
        Some("2001-01-01 00:00:00,2001-01-01 00:00:00".into())
    );
    // An UPDATE that changes the row takes the current time, in the column's precision...
    db.execute("UPDATE app.doc SET body = 'a2' WHERE id = 1");
    let stamped = db
        .scalar("SELECT (changed > now() AT TIME ZONE 'UTC' - interval '1 minute')::text || ' ' || (extract(microseconds from changed)::bigint % 1000 = 0)::text FROM app.doc WHERE id = 1")
        .unwrap();
    assert_eq!(stamped, "true true");
    // ...one that sets the column keeps what it set, and one that changes nothing keeps it.
    db.execute("UPDATE app.doc SET body = 'b2', changed = '1999-09-09 09:09:09' WHERE id = 2");
    assert_eq!(
        db.scalar("SELECT changed::text FROM app.doc WHERE id = 2"),
        Some("1999-09-09 09:09:09".into())
    );
    db.execute("UPDATE app.doc SET body = body WHERE id = 2");
    assert_eq!(
        db.scalar("SELECT changed::text FROM app.doc WHERE id = 2"),
        Some("1999-09-09 09:09:09".into())
    );

    // Without the option: no trigger, and the plan says the behaviour is not replicated.
    let db = PgDb::new();
    let out = migrate(&src, &db, "", "");
    assert!(
        out.contains("ON UPDATE") || out.contains("on update"),
        "{out}"
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'app.doc'::regclass"),
        Some("0".into())
    );
}

#[test]
fn unsigned_checks_keep_negative_values_out() {
    let src = MariaDb::new(&[
        "CREATE TABLE u (id int unsigned PRIMARY KEY, big bigint unsigned, d decimal(5,2) unsigned, s smallint)",
        "INSERT INTO u VALUES (4294967295, 18446744073709551615, 999.99, -1)",
    ]);
    let db = PgDb::new();
    migrate(&src, &db, "add_unsigned_checks = true", "");
    assert_eq!(
        rows(&db, "SELECT id::text, big::text, d::text FROM app.u"),
        [["4294967295", "18446744073709551615", "999.99"]]
    );
    assert_eq!(
        rows(&db, "SELECT conname FROM pg_constraint WHERE conrelid = 'app.u'::regclass AND contype = 'c' ORDER BY conname"),
        [["u_big_unsigned"], ["u_d_unsigned"], ["u_id_unsigned"]]
    );
    assert!(db
        .try_execute("INSERT INTO app.u (id) VALUES (-1)")
        .is_err());
    db.execute("INSERT INTO app.u (id, s) VALUES (1, -5)");
}

#[test]
fn nul_bytes_follow_nul_byte_mode() {
    let src = MariaDb::new(&[
        "CREATE TABLE n (id int PRIMARY KEY, t text, j longtext CHECK (json_valid(j)))",
        "INSERT INTO n VALUES (1, 'a\\0b\\0', '{\"k\": \"x\\\\u0000y\"}'), (2, 'clean', '{\"k\": \"\\\\\\\\u0000\"}')",
    ]);
    // Default: stop, naming table, column, key and the option.
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&dir, &src.url, &db, "", "");
    let err = assert_exit(&barge(&["migrate", cfg.to_str().unwrap()]), 4);
    assert!(err.contains("column `t` of table `n`"), "{err}");
    assert!(err.contains("key (id) = (1)"), "{err}");
    assert!(err.contains("nul_byte_mode"), "{err}");

    let db = PgDb::new();
    let out = migrate(&src, &db, "nul_byte_mode = \"strip\"", "");
    assert_eq!(
        rows(&db, "SELECT t, j->>'k' FROM app.n ORDER BY id"),
        [["ab", "xy"], ["clean", "\\u0000"]]
    );
    assert!(
        out.contains("table `n`, column `t`: NUL bytes stripped in 1 value(s)"),
        "{out}"
    );
    assert!(
        out.contains("table `n`, column `j`: NUL bytes stripped in 1 value(s)"),
        "{out}"
    );

    let db = PgDb::new();
    migrate(&src, &db, "nul_byte_mode = \"replace\"", "");
    assert_eq!(
        rows(&db, "SELECT t, j->>'k' FROM app.n WHERE id = 1"),
        [["a\u{FFFD}b\u{FFFD}", "x\u{FFFD}y"]]
    );
}

const SNAPSHOT_ROWS: u64 = 60_000;

#[test]
fn slow_single_tx_reads_one_snapshot_on_parallel_sessions() {
    let mut src = MariaDb::new(&[
        "CREATE TABLE a (id int PRIMARY KEY, v int NOT NULL)",
        "CREATE TABLE b (id int PRIMARY KEY, v int NOT NULL)",
        &format!("INSERT INTO a SELECT seq, 1 FROM seq_1_to_{SNAPSHOT_ROWS}"),
        "INSERT INTO b SELECT id, v FROM a",
    ]);
    // A writer keeps moving rows' values while barge copies: in every snapshot, a and b hold
    // the same sum, because each transaction changes both.
    let url = src.url.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let rt = crate::mariadb::runtime();
            rt.block_on(async {
                use mysql_async::prelude::Queryable;
                let mut c = mysql_async::Conn::new(mysql_async::Opts::from_url(&url).unwrap())
                    .await
                    .unwrap();
                let mut n = 0u64;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let id = 1 + (n * 7919) % SNAPSHOT_ROWS;
                    c.query_drop(format!(
                        "START TRANSACTION; UPDATE a SET v = v + 1 WHERE id = {id}; UPDATE b SET v = v + 1 WHERE id = {}; COMMIT",
                        SNAPSHOT_ROWS + 1 - id
                    ))
                    .await
                    .unwrap();
                    n += 1;
                }
                n
            })
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    let db = PgDb::new();
    let out = migrate(
        &src,
        &db,
        "source_snapshot_mode = \"single_tx\"\nworkers = 4\nchunk_size = 5000",
        "",
    );
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let updates = writer.join().unwrap();
    assert!(updates > 0, "the writer ran");
    assert!(
        !out.contains("FLUSH TABLES WITH READ LOCK was refused"),
        "{out}"
    );
    let sums = rows(
        &db,
        "SELECT (SELECT sum(v) FROM app.a)::text, (SELECT sum(v) FROM app.b)::text",
    );
    assert_eq!(
        sums[0][0], sums[0][1],
        "one snapshot: both tables at the same moment"
    );

    // A user without RELOAD falls back to one session, and says so.
    let user = format!("barge_snap_{}", std::process::id());
    src.execute(&format!("DROP USER IF EXISTS '{user}'@'%'"));
    src.execute(&format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'"));
    src.execute(&format!("GRANT SELECT ON `{}`.* TO '{user}'@'%'", src.name));
    let limited_url = src.url.replacen("root@", &format!("{user}:pw@"), 1);
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        &dir,
        &limited_url,
        &db,
        "source_snapshot_mode = \"single_tx\"\nworkers = 2",
        "",
    );
    let out = barge(&["migrate", cfg.to_str().unwrap()]);
    src.execute(&format!("DROP USER IF EXISTS '{user}'@'%'"));
    let out = assert_ok(&out);
    assert!(
        out.contains("FLUSH TABLES WITH READ LOCK was refused"),
        "{out}"
    );
    assert!(out.contains("GRANT RELOAD"), "{out}");
    assert_eq!(
        db.scalar("SELECT count(*) FROM app.a"),
        Some(SNAPSHOT_ROWS.to_string())
    );
}

#[test]
fn postgis_geometry_keeps_srid_and_gets_gist() {
    let src = MariaDb::new(&[
        "CREATE TABLE place (id int PRIMARY KEY, pos point NOT NULL, area polygon, SPATIAL KEY sp_pos (pos))",
        "INSERT INTO place VALUES
            (1, ST_GeomFromText('POINT(1 2)', 4326), ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))', 4326)),
            (2, ST_GeomFromText('POINT(-71.06 42.36)', 4326), NULL)",
    ]);
    let db = PgDb::new();
    migrate(
        &src,
        &db,
        "",
        "[postgis]\nenabled = true\ncreate_extension = true",
    );
    assert_eq!(column_type(&db, "place", "pos"), "geometry(Point)");
    assert_eq!(
        rows(&db, "SELECT id::text, ST_AsText(pos), ST_SRID(pos)::text, coalesce(ST_AsText(area), 'NULL') FROM app.place ORDER BY id"),
        [
            ["1", "POINT(1 2)", "4326", "POLYGON((0 0,1 0,1 1,0 0))"],
            ["2", "POINT(-71.06 42.36)", "4326", "NULL"]
        ]
    );
    assert!(db
        .scalar("SELECT indexdef FROM pg_indexes WHERE schemaname = 'app' AND indexname = 'place_sp_pos'")
        .unwrap_or_default()
        .contains("USING gist (pos)"));
}

#[test]
fn mariadb_sequences_become_sequences_that_continue() {
    let src = MariaDb::new(&[
        "CREATE SEQUENCE order_no START WITH 1000 INCREMENT BY 5 MINVALUE 1000 MAXVALUE 999999 NOCACHE",
        "CREATE SEQUENCE ring START WITH 1 MAXVALUE 3 CYCLE NOCACHE",
        "CREATE TABLE t (id int PRIMARY KEY)",
        "DO NEXT VALUE FOR order_no",
        "DO NEXT VALUE FOR order_no",
    ]);
    let db = PgDb::new();
    migrate(&src, &db, "", "");
    assert_eq!(
        rows(&db, "SELECT sequencename, increment_by::text, min_value::text, max_value::text, cycle::text FROM pg_sequences WHERE schemaname = 'app' ORDER BY 1"),
        [
            ["order_no", "5", "1000", "999999", "false"],
            ["ring", "1", "1", "3", "true"]
        ]
    );
    // 1000 and 1005 were handed out in MariaDB: PostgreSQL continues at 1010.
    assert_eq!(
        db.scalar("SELECT nextval('app.order_no')::text"),
        Some("1010".into())
    );
    assert_eq!(
        db.scalar("SELECT nextval('app.ring')::text"),
        Some("1".into())
    );
}

#[test]
fn collations_carry_case_insensitivity_when_asked() {
    let src = MariaDb::new(&[
        "CREATE TABLE person (
            id int PRIMARY KEY,
            email varchar(60) COLLATE utf8mb4_general_ci NOT NULL,
            code varchar(10) COLLATE utf8mb4_bin,
            nick varchar(20) COLLATE utf8mb4_unicode_ci,
            UNIQUE KEY uq_email (email)
        )",
        "INSERT INTO person VALUES (1, 'Ann@Example.com', 'b', 'Äb'), (2, 'bob@example.com', 'B', 'x')",
    ]);
    // collation_mode = "auto": _ci columns compare like the source; _bin in code point order.
    let db = PgDb::new();
    let out = migrate(
        &src,
        &db,
        "",
        "[type_mapping]\ncollation_mode = \"auto\"\n\n[type_mapping.collation_map]\nutf8mb4_unicode_ci = \"und-x-icu\"",
    );
    assert!(
        !out.contains("compares `email` case-insensitively"),
        "{out}"
    );
    assert_eq!(
        rows(&db, "SELECT attname, coalesce(collname, '') FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation AND a.attcollation <> 100 WHERE attrelid = 'app.person'::regclass AND attnum > 1 ORDER BY attnum"),
        [["email", "barge_ci_ai"], ["code", "C"], ["nick", "und-x-icu"]]
    );
    assert_eq!(
        db.scalar("SELECT id::text FROM app.person WHERE email = 'ANN@example.COM'"),
        Some("1".into())
    );
    assert!(db
        .try_execute("INSERT INTO app.person VALUES (3, 'BOB@EXAMPLE.COM', 'c', 'y')")
        .is_err());
    assert_eq!(
        db.scalar("SELECT string_agg(code, '' ORDER BY code) FROM app.person"),
        Some("Bb".into())
    );

    // ci_as_citext: citext columns, the extension created.
    let db = PgDb::new();
    migrate(&src, &db, "", "[type_mapping]\nci_as_citext = true");
    assert_eq!(column_type(&db, "person", "email"), "citext");
    assert_eq!(column_type(&db, "person", "code"), "character varying(10)");
    assert!(db
        .try_execute("INSERT INTO app.person VALUES (3, 'ANN@EXAMPLE.COM', 'c', 'y')")
        .is_err());
}
