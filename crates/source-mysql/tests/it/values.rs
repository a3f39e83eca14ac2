//! Values through the whole path: MariaDB rows -> binary COPY -> PostgreSQL, compared as
//! PostgreSQL's text of each column (`NULL` for null; inet's text carries its mask, `/128`). Floats are compared as numbers parsed
//! from both sides' shortest round-trip texts.

use crate::IntrospectOptions;
use crate::{copy, introspected, mapping, round_trip, table, PgSchema, TestDb};
use barge_config::ZeroDateMode;
use barge_model::{InvalidValuePolicy, KeyRange};

const EDGE_TABLE: &str = "CREATE TABLE v (
    id int PRIMARY KEY,
    ti tinyint, tiu tinyint unsigned, si smallint, siu smallint unsigned,
    mi mediumint, miu mediumint unsigned, i int, iu int unsigned, bi bigint, biu bigint unsigned,
    de decimal(65,30), d2 decimal(5,2), yr year, bt bit(10),
    ch char(5), vc varchar(20), tx text, l1 varchar(10) CHARACTER SET latin1,
    bn binary(4), bl blob,
    dt date, dtm datetime(6), ts timestamp(3) NULL, tm time(6),
    js json, en enum('a','b'), st set('x','y'), uu uuid, i6 inet6
);
INSERT INTO v VALUES
 (1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
  '-99999999999999999999999999999999999.999999999999999999999999999999', -999.99, 1901, b'0',
  '', '', '', '', X'00000000', X'',
  '0001-01-01', '1000-01-01 00:00:00', '1970-01-01 00:00:01', '00:00:00',
  '[]', 'a', '', '00000000-0000-0000-0000-000000000000', '::'),
 (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
  9223372036854775807, 18446744073709551615,
  '99999999999999999999999999999999999.999999999999999999999999999999', 999.99, 2155, b'1111111111',
  'abcde', 'äöü €𝄞', 'x''y\\\\z', 'café €', X'DEADBEEF', X'00FF',
  '9999-12-31', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999', '23:59:59.999999',
  '{\"a\": [1, 2.5, \"x\"], \"b\": null}', 'b', 'x,y', 'FFFFFFFF-ffff-ffff-ffff-ffffffffffff', '2001:db8::1'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  '0.000000000000000000000000000001', 0, 0, b'101',
  'a', ' lead', 'trail  ', 'x', X'00', X'00',
  '0009-12-04', '0009-12-04 01:02:03.5', '2000-02-29 12:00:00', '24:00:00',
  '\"\\\\u00e9\"', 'a', 'y', '123e4567-e89b-12d3-a456-426614174000', '::ffff:1.2.3.4')";

#[tokio::test]
async fn edge_values_arrive_equal() {
    let mut db = TestDb::new("values").await;
    db.exec(EDGE_TABLE).await;
    let cols = [
        "id", "ti", "tiu", "si", "siu", "mi", "miu", "i", "iu", "bi", "biu", "de", "d2", "yr",
        "bt", "ch", "vc", "tx", "l1", "bn", "bl", "dt", "dtm", "ts", "tm", "js", "en", "st", "uu",
        "i6",
    ];
    let got = round_trip(&db, &mapping(), "v", &cols, "id").await;
    let nines = "99999999999999999999999999999999999.999999999999999999999999999999";
    let expected: Vec<Vec<String>> = [
        vec![
            "1",
            "-128",
            "0",
            "-32768",
            "0",
            "-8388608",
            "0",
            "-2147483648",
            "0",
            "-9223372036854775808",
            "0",
            &format!("-{nines}"),
            "-999.99",
            "1901",
            "\\x0000",
            "",
            "",
            "",
            "",
            "\\x00000000",
            "\\x",
            "0001-01-01",
            "1000-01-01 00:00:00",
            "1970-01-01 00:00:01+00",
            "00:00:00",
            "[]",
            "a",
            "",
            "00000000-0000-0000-0000-000000000000",
            "::/128",
        ],
        vec![
            "2",
            "127",
            "255",
            "32767",
            "65535",
            "8388607",
            "16777215",
            "2147483647",
            "4294967295",
            "9223372036854775807",
            "18446744073709551615",
            nines,
            "999.99",
            "2155",
            "\\x03ff",
            "abcde",
            "äöü €𝄞",
            "x'y\\z",
            "café €",
            "\\xdeadbeef",
            "\\x00ff",
            "9999-12-31",
            "9999-12-31 23:59:59.999999",
            "2038-01-19 03:14:07.999+00",
            "23:59:59.999999",
            "{\"a\": [1, 2.5, \"x\"], \"b\": null}",
            "b",
            "x,y",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "2001:db8::1/128",
        ],
        std::iter::once("3")
            .chain(std::iter::repeat_n("NULL", cols.len() - 1))
            .collect(),
        vec![
            "4",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0.000000000000000000000000000001",
            "0.00",
            "0",
            "\\x0005",
            "a",
            " lead",
            "trail  ",
            "x",
            "\\x00000000",
            "\\x00",
            "0009-12-04",
            "0009-12-04 01:02:03.5",
            "2000-02-29 12:00:00+00",
            "24:00:00",
            "\"é\"",
            "a",
            "y",
            "123e4567-e89b-12d3-a456-426614174000",
            "::ffff:1.2.3.4/128",
        ],
    ]
    .into_iter()
    .map(|r| r.into_iter().map(str::to_string).collect())
    .collect();
    for (g, e) in got.iter().zip(&expected) {
        for ((c, gv), ev) in cols.iter().zip(g).zip(e) {
            assert_eq!(gv, ev, "column {c} of row {}", g[0]);
        }
    }
    assert_eq!(got.len(), expected.len());
}

