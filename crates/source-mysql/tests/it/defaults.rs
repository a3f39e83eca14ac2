//! Defaults: literals, CURRENT_TIMESTAMP, NULL, bit literals, expressions; rendered into real
//! PostgreSQL tables to prove they are valid there.

use crate::IntrospectOptions;
use crate::{introspected, mapping, table, PgSchema, TestDb};
use barge_model::{DefaultValue, FindingKind, Literal};

#[tokio::test]
async fn defaults_are_translated_or_reported() {
    let mut db = TestDb::new("defaults").await;
    db.exec(
        "CREATE TABLE d (
            id int PRIMARY KEY,
            s varchar(20) DEFAULT 'it''s \\\\ ok',
            sn varchar(10) DEFAULT 'NULL',
            n varchar(10) DEFAULT NULL,
            i int NOT NULL DEFAULT -5,
            de decimal(6,2) DEFAULT 1.50,
            f double DEFAULT 1e10,
            b1 bit(1) NOT NULL DEFAULT b'0',
            b10 bit(10) DEFAULT b'101',
            flag tinyint(1) DEFAULT 1,
            ts timestamp(3) NOT NULL DEFAULT current_timestamp(3) ON UPDATE current_timestamp(3),
            dt datetime DEFAULT now(),
            da date DEFAULT curdate(),
            dl date DEFAULT '2020-02-29',
            u char(36) DEFAULT uuid(),
            ex int DEFAULT (1 + 2),
            e enum('a','b') DEFAULT 'b',
            bl blob DEFAULT 'ab',
            j json DEFAULT '{}'
        )",
    )
    .await;
    let source = db.source().await;
    let mut o = mapping();
    o.tinyint1_as_boolean = true;
    let schema = introspected(&source, o.clone()).await;
    let t = table(&schema, "d");
    let def = |c: &str| t.column(c).unwrap().default.clone();
    let lit = |l: Literal| Some(DefaultValue::Literal(l));
    assert_eq!(def("s"), lit(Literal::Text("it's \\ ok".into())));
    assert_eq!(def("sn"), lit(Literal::Text("NULL".into())));
    assert_eq!(def("n"), None);
    assert_eq!(def("i"), lit(Literal::Integer("-5".into())));
    assert_eq!(def("de"), lit(Literal::Decimal("1.50".into())));
    assert_eq!(def("b1"), lit(Literal::Bytes(vec![0])));
    assert_eq!(def("b10"), lit(Literal::Bytes(vec![0, 5])));
    assert_eq!(def("flag"), lit(Literal::Bool(true)));
    assert_eq!(def("ts"), Some(DefaultValue::CurrentTimestamp));
    assert_eq!(def("dt"), Some(DefaultValue::CurrentTimestamp));
    assert_eq!(def("da"), Some(DefaultValue::CurrentDate));
    assert_eq!(def("dl"), lit(Literal::Text("2020-02-29".into())));
    assert_eq!(def("u"), None);
    assert_eq!(def("ex"), None);
    assert_eq!(def("e"), lit(Literal::Text("b".into())));
    assert_eq!(def("bl"), lit(Literal::Bytes(b"ab".to_vec())));
    assert_eq!(def("j"), lit(Literal::Text("{}".into())));
    let skipped: Vec<(String, String)> = schema
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::DefaultSkipped)
        .map(|f| (f.column.clone().unwrap_or_default(), f.message.clone()))
        .collect();
    assert!(
        skipped
            .iter()
            .any(|(c, m)| c == "u" && m.contains("uuid()")),
        "{skipped:?}"
    );
    assert!(
        skipped
            .iter()
            .any(|(c, m)| c == "ex" && m.contains("1 + 2")),
        "{skipped:?}"
    );
    assert!(
        skipped
            .iter()
            .any(|(c, m)| c == "ts" && m.contains("on update")),
        "{skipped:?}"
    );

    // PostgreSQL accepts every translated default, and fills them in.
    let pg = PgSchema::new("defaults").await;
    pg.create(t).await;
    pg.client
        .batch_execute(&format!("INSERT INTO \"{}\".d (id) VALUES (1)", pg.name))
        .await
        .unwrap();
    let row = pg
        .rows(
            "d",
            &[
                "s", "sn", "n", "i", "de", "f", "b1", "b10", "flag", "dl", "e", "bl", "j",
            ],
            "id",
        )
        .await;
    assert_eq!(
        row[0],
        [
            "it's \\ ok",
            "NULL",
            "NULL",
            "-5",
            "1.50",
            "10000000000",
            "\\x00",
            "\\x0005",
            "true",
            "2020-02-29",
            "b",
            "\\x6162",
            "{}"
        ]
    );
    let now: (bool, bool, bool) = {
        let r = pg
            .client
            .query_one(
                &format!(
                    "SELECT ts > now() - interval '1 minute', dt > (now() AT TIME ZONE 'UTC') - interval '1 minute', da IS NOT NULL FROM \"{}\".d",
                    pg.name
                ),
                &[],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    assert_eq!(now, (true, true, true));

    // preserve_defaults = false carries none.
    let schema = source
        .introspect(&IntrospectOptions {
            preserve_defaults: false,
            ..IntrospectOptions::new(o.clone())
        })
        .await
        .unwrap();
    assert!(table(&schema, "d")
        .columns
        .iter()
        .all(|c| c.default.is_none()));
}
