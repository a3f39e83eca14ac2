use crate::{mapping, table, TestDb};
use barge_model::{InvalidValuePolicy, KeyRange};

#[tokio::test]
#[ignore]
async fn throughput() {
    let mut db = TestDb::new("tp").await;
    db.exec("CREATE TABLE s (emp_no int NOT NULL, salary int NOT NULL, from_date date NOT NULL, to_date date NOT NULL, note varchar(40), amount decimal(12,2), ts datetime(3), PRIMARY KEY (emp_no, from_date));
    INSERT INTO s SELECT seq DIV 10, seq % 100000, DATE_ADD('1990-01-01', INTERVAL seq % 10 YEAR), '9999-01-01', concat('note ', seq), seq / 7, '2020-01-01 10:00:00.123' FROM seq_1_to_1000000").await;
    let source = db.source().await;
    let schema = source.introspect(&mapping(), true).await.unwrap();
    let t = table(&schema, "s");
    let start = std::time::Instant::now();
    let chunks = source.plan_chunks(t, 100_000).await.unwrap();
    let planned = start.elapsed();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(8);
    let drain = tokio::spawn(async move { let mut n = 0usize; while let Some(b) = rx.recv().await { n += b.len(); } n });
    let mut rejects = Vec::new();
    let start = std::time::Instant::now();
    let mut rows = 0;
    for c in &chunks {
        rows += source.copy_chunk(t, c, InvalidValuePolicy::Error, 256 * 1024, &tx, &|_| {}, &mut rejects).await.unwrap();
    }
    let copied = start.elapsed();
    drop(tx);
    let bytes = drain.await.unwrap();
    let start = std::time::Instant::now();
    rows += source.copy_chunk(t, &KeyRange::WHOLE, InvalidValuePolicy::Error, 256 * 1024, &{ let (tx2, mut rx2) = tokio::sync::mpsc::channel::<bytes::Bytes>(8); tokio::spawn(async move { while rx2.recv().await.is_some() {} }); tx2 }, &|_| {}, &mut rejects).await.unwrap();
    let whole = start.elapsed();
    eprintln!("chunks {} planned in {planned:?}; {rows} rows, {bytes} bytes copied in {copied:?} (chunked), whole stream {whole:?}", chunks.len());
}