#[tokio::test]
async fn floats_are_exact() {
    let mut db = TestDb::new("floats").await;
    db.exec(
        "CREATE TABLE f (id int PRIMARY KEY, fl float, db double);
        INSERT INTO f VALUES
          (1, 3.4028234663852886e38, 1.7976931348623157e308),
          (2, -3.4028234663852886e38, -1.7976931348623157e308),
          (3, 1.401298464324817e-45, 4.9e-324),
          (4, 0.1, 0.1),
          (5, 16777217, 2.2250738585072014e-308),
          (6, -0e0, 123456789012345678),
          (7, 3.1415927, 3.141592653589793)",
    )
    .await;
    // MariaDB's own exact texts: the float as a double, the double as is.
    let mut conn = mysql_async::Conn::new(mysql_async::Opts::from_url(&db.url).unwrap())
        .await
        .unwrap();
    let want: Vec<(i32, String, String)> = mysql_async::prelude::Queryable::query(
        &mut conn,
        "SELECT id, CAST(fl + 0e0 AS CHAR), CAST(db AS CHAR) FROM f ORDER BY id",
    )
    .await
    .unwrap();
    drop(conn);
    let got = round_trip(&db, &mapping(), "f", &["id", "fl", "db"], "id").await;
    assert_eq!(got.len(), want.len());
    for (g, (id, fl, db)) in got.iter().zip(&want) {
        let gf: f32 = g[1].parse().unwrap();
        let wf: f64 = fl.parse().unwrap();
        assert_eq!(f64::from(gf), wf, "float of row {id}: {} vs {fl}", g[1]);
        let gd: f64 = g[2].parse().unwrap();
        let wd: f64 = db.parse().unwrap();
        assert_eq!(
            gd.to_bits(),
            wd.to_bits(),
            "double of row {id}: {} vs {db}",
            g[2]
        );
    }
    // 16777217 is stored as the float 16777216, and arrives as exactly that.
    assert_eq!(got[4][1], "1.6777216e+07");
    assert_eq!(got[3][2], "0.1");
}

