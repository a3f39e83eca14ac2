//! The model introspection builds: tables, columns, keys, indexes, foreign keys, comments,
//! and the objects barge reports but does not migrate.

use crate::{introspected, mapping, table, TestDb};
use barge_model::{Chunking, DataType, Expr, FindingKind, FkAction, IndexPart, Literal, Severity};

#[tokio::test]
async fn schema_is_read_into_the_model() {
    let mut db = TestDb::new("introspect").await;
    db.exec(
        "CREATE TABLE customers (
            id int unsigned NOT NULL AUTO_INCREMENT,
            email varchar(120) NOT NULL COMMENT 'login name',
            name varchar(80),
            bio text,
            PRIMARY KEY (id),
            UNIQUE KEY uq_email (email),
            KEY ix_name_desc (name DESC, id),
            KEY ix_bio (bio(10)),
            FULLTEXT KEY ft_bio (bio)
        ) ENGINE=InnoDB COMMENT='people who buy';
        CREATE TABLE orders (
            customer_id int unsigned NOT NULL,
            line smallint NOT NULL,
            amount decimal(12,2) NOT NULL DEFAULT 0.00,
            total int AS (line * 2) STORED,
            PRIMARY KEY (customer_id, line),
            CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
                ON DELETE CASCADE ON UPDATE RESTRICT,
            CONSTRAINT positive CHECK (amount >= 0)
        );
        CREATE TABLE loose (a int, b int);
        CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100;
        CREATE TRIGGER trg BEFORE INSERT ON loose FOR EACH ROW SET NEW.b = 1;
        CREATE PROCEDURE p() SELECT 1",
    )
    .await;
    let source = db.source().await;
    assert!(source.describe().ends_with(&format!("/{}", db.name)));
    assert!(!source.describe().contains("password"));
    let schema = introspected(&source, mapping()).await;
    let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["customers", "loose", "orders"]);

    let c = table(&schema, "customers");
    assert_eq!(c.comment.as_deref(), Some("people who buy"));
    assert_eq!(c.primary_key.as_ref().unwrap().columns, ["id"]);
    let id = c.column("id").unwrap();
    assert!(id.identity);
    assert!(!id.nullable);
    assert_eq!(id.data_type, DataType::Int8);
    assert_eq!(id.source_type, "int(10) unsigned");
    let email = c.column("email").unwrap();
    assert_eq!(email.comment.as_deref(), Some("login name"));
    assert_eq!(email.data_type, DataType::Varchar(120));
    assert!(!email.nullable);
    assert_eq!(c.unique_keys.len(), 1);
    assert_eq!(c.unique_keys[0].name.as_deref(), Some("uq_email"));
    assert_eq!(c.unique_keys[0].columns, ["email"]);
    assert_eq!(
        c.chunking,
        Chunking::IntegerKey {
            column: Some("id".into())
        }
    );
    let by_name = |n: &str| c.indexes.iter().find(|i| i.name == n);
    let desc = by_name("ix_name_desc").expect("ix_name_desc");
    assert_eq!(
        desc.parts,
        vec![
            IndexPart::Column {
                name: "name".into(),
                descending: true
            },
            IndexPart::Column {
                name: "id".into(),
                descending: false
            }
        ]
    );
    let prefix = by_name("ix_bio").expect("prefix index becomes an expression index");
    assert!(
        matches!(&prefix.parts[0], IndexPart::Expr { expr: Expr::Function(_, args), .. }
        if args[2] == Expr::Literal(Literal::Integer("10".into())))
    );
    // FULLTEXT becomes GIN over the same words.
    let ft = by_name("ft_bio").expect("FULLTEXT index becomes a GIN index");
    assert_eq!(ft.method, barge_model::IndexMethod::Gin);
    assert!(matches!(
        &ft.parts[0],
        IndexPart::Expr {
            expr: Expr::Function(barge_model::expr::Function::ToTsvectorSimple, _),
            ..
        }
    ));
    let has = |kind: FindingKind, table: &str, text: &str| {
        schema.findings.iter().any(|f| {
            f.kind == kind && f.table.as_deref() == Some(table) && f.message.contains(text)
        })
    };
    assert!(has(FindingKind::IndexTranslated, "customers", "ft_bio"));
    // utf8mb4_general_ci: case-insensitive uniqueness does not carry.
    assert!(has(
        FindingKind::IndexTranslated,
        "customers",
        "case-insensitively"
    ));

    let o = table(&schema, "orders");
    assert_eq!(
        o.primary_key.as_ref().unwrap().columns,
        ["customer_id", "line"]
    );
    assert_eq!(o.foreign_keys.len(), 1);
    let fk = &o.foreign_keys[0];
    assert_eq!(fk.name.as_deref(), Some("fk_customer"));
    assert_eq!(fk.ref_table, "customers");
    assert_eq!(fk.columns, ["customer_id"]);
    assert_eq!(fk.ref_columns, ["id"]);
    assert_eq!(fk.on_delete, FkAction::Cascade);
    assert_eq!(fk.on_update, FkAction::Restrict);
    let total = o.column("total").unwrap();
    let g = total.generated.as_ref().unwrap();
    assert!(g.stored);
    assert!(g.source_sql.contains("line"));
    // `line * 2` over a column before it: PostgreSQL computes the column.
    assert_eq!(
        g.expr,
        Some(Expr::Binary(
            barge_model::BinaryOp::Mul,
            Box::new(Expr::Column("line".into())),
            Box::new(Expr::Literal(Literal::Integer("2".into())))
        ))
    );
    assert!(!total.is_copied());
    assert!(has(
        FindingKind::GeneratedColumn,
        "orders",
        "GENERATED ALWAYS AS"
    ));
    // CHECK constraints are carried, with their names.
    let positive = o
        .checks
        .iter()
        .find(|c| c.name.as_deref() == Some("positive"))
        .expect("CHECK positive is carried");
    assert_eq!(
        positive.expr,
        Expr::Binary(
            barge_model::BinaryOp::GtEq,
            Box::new(Expr::Column("amount".into())),
            Box::new(Expr::Literal(Literal::Integer("0".into())))
        )
    );
    assert_eq!(o.chunking, Chunking::Stream);

    let l = table(&schema, "loose");
    assert!(l.primary_key.is_none());
    assert!(has(FindingKind::NoPrimaryKey, "loose", "no primary key"));
    assert_eq!(l.row_count, Some(0));

    assert_eq!(schema.views.len(), 1);
    assert_eq!(schema.views[0].name, "big_orders");
    assert!(schema.views[0].sql.to_lowercase().contains("select"));
    assert_eq!(schema.triggers.len(), 1);
    assert_eq!(schema.triggers[0].table.as_deref(), Some("loose"));
    assert!(schema.triggers[0].sql.contains("BEFORE INSERT"));
    assert_eq!(schema.routines.len(), 1);
    assert_eq!(schema.routines[0].name, "p");
    assert!(schema
        .findings
        .iter()
        .all(|f| f.severity != Severity::Error));
}

