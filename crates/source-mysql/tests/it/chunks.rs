//! Chunk plans over composite, sparse, text and unsigned keys: every row lands in exactly one
//! chunk, and no chunk is empty. Keys that do not lead with an integer are walked (chunks of
//! exactly `chunk_size` rows but the last); big tables whose key does are planned from the
//! server's range estimates (chunks of about `chunk_size` rows).

use crate::{copy, introspected, mapping, table, PgSchema, TestDb};
use barge_model::{InvalidValuePolicy, KeyRange, KeyValue, Table};
use barge_source_mysql::MysqlSource;

/// Plan, copy every chunk into one PostgreSQL table, and check the partition: every row in
/// exactly one chunk, no chunk empty, none over `max_rows`. Returns the plan and the rows of
/// each chunk.
async fn check_partition(
    source: &MysqlSource,
    t: &Table,
    chunk_size: u64,
    max_rows: u64,
    key: &[&str],
) -> (Vec<KeyRange>, Vec<u64>) {
    let chunks = source.plan_chunks(t, chunk_size).await.unwrap();
    // The plan is the same every time while the table is unchanged: a resumed run finds
    // the chunks it left.
    assert_eq!(source.plan_chunks(t, chunk_size).await.unwrap(), chunks);
    let pg = PgSchema::new("chunks").await;
    pg.create(t).await;
    let mut total = 0;
    let mut sizes = Vec::new();
    for (i, range) in chunks.iter().enumerate() {
        let copied = copy(source, t, range, InvalidValuePolicy::Error)
            .await
            .unwrap_or_else(|e| panic!("chunk {i}: {e}"));
        assert!(copied.rows > 0, "chunk {i} ({range:?}) is empty");
        assert!(
            copied.rows <= max_rows,
            "chunk {i} holds {} rows, more than {max_rows}",
            copied.rows
        );
        sizes.push(copied.rows);
        assert_eq!(copied.rows, copied.reported_rows);
        total += copied.rows;
        pg.load(t, copied.stream).await;
    }
    let keys = key
        .iter()
        .map(|k| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let row = pg
        .client
        .query_one(
            &format!(
                "SELECT count(*), count(DISTINCT ({keys}, 0)) FROM \"{}\".\"{}\"",
                pg.name, t.name
            ),
            &[],
        )
        .await
        .unwrap();
    let (count, distinct): (i64, i64) = (row.get(0), row.get(1));
    assert_eq!(count as u64, total);
    assert_eq!(distinct, count, "a row was copied twice");
    (chunks, sizes)
}

async fn source_count(db: &TestDb, table: &str) -> u64 {
    let mut conn = mysql_async::Conn::new(mysql_async::Opts::from_url(&db.url).unwrap())
        .await
        .unwrap();
    let n: Option<u64> = mysql_async::prelude::Queryable::query_first(
        &mut conn,
        format!("SELECT count(*) FROM `{table}`"),
    )
    .await
    .unwrap();
    n.unwrap()
}

#[tokio::test]
async fn composite_text_key_partitions_exactly() {
    let mut db = TestDb::new("composite").await;
    db.exec(
        "CREATE TABLE c (a int NOT NULL, b varchar(20) NOT NULL, d date NOT NULL, v int,
            PRIMARY KEY (a, b, d));
        INSERT INTO c SELECT seq % 7, concat(CASE seq % 3 WHEN 0 THEN 'x' WHEN 1 THEN 'Y' ELSE 'é' END, seq % 50),
            DATE_ADD('2020-01-01', INTERVAL seq % 11 DAY), seq FROM seq_1_to_5000",
    )
    .await;
    let source = db.source().await;
    let schema = introspected(&source, mapping()).await;
    let t = table(&schema, "c");
    let n = source_count(&db, "c").await;
    assert!(n > 1000);
    // Only 7 leading values, each holding about 7 chunks: each is walked exactly, so every
    // chunk is full but the last of each leading value.
    let (chunks, sizes) = check_partition(&source, t, 97, 97, &["a", "b", "d"]).await;
    let short = sizes.iter().filter(|&&rows| rows < 97).count();
    assert!(short <= 7, "{short} short chunks: {sizes:?}");
    assert!(chunks.len() as u64 >= n.div_ceil(97) && chunks.len() as u64 <= n.div_ceil(97) + 7);
    let first_end = chunks[0].end.as_ref().unwrap();
    assert!(matches!(first_end[0], KeyValue::Int(_)));
    assert!(matches!(first_end[1], KeyValue::Bytes(_)));
    assert!(matches!(first_end[2], KeyValue::Text(_)));
}

#[tokio::test]
async fn latin1_case_insensitive_key() {
    let mut db = TestDb::new("latin1").await;
    db.exec(
        "CREATE TABLE l (k varchar(20) CHARACTER SET latin1 COLLATE latin1_swedish_ci NOT NULL PRIMARY KEY, v int);
        INSERT INTO l SELECT concat(CASE seq % 4 WHEN 0 THEN 'Ä' WHEN 1 THEN 'b' WHEN 2 THEN 'É' ELSE 'z' END, seq, CASE seq % 2 WHEN 0 THEN ' x' ELSE '€' END), seq FROM seq_1_to_1000",
    )
    .await;
    let source = db.source().await;
    let schema = introspected(&source, mapping()).await;
    let t = table(&schema, "l");
    // A text key is walked: every chunk but the last holds exactly chunk_size rows.
    let (_, sizes) = check_partition(&source, t, 33, 33, &["k"]).await;
    assert!(
        sizes[..sizes.len() - 1].iter().all(|&rows| rows == 33),
        "{sizes:?}"
    );
}