#[tokio::test]
async fn zero_dates_follow_zero_date_mode() {
    let mut db = TestDb::new("zero").await;
    db.exec(
        "SET SESSION sql_mode = '';
        CREATE TABLE z (id int PRIMARY KEY, d date, dt datetime, ts timestamp NULL,
            nn datetime NOT NULL DEFAULT '0000-00-00 00:00:00');
        INSERT INTO z VALUES
          (1, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00'),
          (2, '2024-00-10', '2024-05-00 10:00:00', NULL, '2024-01-01 00:00:00'),
          (3, '0009-12-04', '0009-12-04 00:00:00', '1999-12-31 23:59:59', '0000-00-00 00:00:00')",
    )
    .await;
    let source = db.source().await;

    // null: zero dates load as NULL, are counted, and a NOT NULL zero-date column is relaxed.
    let schema = introspected(&source, mapping()).await;
    let t = table(&schema, "z");
    assert!(t.column("nn").unwrap().nullable);
    assert!(t.column("nn").unwrap().default.is_none());
    let copied = copy(&source, t, &KeyRange::WHOLE, InvalidValuePolicy::Error)
        .await
        .unwrap();
    let pg = PgSchema::new("zero").await;
    pg.create(t).await;
    pg.load(t, copied.stream).await;
    let rows = pg.rows("z", &["id", "d", "dt", "ts", "nn"], "id").await;
    assert_eq!(rows[0], ["1", "NULL", "NULL", "NULL", "NULL"]);
    assert_eq!(
        rows[1],
        ["2", "NULL", "NULL", "NULL", "2024-01-01 00:00:00"]
    );
    assert_eq!(
        rows[2],
        [
            "3",
            "0009-12-04",
            "0009-12-04 00:00:00",
            "1999-12-31 23:59:59+00",
            "NULL"
        ]
    );
    let counts = source.zero_dates_nulled();
    assert_eq!(counts.get(&("z".to_string(), "d".to_string())), Some(&2));
    assert_eq!(counts.get(&("z".to_string(), "dt".to_string())), Some(&2));
    assert_eq!(counts.get(&("z".to_string(), "ts".to_string())), Some(&1));
    assert_eq!(counts.get(&("z".to_string(), "nn".to_string())), Some(&2));

    // error: the default is an error finding and the first zero date stops the copy.
    let mut o = mapping();
    o.zero_date_mode = ZeroDateMode::Error;
    let schema = introspected(&source, o.clone()).await;
    assert!(schema
        .findings
        .iter()
        .any(|f| f.severity == barge_model::Severity::Error && f.column.as_deref() == Some("nn")));
    let t = table(&schema, "z");
    let err = copy(&source, t, &KeyRange::WHOLE, InvalidValuePolicy::Null)
        .await
        .err()
        .expect("zero date must stop the copy");
    let text = err.to_string();
    assert!(text.contains("column `d` of table `z`"), "{text}");
    assert!(text.contains("zero date `0000-00-00`"), "{text}");
    assert!(text.contains("key (id) = (1)"), "{text}");
}

#[tokio::test]
async fn invalid_values_are_refused_or_rejected_with_their_location() {
    let mut db = TestDb::new("invalid").await;
    db.exec(
        "SET SESSION sql_mode = '';
        CREATE TABLE bad (id int, k varchar(5), flag tinyint(1), n text, t time,
            e enum('a','b'), u int unsigned, PRIMARY KEY (id, k));
        INSERT INTO bad VALUES
          (1, 'x', 1, 'ok', '10:00:00', 'a', 1),
          (2, 'y', 5, 'ok', '10:00:00', 'a', 1),
          (3, 'z', 0, 'a\\0b', '10:00:00', 'b', 1),
          (4, 'w', 0, 'ok', '-01:00:00', 'a', 1),
          (5, 'v', 0, 'ok', '100:00:00', 'zzz', 4294967295)",
    )
    .await;
    let source = db.source().await;
    let mut o = mapping();
    o.tinyint1_as_boolean = true;
    o.widen_unsigned_integers = false;
    let schema = introspected(&source, o.clone()).await;
    let t = table(&schema, "bad");
    let err = copy(&source, t, &KeyRange::WHOLE, InvalidValuePolicy::Error)
        .await
        .err()
        .expect("5 is not a boolean");
    assert_eq!(
        err.to_string().lines().next().unwrap(),
        "column `flag` of table `bad`: value `5` is not 0 or 1, so it is not a boolean (key (id, k) = (2, y))"
    );
    let copied = copy(&source, t, &KeyRange::WHOLE, InvalidValuePolicy::Null)
        .await
        .unwrap();
    assert_eq!(copied.rows, 5);
    let mut rejected: Vec<(String, String, String)> = copied
        .rejects
        .iter()
        .map(|r| (r.column.clone(), r.row.clone(), r.value.clone()))
        .collect();
    rejected.sort();
    assert_eq!(
        rejected,
        [
            ("e".into(), "key (id, k) = (5, v)".into(), "".into()),
            ("flag".into(), "key (id, k) = (2, y)".into(), "5".into()),
            ("n".into(), "key (id, k) = (3, z)".into(), "a\\0b".into()),
            (
                "t".into(),
                "key (id, k) = (4, w)".into(),
                "-01:00:00".into()
            ),
            (
                "t".into(),
                "key (id, k) = (5, v)".into(),
                "100:00:00".into()
            ),
            (
                "u".into(),
                "key (id, k) = (5, v)".into(),
                "4294967295".into()
            ),
        ]
    );
    assert!(copied.rejects.iter().any(|r| r.reason.contains("NUL byte")));
    let pg = PgSchema::new("invalid").await;
    pg.create(t).await;
    pg.load(t, copied.stream).await;
    let rows = pg
        .rows("bad", &["id", "flag", "n", "t", "e", "u"], "id")
        .await;
    assert_eq!(rows[1], ["2", "NULL", "ok", "10:00:00", "a", "1"]);
    assert_eq!(rows[4], ["5", "false", "ok", "NULL", "NULL", "NULL"]);
}

#[tokio::test]
async fn binary16_uuids_in_both_byte_orders() {
    let mut db = TestDb::new("uuid16").await;
    // The second value is what MySQL's UUID_TO_BIN(u, 1) stores for the first.
    db.exec(
        "CREATE TABLE b (id int PRIMARY KEY, u binary(16), s char(36));
        INSERT INTO b VALUES
          (1, UNHEX('6ccd780cbaba102695645b8c656024db'), '6CCD780C-BABA-1026-9564-5B8C656024DB'),
          (2, UNHEX('1026baba6ccd780c95645b8c656024db'), NULL)",
    )
    .await;
    let mut o = mapping();
    o.binary16_as_uuid = true;
    o.string_uuid_as_uuid = true;
    let rows = round_trip(&db, &o, "b", &["id", "u", "s"], "id").await;
    assert_eq!(rows[0][1], "6ccd780c-baba-1026-9564-5b8c656024db");
    assert_eq!(rows[0][2], "6ccd780c-baba-1026-9564-5b8c656024db");
    o.binary16_uuid_mode = barge_config::Binary16UuidMode::MysqlUuidToBinSwap;
    let rows = round_trip(&db, &o, "b", &["id", "u"], "id").await;
    assert_eq!(rows[1][1], "6ccd780c-baba-1026-9564-5b8c656024db");
}

#[tokio::test]
async fn spatial_values_as_wkt_or_ewkb() {
    let mut db = TestDb::new("geo").await;
    db.exec(
        "CREATE TABLE g (id int PRIMARY KEY, p point);
        INSERT INTO g VALUES (1, ST_GeomFromText('POINT(1 2)', 4326)), (2, NULL),
          (3, ST_GeomFromText('POINT(1 2)'))",
    )
    .await;
    let mut o = mapping();
    o.spatial_mode = barge_config::SpatialMode::WktText;
    let rows = round_trip(&db, &o, "g", &["id", "p"], "id").await;
    assert_eq!(rows[0][1], "POINT(1 2)");
    assert_eq!(rows[1][1], "NULL");
    o.spatial_mode = barge_config::SpatialMode::WkbBytea;
    let rows = round_trip(&db, &o, "g", &["id", "p"], "id").await;
    // EWKB: little-endian point (1 2) whose type word carries the SRID flag (0x20000001),
    // then SRID 4326; MySQL's own 4-byte SRID prefix is gone.
    assert_eq!(
        rows[0][1],
        "\\x0101000020e6100000000000000000f03f0000000000000040"
    );
    // SRID 0: plain standard WKB.
    assert_eq!(rows[2][1], "\\x0101000000000000000000f03f0000000000000040");
}

#[test]
fn the_copy_future_can_be_spawned() {
    fn assert_send<T: Send>(_: &T) {}
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = TestDb::new("send").await;
        let source = db.source().await;
        let table = barge_model::Table::new("nothing");
        let (tx, _rx) = tokio::sync::mpsc::channel(1);
        let mut rejects = Vec::new();
        let on_rows = |_: u64| {};
        let fut = source.copy_chunk(
            &table,
            &KeyRange::WHOLE,
            InvalidValuePolicy::Error,
            1024,
            &tx,
            &on_rows,
            &mut rejects,
        );
        assert_send(&fut);
        let planned = source.plan_chunks(&table, 10);
        assert_send(&planned);
        let options = IntrospectOptions::new(mapping());
        let introspected = source.introspect(&options);
        assert_send(&introspected);
    });
}

