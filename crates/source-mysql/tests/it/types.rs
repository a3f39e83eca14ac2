//! Column types under each `[type_mapping]` option.

use crate::IntrospectOptions;
use crate::{mapping, table, TestDb};
use barge_config::{BitMode, EnumMode, SetMode, TimeMode, TypeMapping};
use barge_model::{DataType, Expr, FindingKind, Literal, Severity};

const TYPES: &str = "CREATE TABLE t (
    ti tinyint, tiu tinyint unsigned, t1 tinyint(1), si smallint, siu smallint unsigned,
    mi mediumint, miu mediumint unsigned, i int, iu int unsigned, bi bigint, biu bigint unsigned,
    de decimal(65,30), fl float, db double, yr year, bt bit(3),
    ch char(10), c36 char(36), vc varchar(300), tt tinytext, tx text, mt mediumtext, lt longtext,
    bn binary(16), vb varbinary(20), bl blob, lb longblob,
    dt date, dtm datetime(3), ts timestamp(6) NULL, tm time(2),
    js json, en enum('a','b','it''s'), st set('x','y'),
    uu uuid, i4 inet4, i6 inet6
)";

async fn mapped(db: &TestDb, options: &TypeMapping) -> barge_model::Schema {
    db.source()
        .await
        .introspect(&IntrospectOptions::new(options.clone()))
        .await
        .unwrap()
}

fn ty(schema: &barge_model::Schema, column: &str) -> DataType {
    table(schema, "t").column(column).unwrap().data_type.clone()
}

#[tokio::test]
async fn default_mapping() {
    let mut db = TestDb::new("types").await;
    db.exec(TYPES).await;
    let s = mapped(&db, &mapping()).await;
    let num = |p, s| DataType::Numeric {
        precision: Some(p),
        scale: Some(s),
    };
    let expect = [
        ("ti", DataType::Int2),
        ("tiu", DataType::Int2),
        ("t1", DataType::Int2),
        ("si", DataType::Int2),
        ("siu", DataType::Int4),
        ("mi", DataType::Int4),
        ("miu", DataType::Int4),
        ("i", DataType::Int4),
        ("iu", DataType::Int8),
        ("bi", DataType::Int8),
        ("biu", num(20, 0)),
        ("de", num(65, 30)),
        ("fl", DataType::Float4),
        ("db", DataType::Float8),
        ("yr", DataType::Int2),
        ("bt", DataType::Bytea),
        ("ch", DataType::Char(10)),
        ("c36", DataType::Char(36)),
        ("vc", DataType::Varchar(300)),
        ("tt", DataType::Text),
        ("tx", DataType::Text),
        ("mt", DataType::Text),
        ("lt", DataType::Text),
        ("bn", DataType::Bytea),
        ("vb", DataType::Bytea),
        ("bl", DataType::Bytea),
        ("lb", DataType::Bytea),
        ("dt", DataType::Date),
        ("dtm", DataType::Timestamp(Some(3))),
        ("ts", DataType::Timestamptz(Some(6))),
        ("tm", DataType::Time(Some(2))),
        // MariaDB's JSON is longtext with a json_valid check.
        ("js", DataType::Jsonb),
        ("en", DataType::Text),
        ("st", DataType::Text),
        ("uu", DataType::Uuid),
        ("i4", DataType::Inet),
        ("i6", DataType::Inet),
    ];
    for (c, t) in expect {
        assert_eq!(ty(&s, c), t, "column {c}");
    }
    // enum_mode = "check" (the MySQL-family default): a CHECK on the members.
    let t = table(&s, "t");
    assert_eq!(t.checks.len(), 1);
    assert_eq!(
        t.checks[0].expr,
        Expr::InList {
            expr: Box::new(Expr::Column("en".into())),
            list: ["a", "b", "it's"]
                .iter()
                .map(|v| Expr::Literal(Literal::Text(v.to_string())))
                .collect(),
            negated: false
        }
    );
    assert!(s.findings.iter().all(|f| f.severity != Severity::Error));
}