#[tokio::test]
async fn sparse_and_unsigned_keys() {
    let mut db = TestDb::new("sparse").await;
    db.exec(
        "CREATE TABLE s (id bigint NOT NULL PRIMARY KEY, v int);
        INSERT INTO s SELECT CAST(seq * seq * seq * 1000 AS SIGNED) - 500000000, seq FROM seq_1_to_300;
        INSERT INTO s VALUES (-9223372036854775808, 0), (9223372036854775807, 0);
        CREATE TABLE u (id bigint unsigned NOT NULL PRIMARY KEY);
        INSERT INTO u SELECT 18446744073709551615 - seq * 1000000007 FROM seq_0_to_99;
        INSERT INTO u VALUES (0);
        CREATE TABLE nokey (a int, b int);
        INSERT INTO nokey VALUES (1, 1), (1, 1);
        CREATE TABLE empty (id int PRIMARY KEY)",
    )
    .await;
    let source = db.source().await;
    let schema = introspected(&source, mapping()).await;
    // Keys spread over the whole BIGINT range, crowding near zero: the planner narrows in
    // on them from estimates. A table this small is estimated exactly, and the planner
    // halves estimates (right for ranges of many pages), so chunks may hold up to twice
    // chunk_size.
    let (chunks, sizes) = check_partition(&source, table(&schema, "s"), 7, 28, &["id"]).await;
    assert!(
        chunks.len() >= 302usize.div_ceil(14) && chunks.len() <= 302usize.div_ceil(7) + 3,
        "{sizes:?}"
    );
    assert_eq!(chunks[0].start, None);
    assert_eq!(chunks.last().unwrap().end, None);
    let (chunks, sizes) = check_partition(&source, table(&schema, "u"), 10, 40, &["id"]).await;
    assert!((3..=14).contains(&chunks.len()), "{sizes:?}");
    assert!(chunks
        .iter()
        .filter_map(|c| c.end.as_ref())
        .all(|e| matches!(e[0], KeyValue::UInt(_))));

    let nokey = table(&schema, "nokey");
    assert_eq!(
        source.plan_chunks(nokey, 1).await.unwrap(),
        vec![KeyRange::WHOLE]
    );
    let copied = copy(&source, nokey, &KeyRange::WHOLE, InvalidValuePolicy::Error)
        .await
        .unwrap();
    assert_eq!(copied.rows, 2);
    let empty = table(&schema, "empty");
    assert_eq!(
        source.plan_chunks(empty, 1).await.unwrap(),
        vec![KeyRange::WHOLE]
    );
    // A table smaller than one chunk is one stream too.
    assert_eq!(
        source
            .plan_chunks(table(&schema, "s"), 10_000)
            .await
            .unwrap(),
        vec![KeyRange::WHOLE]
    );
}

/// A table big enough for InnoDB to estimate ranges the way it does on real tables (from a
/// sample of index pages): a dense run of ids, a sparse stretch over a huge range and a crowd
/// of rows on a few ids of a composite key. The plan comes from estimates, not a walk of the
/// key; every chunk still holds about chunk_size rows.
#[tokio::test]
async fn estimated_plan_of_a_skewed_key() {
    let mut db = TestDb::new("estimated").await;
    db.exec(
        "CREATE TABLE e (g bigint NOT NULL, n int NOT NULL, pad varchar(40), PRIMARY KEY (g, n));
        INSERT INTO e SELECT seq, 0, repeat('x', 30) FROM seq_1_to_60000;
        INSERT INTO e SELECT 1000000000 + seq * seq * 7919, 0, repeat('y', 30) FROM seq_1_to_40000;
        INSERT INTO e SELECT 5000000000000 + seq % 3, seq, repeat('z', 30) FROM seq_1_to_45000;
        ANALYZE TABLE e",
    )
    .await;
    let source = db.source().await;
    let schema = introspected(&source, mapping()).await;
    let t = table(&schema, "e");
    let n = source_count(&db, "e").await;
    assert_eq!(n, 145_000);
    let (chunks, sizes) = check_partition(&source, t, 5_000, 10_000, &["g", "n"]).await;
    // 29 chunks' worth of rows; estimates put each chunk between half and twice chunk_size,
    // and the 3 crowded ids (15,000 rows each) are walked exactly.
    assert!((15..=60).contains(&chunks.len()), "{sizes:?}");
    let mean = n / chunks.len() as u64;
    assert!((2_500..=7_500).contains(&mean), "mean {mean}: {sizes:?}");
}

#[tokio::test]
async fn a_bound_of_the_wrong_shape_is_refused() {
    let mut db = TestDb::new("badrange").await;
    db.exec("CREATE TABLE r (id int PRIMARY KEY)").await;
    let source = db.source().await;
    let schema = introspected(&source, mapping()).await;
    let t = table(&schema, "r");
    let range = KeyRange {
        start: Some(vec![KeyValue::Text("1 OR 1=1".into())]),
        end: None,
    };
    let err = copy(&source, t, &range, InvalidValuePolicy::Error)
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("chunk bound does not match"),
        "{err}"
    );
}