/// The binary protocol (used for tables whose columns all have a binary form the encoders
/// take) loads exactly what the text protocol loads: same COPY bytes, same refusals.
#[tokio::test]
async fn binary_and_text_protocols_load_the_same_bytes() {
    let mut db = TestDb::new("protocols").await;
    db.exec(EDGE_TABLE).await;
    db.exec(
        "CREATE TABLE w (
            id int PRIMARY KEY, b tinyint(1), fl float, db double, dt date, dtm datetime(3),
            dt0 datetime, ts timestamp(6) NULL, tm time(6), de decimal(10,4), bu bigint unsigned
        );
        INSERT INTO w VALUES
         (1, 0, -3.40282e38, -1.7976931348623157e308, '1000-01-01', '1000-01-01 00:00:00.001',
          '2000-01-01 00:00:00', '1970-01-01 00:00:01.000001', '00:00:00.000001', -0.0001, 0),
         (2, 1, 0.1, 4.9e-324, '9999-12-31', '9999-12-31 23:59:59.999', '9999-12-31 23:59:59',
          '2038-01-19 03:14:07.999999', '23:59:59.5', 999999.9999, 9223372036854775807),
         (3, NULL, -0.0, -0.0, '0009-12-04', '0009-12-04 01:02:03.5', NULL, NULL, '00:00:00', 0, NULL)",
    )
    .await;
    let source = db.source().await;
    let schema = introspected(&source, mapping()).await;
    let mut as_interval = mapping();
    as_interval.time_mode = barge_config::TimeMode::Interval;
    db.exec(
        "CREATE TABLE iv (id int PRIMARY KEY, span time(6));
         INSERT INTO iv VALUES (1, '-838:59:59'), (2, '838:59:59'), (3, '-00:00:00.000001'),
                               (4, '25:00:00.5'), (5, NULL)",
    )
    .await;
    let interval_schema = introspected(&source, as_interval).await;
    // Each protocol, read by the lean reader and by mysql_async.
    let readers = [(false, true), (true, true), (false, false), (true, false)];
    for (name, schema) in [("v", &schema), ("w", &schema), ("iv", &interval_schema)] {
        let t = table(schema, name);
        let mut streams = Vec::new();
        for (text_only, lean) in readers {
            source.set_text_protocol_only(text_only);
            source.set_lean_reader(lean);
            let lean_before = source.lean_reader_chunks();
            let copied = copy(&source, t, &KeyRange::WHOLE, InvalidValuePolicy::Error)
                .await
                .unwrap_or_else(|e| {
                    panic!("table {name}, text only {text_only}, lean {lean}: {e}")
                });
            assert!(copied.rows >= 3, "table {name}: {} rows", copied.rows);
            assert_eq!(
                source.lean_reader_chunks() - lean_before,
                u64::from(lean),
                "table {name}: the lean reader read the chunk exactly when allowed"
            );
            streams.push(copied.stream.concat());
        }
        for (i, s) in streams.iter().enumerate().skip(1) {
            assert_eq!(&streams[0], s, "table {name}, reader {:?}", readers[i]);
        }
    }
    // A value out of range for its target type is refused the same way over both.
    db.exec("CREATE TABLE big (id int PRIMARY KEY, n bigint unsigned); INSERT INTO big VALUES (1, 18446744073709551615)")
        .await;
    let mut options = mapping();
    options.widen_unsigned_integers = false;
    let schema = introspected(&source, options).await;
    let t = table(&schema, "big");
    let mut messages = Vec::new();
    for (text_only, lean) in readers {
        source.set_text_protocol_only(text_only);
        source.set_lean_reader(lean);
        let e = copy(&source, t, &KeyRange::WHOLE, InvalidValuePolicy::Error)
            .await
            .err()
            .expect("an out-of-range value is refused");
        messages.push(e.to_string());
    }
    assert!(messages[0].contains("out of range"), "{messages:?}");
    assert!(messages.iter().all(|m| m == &messages[0]), "{messages:?}");
}