#[tokio::test]
async fn connect_reports_a_missing_database_and_bad_urls() {
    let err = barge_source_mysql::MysqlSource::connect("mysql://root@127.0.0.1:3306")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("names no database"), "{err}");
    let err = barge_source_mysql::MysqlSource::connect("postgres://x/y")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("invalid MySQL connection string"),
        "{err}"
    );
    let err = barge_source_mysql::MysqlSource::connect(
        "mysql://root@127.0.0.1:3306/barge_no_such_database_here",
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("cannot connect"), "{err}");
}

#[tokio::test]
async fn connects_from_fields() {
    let db = TestDb::new("fields").await;
    let opts = mysql_async::Opts::from_url(&crate::mysql_url()).unwrap();
    let source = barge_source_mysql::MysqlSource::connect_fields(
        opts.ip_or_hostname(),
        Some(opts.tcp_port()),
        opts.user().unwrap_or(""),
        opts.pass().unwrap_or(""),
        &db.name,
    )
    .await
    .unwrap();
    assert_eq!(
        source.describe(),
        format!(
            "{}@{}:{}/{}",
            opts.user().unwrap_or(""),
            opts.ip_or_hostname(),
            opts.tcp_port(),
            db.name
        )
    );
    assert_eq!(source.flavor(), barge_source_mysql::Flavor::Mariadb);
}
