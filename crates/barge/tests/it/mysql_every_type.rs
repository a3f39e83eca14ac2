//! Every MySQL/MariaDB type with edge values, through `barge migrate`, compared value by value
//! with MariaDB's own rendering of the same rows; no expected values are written here, and
//! barge's encoders play no part in the comparison.
//!
//! The canonical text form both sides are brought to (each database renders, this test
//! normalises only notation):
//! - NULL is `NULL`; integers, YEAR: decimal digits; DECIMAL: digits with the declared scale
//!   (both servers print the scale);
//! - FLOAT / DOUBLE: parsed into an f64 and compared by bits (so `-0` differs from `0`; MariaDB
//!   prints `1.7976931348623157e308`, PostgreSQL `1.7976931348623157e+308`); a FLOAT is read
//!   as its exact double on both sides (`fl + 0e0`, `fl::float8`);
//! - text: the characters; BINARY / BLOB and BIT (bytea mode): lower-case hex, BIT(64) padded
//!   to its 8 bytes;
//! - DATE `YYYY-MM-DD`; DATETIME / TIMESTAMP / TIME: `HH:MM:SS` with the fraction's trailing
//!   zeros removed (MariaDB pads to the declared precision, PostgreSQL trims); TIMESTAMP read
//!   in UTC on both sides;
//! - JSON: parsed and compared as JSON values (jsonb normalises spacing and key order);
//! - ENUM: the label; SET: its members as PostgreSQL's `text[]` text (`{a,b}`) when loaded as
//!   an array; UUID: lower-case; INET6: the address (`host()` in PostgreSQL).

use crate::mariadb::MariaDb;
use crate::support::{assert_ok, barge, PgDb};

/// Column, MariaDB expression, PostgreSQL expression, how to compare.
#[derive(Clone, Copy, PartialEq)]
enum Cmp {
    Text,
    Float,
    Json,
    Fraction,
}

const COLUMNS: &[(&str, &str, &str, Cmp)] = &[
    ("ti", "ti", "ti::text", Cmp::Text),
    ("tiu", "tiu", "tiu::text", Cmp::Text),
    ("si", "si", "si::text", Cmp::Text),
    ("siu", "siu", "siu::text", Cmp::Text),
    ("mi", "mi", "mi::text", Cmp::Text),
    ("miu", "miu", "miu::text", Cmp::Text),
    ("i", "i", "i::text", Cmp::Text),
    ("iu", "iu", "iu::text", Cmp::Text),
    ("bi", "bi", "bi::text", Cmp::Text),
    ("biu", "biu", "biu::text", Cmp::Text),
    ("de", "de", "de::text", Cmp::Text),
    ("d0", "d0", "d0::text", Cmp::Text),
    // The exact double of each FLOAT (MariaDB prints only 6 digits of it).
    ("fl", "fl + 0e0", "fl::float8::text", Cmp::Float),
    ("db", "db", "db::text", Cmp::Float),
    // YEAR as its number (MariaDB shows the zero year as `0000`).
    ("yr", "yr + 0", "yr::text", Cmp::Text),
    // HEX() of a BIT drops leading zeros; the bytea keeps all 8 bytes.
    (
        "bt",
        "LOWER(LPAD(HEX(bt), 16, '0'))",
        "encode(bt, 'hex')",
        Cmp::Text,
    ),
    ("ch", "ch", "ch::text", Cmp::Text),
    ("vc", "vc", "vc", Cmp::Text),
    ("tt", "tt", "tt", Cmp::Text),
    ("tx", "tx", "tx", Cmp::Text),
    ("mt", "mt", "mt", Cmp::Text),
    ("lt", "lt", "lt", Cmp::Text),
    ("l1", "l1", "l1", Cmp::Text),
    ("bn", "LOWER(HEX(bn))", "encode(bn, 'hex')", Cmp::Text),
    ("vb", "LOWER(HEX(vb))", "encode(vb, 'hex')", Cmp::Text),
    ("tb", "LOWER(HEX(tb))", "encode(tb, 'hex')", Cmp::Text),
    ("bl", "LOWER(HEX(bl))", "encode(bl, 'hex')", Cmp::Text),
    ("mb", "LOWER(HEX(mb))", "encode(mb, 'hex')", Cmp::Text),
    ("lb", "LOWER(HEX(lb))", "encode(lb, 'hex')", Cmp::Text),
    ("dt", "dt", "dt::text", Cmp::Text),
    ("dtm", "dtm", "dtm::text", Cmp::Fraction),
    ("dt0", "dt0", "dt0::text", Cmp::Fraction),
    (
        "ts",
        "ts",
        "to_char(ts, 'YYYY-MM-DD HH24:MI:SS.US')",
        Cmp::Fraction,
    ),
    ("tm", "tm", "tm::text", Cmp::Fraction),
    ("js", "js", "js::text", Cmp::Json),
    ("en", "en", "en::text", Cmp::Text),
    ("st", "st", "st::text", Cmp::Text),
    ("uu", "uu", "uu::text", Cmp::Text),
    ("i4", "i4", "host(i4)", Cmp::Text),
    ("i6", "i6", "host(i6)", Cmp::Text),
];