/// The lean reader logs in as mysql_async does (here `mysql_native_password` with a
/// password, answered to the server's nonce), runs the session setup (UTC time zone), reads
/// every row of a chunked table, and reports a server error in the server's words.
#[tokio::test]
async fn lean_reader_logs_in_with_a_password_and_reads_every_row() {
    let mut db = TestDb::new("lean").await;
    let user = format!("lean_{}", std::process::id());
    db.exec(&format!(
        "DROP USER IF EXISTS '{user}'@'%';
         CREATE USER '{user}'@'%' IDENTIFIED BY 'p@ss:w/rd';
         GRANT SELECT ON `{}`.* TO '{user}'@'%';
         CREATE TABLE t (id int PRIMARY KEY, at timestamp(6) NULL, s varchar(20));
         INSERT INTO t SELECT seq, FROM_UNIXTIME(seq), CONCAT('r', seq) FROM seq_1_to_5000",
        db.name
    ))
    .await;
    let url = db.url.replacen(
        "mysql://root@",
        &format!("mysql://{user}:p%40ss%3Aw%2Frd@"),
        1,
    );
    let source = barge_source_mysql::MysqlSource::connect(&url)
        .await
        .expect("the new user connects");
    let schema = introspected(&source, mapping()).await;
    let t = table(&schema, "t");
    let lean = copy(&source, t, &KeyRange::WHOLE, InvalidValuePolicy::Error)
        .await
        .expect("read by the lean reader");
    assert_eq!(source.lean_reader_chunks(), 1, "the lean reader logged in");
    assert_eq!(lean.rows, 5000);
    source.set_lean_reader(false);
    let pooled = copy(&source, t, &KeyRange::WHOLE, InvalidValuePolicy::Error)
        .await
        .expect("read by mysql_async");
    assert_eq!(lean.stream.concat(), pooled.stream.concat());
    assert!(!format!("{source:?}").contains("p@ss"), "{source:?}");
    // The server closes every idle session (a restart, wait_timeout, KILL): the lean
    // reader's idle one is replaced by a new one, without an error.
    source.set_lean_reader(true);
    let ids: Vec<u64> = {
        use mysql_async::prelude::Queryable;
        let mut admin = mysql_async::Conn::from_url(&db.url).await.unwrap();
        let ids = admin
            .exec(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?",
                (user.as_str(),),
            )
            .await
            .unwrap();
        for id in &ids {
            admin.query_drop(format!("KILL {id}")).await.unwrap();
        }
        ids
    };
    assert!(!ids.is_empty(), "the user's sessions were found");
    let again = copy(&source, t, &KeyRange::WHOLE, InvalidValuePolicy::Error)
        .await
        .expect("a dead idle session is replaced");
    assert_eq!(again.rows, 5000);
    assert_eq!(source.lean_reader_chunks(), 2, "read by a new lean session");
    assert!(source.notes().is_empty(), "{:?}", source.notes());
    // A table dropped under the plan: the server's error, with its code, through either.
    db.exec("DROP TABLE t").await;
    let e = copy(&source, t, &KeyRange::WHOLE, InvalidValuePolicy::Error)
        .await
        .err()
        .expect("the table is gone");
    assert!(
        e.to_string().contains("1146") && e.to_string().contains("doesn't exist"),
        "{e}"
    );
    assert!(
        !e.is_connection_loss(),
        "a refused statement is not retried"
    );
    db.exec(&format!("DROP USER '{user}'@'%'")).await;
}