#[tokio::test]
async fn each_option_changes_its_columns() {
    let mut db = TestDb::new("options").await;
    db.exec(TYPES).await;
    let mut o = mapping();
    o.tinyint1_as_boolean = true;
    o.widen_unsigned_integers = false;
    o.json_as_jsonb = false;
    o.datetime_as_timestamptz = true;
    o.varchar_as_text = true;
    o.enum_mode = EnumMode::Text;
    o.time_mode = TimeMode::Text;
    o.binary16_as_uuid = true;
    o.string_uuid_as_uuid = true;
    let s = mapped(&db, &o).await;
    assert_eq!(ty(&s, "t1"), DataType::Bool);
    assert_eq!(ty(&s, "ti"), DataType::Int2);
    assert_eq!(ty(&s, "siu"), DataType::Int2);
    assert_eq!(ty(&s, "iu"), DataType::Int4);
    assert_eq!(ty(&s, "biu"), DataType::Int8);
    assert_eq!(ty(&s, "js"), DataType::Json);
    assert_eq!(ty(&s, "dtm"), DataType::Timestamptz(Some(3)));
    assert_eq!(ty(&s, "vc"), DataType::Text);
    assert_eq!(ty(&s, "ch"), DataType::Char(10));
    assert_eq!(ty(&s, "tm"), DataType::Text);
    assert_eq!(ty(&s, "bn"), DataType::Uuid);
    assert_eq!(ty(&s, "vb"), DataType::Bytea);
    assert_eq!(ty(&s, "c36"), DataType::Uuid);
    assert!(table(&s, "t").checks.is_empty());
    let mut lossy: Vec<_> = s
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::LossyType)
        .filter_map(|f| f.column.clone())
        .collect();
    lossy.sort();
    assert_eq!(lossy, ["biu", "iu", "siu"]);

    // Every other option value has its own PostgreSQL type.
    let mut o = mapping();
    o.bit_mode = BitMode::Varbit;
    o.set_mode = SetMode::TextArrayCheck;
    o.time_mode = TimeMode::Interval;
    o.enum_mode = EnumMode::Native;
    let s = mapped(&db, &o).await;
    assert_eq!(ty(&s, "bt"), DataType::Varbit(3));
    assert_eq!(ty(&s, "st"), DataType::TextArray);
    assert_eq!(ty(&s, "tm"), DataType::Interval);
    assert_eq!(
        ty(&s, "en"),
        DataType::Enum {
            name: "t_en".into(),
            labels: vec!["a".into(), "b".into(), "it's".into()]
        }
    );
    // The native enum needs no CHECK; the set keeps to its members with one.
    assert_eq!(
        table(&s, "t")
            .checks
            .iter()
            .map(|c| c.expr.clone())
            .collect::<Vec<_>>(),
        vec![Expr::SubsetOf {
            expr: Box::new(Expr::Column("st".into())),
            members: vec!["x".into(), "y".into()]
        }]
    );
    assert!(s
        .findings
        .iter()
        .all(|f| f.kind != FindingKind::OptionIgnored));
    o.bit_mode = BitMode::Bit;
    o.set_mode = SetMode::TextArray;
    let s = mapped(&db, &o).await;
    assert_eq!(ty(&s, "bt"), DataType::Bit(3));
    assert_eq!(ty(&s, "st"), DataType::TextArray);
    assert!(table(&s, "t").checks.is_empty());
}

#[tokio::test]
async fn unknown_and_spatial_types_are_findings() {
    let mut db = TestDb::new("spatial").await;
    db.exec("CREATE TABLE g (id int PRIMARY KEY, p point, shape geometry)")
        .await;
    let s = mapped(&db, &mapping()).await;
    let errors: Vec<_> = s
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .filter_map(|f| f.column.clone())
        .collect();
    assert_eq!(errors, ["p", "shape"]);
    let mut o = mapping();
    o.spatial_mode = barge_config::SpatialMode::WktText;
    let s = mapped(&db, &o).await;
    assert_eq!(
        table(&s, "g").column("p").unwrap().data_type,
        DataType::Text
    );
    assert!(s.findings.iter().all(|f| f.severity != Severity::Error));
}