const TABLE: &str = "CREATE TABLE every (
    id int PRIMARY KEY,
    ti tinyint, tiu tinyint unsigned, si smallint, siu smallint unsigned,
    mi mediumint, miu mediumint unsigned, i int, iu int unsigned, bi bigint, biu bigint unsigned,
    de decimal(65,30), d0 decimal(65,0), fl float, db double, yr year, bt bit(64),
    ch char(10), vc varchar(300), tt tinytext, tx text, mt mediumtext, lt longtext,
    l1 varchar(20) CHARACTER SET latin1,
    bn binary(4), vb varbinary(20), tb tinyblob, bl blob, mb mediumblob, lb longblob,
    dt date, dtm datetime(6), dt0 datetime, ts timestamp(6) NULL, tm time(6),
    js json, en enum('', 'a', 'ü ß'), st set('x', 'y', 'z'), uu uuid, i4 inet4, i6 inet6
)";

const ROWS: &[&str] = &[
    // Minimums, empty strings, zero-ish values.
    "INSERT INTO every VALUES (1,
        -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
        '-99999999999999999999999999999999999.999999999999999999999999999999',
        '-99999999999999999999999999999999999999999999999999999999999999999',
        -3.40282e38, -1.7976931348623157e308, 1901, b'0',
        '', '', '', '', '', '', '', X'00000000', X'', X'', X'', X'', X'',
        '1000-01-01', '1000-01-01 00:00:00.000000', '1000-01-01 00:00:00',
        '1970-01-01 00:00:01.000000', '-838:59:59.000000',
        '{}', '', '', '00000000-0000-0000-0000-000000000000', '0.0.0.0', '::')",
    // Maximums and non-ASCII.
    "INSERT INTO every VALUES (2,
        127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
        9223372036854775807, 18446744073709551615,
        '99999999999999999999999999999999999.999999999999999999999999999999',
        '99999999999999999999999999999999999999999999999999999999999999999',
        3.40282e38, 1.7976931348623157e308, 2155, b'1111111111111111111111111111111111111111111111111111111111111111',
        'ÄÖÜ €𝄞', 'x''y\\\\z \"q\" 😀', 'tab\\tnew\\nline', 'ß', 'ü', 'é', 'café €',
        X'FFFFFFFF', X'00FF10', X'DEADBEEF', X'CAFE', X'00', X'FF',
        '9999-12-31', '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59',
        '2038-01-19 03:14:07.999999', '838:59:59.000000',
        '{\"k\": [1, 2.5, \"x\", null, true], \"ü\": {\"n\": -0.0}}', 'ü ß', 'x,y,z',
        'ffffffff-ffff-ffff-ffff-ffffffffffff', '255.255.255.255', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')",
    // Every column NULL.
    "INSERT INTO every (id) VALUES (3)",
    // Small and odd values: tiny decimals, negative zero, subnormal doubles, fractions.
    "INSERT INTO every VALUES (4,
        0, 1, -1, 1, -1, 1, -1, 1, -1, 1,
        '0.000000000000000000000000000001', '-1',
        -0.0, 4.9e-324, 0, b'101',
        'a', ' lead', 'trail  ', 'x', 'y', 'z', 'Ø', X'00', X'01', X'02', X'03', X'04', X'05',
        '0009-12-04', '0009-12-04 01:02:03.500000', '2000-02-29 12:00:00',
        '2000-02-29 12:00:00.000001', '-00:00:00.000001',
        '\"\\\\u00e9\"', 'a', 'y', '123e4567-e89b-12d3-a456-426614174000', '10.0.0.1', '::ffff:1.2.3.4')",
];