/// Rows of 16 MiB and more come in several packets (one of exactly the maximum payload is
/// followed by an empty one): the lean reader puts them together as mysql_async does, over
/// both protocols.
#[tokio::test]
async fn lean_reader_reads_rows_larger_than_a_packet() {
    use mysql_async::prelude::Queryable;
    let db = TestDb::new("bigrow").await;
    let mut admin = mysql_async::Conn::from_url(&db.url).await.unwrap();
    let old: u64 = admin
        .query_first("SELECT @@GLOBAL.max_allowed_packet")
        .await
        .unwrap()
        .unwrap();
    admin
        .query_drop("SET GLOBAL max_allowed_packet = 67108864")
        .await
        .unwrap();
    let outcome = async {
        // A session opened after the change may send and receive the large rows.
        let mut conn = mysql_async::Conn::from_url(&db.url).await?;
        conn.query_drop("CREATE TABLE b (id int PRIMARY KEY, v longblob, t longtext)")
            .await?;
        // A text row of id 1 and of id 2 in binary is exactly 16777215 bytes long.
        conn.query_drop(
            "INSERT INTO b VALUES (1, REPEAT('x', 16777207), 'a'), (2, REPEAT('y', 16777203), 'b'),
                                  (3, REPEAT('z', 20000000), 'c'), (4, '', NULL), (5, 'v', 't')",
        )
        .await?;
        let source = db.source().await;
        let schema = introspected(&source, mapping()).await;
        let t = table(&schema, "b");
        let mut streams = Vec::new();
        for (text_only, lean) in [(false, true), (false, false), (true, true), (true, false)] {
            source.set_text_protocol_only(text_only);
            source.set_lean_reader(lean);
            let copied = copy(&source, t, &KeyRange::WHOLE, InvalidValuePolicy::Error)
                .await
                .unwrap_or_else(|e| panic!("text only {text_only}, lean {lean}: {e}"));
            assert_eq!(copied.rows, 5);
            streams.push(copied.stream.concat());
        }
        assert_eq!(source.lean_reader_chunks(), 2);
        assert!(streams[0].len() > 53_000_000, "{} bytes", streams[0].len());
        assert!(
            streams[0] == streams[1],
            "binary protocol: the readers differ"
        );
        assert!(
            streams[2] == streams[3],
            "text protocol: the readers differ"
        );
        Ok::<_, mysql_async::Error>(())
    }
    .await;
    admin
        .query_drop(format!("SET GLOBAL max_allowed_packet = {old}"))
        .await
        .unwrap();
    outcome.unwrap();
}

