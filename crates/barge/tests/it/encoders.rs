//! Property tests of the hot-path encoders, judged by PostgreSQL itself: every generated value
//! is sent both as text and through barge's binary encoder in one COPY, and PostgreSQL's own
//! parse of the text must equal what the encoder produced (value and display scale).

use crate::support::PgDb;
use barge_model::naming::{fit_identifier, snake_case};
use barge_pgcopy::{temporal, CopyBuffer};
use futures_util::SinkExt;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn numeric_text() -> impl Strategy<Value = String> {
    (
        prop::bool::ANY,
        "[0-9]{0,30}",
        prop::option::of("[0-9]{0,30}"),
        prop::option::of(-40i32..40),
    )
        .prop_filter_map("needs a digit", |(neg, int, frac, exp)| {
            if int.is_empty() && frac.as_deref().unwrap_or("").is_empty() {
                return None;
            }
            let mut s = String::new();
            if neg {
                s.push('-');
            }
            s.push_str(&int);
            if let Some(f) = frac {
                s.push('.');
                s.push_str(&f);
            }
            if let Some(e) = exp {
                s.push_str(&format!("e{e}"));
            }
            Some(s)
        })
}

fn date_text() -> impl Strategy<Value = String> {
    (1i32..=9999, 1u32..=12, 1u32..=31).prop_filter_map("real day", |(y, m, d)| {
        let s = format!("{y:04}-{m:02}-{d:02}");
        temporal::parse_date(s.as_bytes()).ok().map(|_| s)
    })
}

fn timestamp_text() -> impl Strategy<Value = String> {
    (
        date_text(),
        0u32..24,
        0u32..60,
        0u32..60,
        prop::option::of("[0-9]{1,6}"),
    )
        .prop_map(|(d, h, m, s, f)| match f {
            Some(f) => format!("{d} {h:02}:{m:02}:{s:02}.{f}"),
            None => format!("{d} {h:02}:{m:02}:{s:02}"),
        })
}

/// COPY the rows `(source text, encoded value)` into `table` and return how many rows
/// disagree with PostgreSQL's parse of the text.
fn load_and_compare(
    db: &PgDb,
    pg_type: &str,
    rows: &[String],
    encode: impl Fn(&mut CopyBuffer, &str),
) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(&format!("DROP TABLE IF EXISTS t; CREATE TABLE t (src text, v {pg_type})"))
            .await
            .unwrap();
        let mut buf = CopyBuffer::new(1 << 16);
        for r in rows {
            buf.begin_row(2);
            buf.bytes(r.as_bytes());
            encode(&mut buf, r);
        }
        buf.finish();
        let sink = client.copy_in::<_, bytes::Bytes>("COPY t FROM STDIN (FORMAT binary)").await.unwrap();
        futures_util::pin_mut!(sink);
        sink.send(buf.split()).await.unwrap();
        sink.as_mut().finish().await.unwrap();
        let bad = client
            .query(
                &format!("SELECT src, v::text FROM t WHERE v IS DISTINCT FROM src::{pg_type} OR v::text IS DISTINCT FROM src::{pg_type}::text"),
                &[],
            )
            .await
            .unwrap();
        bad.iter().map(|r| format!("{} -> {:?}", r.get::<_, String>(0), r.get::<_, Option<String>>(1))).collect()
    })
}

fn check_batches<S: Strategy<Value = String>>(
    strategy: S,
    pg_type: &str,
    encode: impl Fn(&mut CopyBuffer, &str) + Copy,
) {
    let db = PgDb::new();
    let mut runner = TestRunner::new(Config {
        cases: 12,
        ..Config::default()
    });
    runner
        .run(&prop::collection::vec(strategy, 300), |rows| {
            let bad = load_and_compare(&db, pg_type, &rows, encode);
            prop_assert!(
                bad.is_empty(),
                "values PostgreSQL reads differently: {bad:?}"
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn numeric_encoder_matches_postgres_parse() {
    check_batches(numeric_text(), "numeric", |b, s| {
        b.numeric(s).expect("generated numerics are valid")
    });
}

#[test]
fn date_encoder_matches_postgres_parse() {
    check_batches(date_text(), "date", |b, s| {
        b.date(temporal::parse_date(s.as_bytes()).unwrap())
    });
}

#[test]
fn timestamp_encoder_matches_postgres_parse() {
    check_batches(timestamp_text(), "timestamp", |b, s| {
        b.micros(temporal::parse_timestamp(s.as_bytes(), false).unwrap())
    });
}

proptest! {
    #[test]
    fn folded_names_are_stable_and_fit(name in "\\PC{1,80}") {
        let folded = fit_identifier(&snake_case(&name));
        prop_assert!(folded.len() <= 63);
        prop_assert_eq!(fit_identifier(&snake_case(&folded)), folded.clone());
    }
}

/// Folded and shortened names survive PostgreSQL unchanged (it would truncate at 63 bytes).
#[test]
fn folded_names_round_trip_through_postgres() {
    let db = PgDb::new();
    let names = [
        "ÄrgerZähler",
        "HTMLParser",
        &"LongName".repeat(12),
        "user",
        "Order Details",
        &"é".repeat(40),
    ];
    for n in names {
        let folded = fit_identifier(&snake_case(n));
        let quoted = format!("\"{}\"", folded.replace('"', "\"\""));
        db.execute(&format!("CREATE TABLE {quoted} (x int)"));
        let got = db.scalar(&format!(
            "SELECT relname FROM pg_class WHERE relname = '{}'",
            folded.replace('\'', "''")
        ));
        assert_eq!(got.as_deref(), Some(folded.as_str()), "name {n:?}");
    }
}