fn trim_fraction(s: &str) -> String {
    match s.split_once('.') {
        Some((whole, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                whole.to_string()
            } else {
                format!("{whole}.{frac}")
            }
        }
        None => s.to_string(),
    }
}

fn same(cmp: Cmp, my: &Option<String>, pg: &Option<String>) -> bool {
    match (my, pg) {
        (None, None) => true,
        (Some(a), Some(b)) => match cmp {
            Cmp::Text => a == b,
            Cmp::Fraction => trim_fraction(a) == trim_fraction(b),
            Cmp::Float => match (a.parse::<f64>(), b.parse::<f64>()) {
                (Ok(x), Ok(y)) => x.to_bits() == y.to_bits(),
                _ => false,
            },
            Cmp::Json => {
                let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).ok();
                parse(a).is_some() && parse(a) == parse(b)
            }
        },
        _ => false,
    }
}

#[test]
fn every_type_arrives_equal_to_mariadbs_own_rendering() {
    let mut statements = vec![TABLE, "SET SESSION time_zone = '+00:00'"];
    statements.extend_from_slice(ROWS);
    let mut src = MariaDb::new(&statements);
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("m.toml");
    std::fs::write(
        &cfg,
        format!(
            "schema = \"app\"\n[source]\ntype = \"mariadb\"\ndsn = \"{}\"\n[target]\ndsn = \"{}\"\n[type_mapping]\ntime_mode = \"interval\"\nset_mode = \"text_array\"\n",
            src.url, db.url
        ),
    )
    .unwrap();
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));

    src.execute("SET SESSION time_zone = '+00:00'");
    let my_select: Vec<&str> = COLUMNS.iter().map(|c| c.1).collect();
    let pg_select: Vec<String> = COLUMNS.iter().map(|c| format!("({})::text", c.2)).collect();
    let my_rows = src.query(&format!(
        "SELECT {} FROM every ORDER BY id",
        my_select.join(", ")
    ));
    let pg_rows = db.query(&format!(
        // IntervalStyle postgres shows an interval past 24 hours as `838:59:59`, as MariaDB
        // shows the TIME.
        "SET TIME ZONE 'UTC'; SET IntervalStyle = 'postgres'; SELECT {} FROM app.every ORDER BY id",
        pg_select.join(", ")
    ));
    assert_eq!(my_rows.len(), ROWS.len());
    assert_eq!(pg_rows.len(), ROWS.len());
    let mut differences = Vec::new();
    for (r, (my, pg)) in my_rows.iter().zip(&pg_rows).enumerate() {
        for (c, (name, _, _, cmp)) in COLUMNS.iter().enumerate() {
            // A SET loaded as text[]: MariaDB's `x,y` is PostgreSQL's `{x,y}`.
            let mine = if *name == "st" {
                my[c].as_ref().map(|s| format!("{{{s}}}"))
            } else {
                my[c].clone()
            };
            if !same(*cmp, &mine, &pg[c]) {
                differences.push(format!(
                    "row {} column {name}: MariaDB {:?}, PostgreSQL {:?}",
                    r + 1,
                    mine,
                    pg[c]
                ));
            }
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