/// Under `single_tx`, chunks are read by lean sessions inside the snapshot: a row committed
/// after it began is not seen until it ends. A lean session lost with its chunk (the copy
/// cancelled mid-stream) leaves the others reading the same snapshot; once every one is lost,
/// reads fail with a snapshot error rather than read from another point in time.
#[tokio::test]
async fn lean_snapshot_sessions_read_from_the_snapshot() {
    let mut db = TestDb::new("leansnap").await;
    db.exec(
        "CREATE TABLE t (id int PRIMARY KEY, s varchar(40));
         INSERT INTO t SELECT seq, REPEAT('s', 30) FROM seq_1_to_2000",
    )
    .await;
    let source = db.source().await;
    let schema = introspected(&source, mapping()).await;
    let t = table(&schema, "t");
    let report = source.begin_snapshot(2).await.expect("snapshot");
    assert_eq!((report.sessions, report.fallback), (2, None));
    db.exec("INSERT INTO t VALUES (2001, 'later')").await;
    let cancel = || async {
        // Nobody receives: the copy stops at its first full buffer, mid-result.
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        drop(rx);
        let mut rejects = Vec::new();
        let e = source
            .copy_chunk(
                t,
                &KeyRange::WHOLE,
                InvalidValuePolicy::Error,
                1024,
                &tx,
                &|_| {},
                &mut rejects,
            )
            .await
            .expect_err("nobody receives");
        assert!(
            matches!(e, barge_source_mysql::MysqlError::Cancelled(_)),
            "{e}"
        );
    };
    for lost in 0..2 {
        let before = source.lean_reader_chunks();
        for _ in 0..3 {
            let inside = copy(&source, t, &KeyRange::WHOLE, InvalidValuePolicy::Error)
                .await
                .unwrap_or_else(|e| panic!("{lost} sessions lost: {e}"));
            assert_eq!(inside.rows, 2000, "the snapshot does not see the later row");
        }
        assert_eq!(
            source.lean_reader_chunks(),
            before + 3,
            "read by lean sessions"
        );
        cancel().await;
    }
    for _ in 0..2 {
        let Err(e) = copy(&source, t, &KeyRange::WHOLE, InvalidValuePolicy::Error).await else {
            panic!("every session of the snapshot is lost, yet the copy went on");
        };
        assert!(
            e.to_string()
                .contains("every session of the snapshot was lost"),
            "{e}"
        );
    }
    source.end_snapshot().await;
    let after = copy(&source, t, &KeyRange::WHOLE, InvalidValuePolicy::Error)
        .await
        .unwrap();
    assert_eq!(
        after.rows, 2001,
        "after the snapshot, the later row is there"
    );
}
