//! Names, keys, indexes, defaults, objects barge reports but does not create, the target
//! schema policy, and the shapes of tables the copy must get right.

use crate::support::{assert_exit, assert_ok, barge, ident, plan_json, stderr, Fixture, PgDb};

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// `pg_get_constraintdef` of every constraint of `contype` on `schema.table`, sorted.
fn constraints(db: &PgDb, schema: &str, table: &str, contype: &str) -> Vec<String> {
    db.query(&format!(
        "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid \
         JOIN pg_namespace n ON n.oid = r.relnamespace WHERE n.nspname = '{schema}' \
         AND r.relname = '{table}' AND c.contype = '{contype}' ORDER BY 1"
    ))
    .into_iter()
    .map(|r| r[0].clone().unwrap())
    .collect()
}

/// `(indexname, indexdef)` of every index in `schema`, sorted by name.
fn indexes(db: &PgDb, schema: &str) -> Vec<(String, String)> {
    db.query(&format!(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = '{schema}' ORDER BY 1"
    ))
    .into_iter()
    .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
    .collect()
}

#[test]
fn long_names_equal_in_their_first_63_bytes_stay_distinct_and_stable() {
    let x = format!("{}x", "a".repeat(63));
    let y = format!("{}y", "a".repeat(63));
    let parent = format!("parent_{}", "b".repeat(70));
    let index = format!("idx_{}", "c".repeat(70));
    let fx = Fixture::sqlite(&format!(
        "CREATE TABLE {parent} (id INTEGER PRIMARY KEY);
         CREATE TABLE t (id INTEGER PRIMARY KEY, {x} INT, {y} INT, p INTEGER REFERENCES {parent} (id));
         CREATE INDEX {index} ON t ({x});
         INSERT INTO {parent} VALUES (10);
         INSERT INTO t VALUES (1, 1, 2, 10), (2, 3, 4, NULL);"
    ));
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");

    // The plan says what each long name becomes.
    let plan = plan_json(&cfg);
    let tables = plan["schema"]["tables"].as_array().unwrap();
    let target = |source: &str| -> String {
        for t in tables {
            if t["name"] == source {
                return t["target_name"].as_str().unwrap().to_string();
            }
            for c in t["columns"].as_array().unwrap() {
                if c["name"] == source {
                    return c["target_name"].as_str().unwrap().to_string();
                }
            }
            for i in t["indexes"].as_array().unwrap() {
                if i["name"] == source {
                    return i["target_name"].as_str().unwrap().to_string();
                }
            }
        }
        panic!("{source} not in plan: {plan}")
    };
    let (tx, ty, tp, ti) = (target(&x), target(&y), target(&parent), target(&index));
    assert_ne!(tx, ty);
    for (source, shortened) in [(&x, &tx), (&y, &ty), (&parent, &tp), (&index, &ti)] {
        // 54-byte prefix of the name, `_`, 8 hex digits.
        assert_eq!(shortened.len(), 63, "{shortened}");
        assert_eq!(&shortened[..54], &source[..54]);
        assert_eq!(&shortened[54..55], "_");
        assert!(
            shortened[55..].chars().all(|c| c.is_ascii_hexdigit()),
            "{shortened}"
        );
    }
    let findings = plan["findings"].to_string();
    assert!(
        findings.contains(&format!(
            "column name `{x}` is longer than 63 bytes; shortened to `{tx}`"
        )),
        "{findings}"
    );

    // Two runs give the same names, and each value is in its own column.
    for _ in 0..2 {
        assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
        assert_eq!(plan_json(&cfg)["schema"], plan["schema"]);
        assert_eq!(
            db.columns("app", "t")
                .into_iter()
                .map(|c| c.0)
                .collect::<Vec<_>>(),
            vec!["id".to_string(), tx.clone(), ty.clone(), "p".to_string()]
        );
        assert_eq!(
            db.query(&format!(
                "SELECT id, {}::text, {}::text, p FROM app.t ORDER BY id",
                ident(&tx),
                ident(&ty)
            )),
            vec![
                vec![s("1"), s("1"), s("2"), s("10")],
                vec![s("2"), s("3"), s("4"), None]
            ]
        );
        assert_eq!(db.tables("app"), {
            let mut v = vec![tp.clone(), "t".to_string()];
            v.sort();
            v
        });
        assert!(indexes(&db, "app").iter().any(|(name, _)| name == &ti));
        assert_eq!(
            constraints(&db, "app", "t", "f"),
            vec![format!(
                "FOREIGN KEY (p) REFERENCES app.{}(id)",
                pg_name(&tp)
            )]
        );
    }
}

#[test]
fn reserved_words_work_as_table_and_column_names() {
    let fx = Fixture::sqlite(
        r#"
        CREATE TABLE "user" ("order" INTEGER PRIMARY KEY, "references" TEXT, "select" INT, "group" TEXT DEFAULT 'g');
        CREATE TABLE "order" (id INTEGER PRIMARY KEY, "user" INTEGER REFERENCES "user" ("order"), "from" TEXT,
            "table" TEXT, UNIQUE ("from", "table"));
        CREATE TABLE "references" ("column" INT, "check" TEXT, "primary" INT, PRIMARY KEY ("column", "check"));
        CREATE INDEX "where" ON "order" ("from");
        INSERT INTO "user" VALUES (1, 'r1', 10, 'g1'), (2, NULL, 20, 'g2');
        INSERT INTO "order" VALUES (1, 1, 'a', 't1'), (2, 2, 'b', 't2'), (3, NULL, 'a', 't3');
        INSERT INTO "references" VALUES (1, 'x', 7), (1, 'y', 8);
        "#,
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(db.tables("app"), strings(&["order", "references", "user"]));
    assert_eq!(
        db.query(r#"SELECT "order", "references", "select", "group" FROM app."user" ORDER BY 1"#),
        vec![
            vec![s("1"), s("r1"), s("10"), s("g1")],
            vec![s("2"), None, s("20"), s("g2")]
        ]
    );
    assert_eq!(
        db.query(r#"SELECT id, "user", "from", "table" FROM app."order" ORDER BY 1"#),
        vec![
            vec![s("1"), s("1"), s("a"), s("t1")],
            vec![s("2"), s("2"), s("b"), s("t2")],
            vec![s("3"), None, s("a"), s("t3")]
        ]
    );
    assert_eq!(
        db.query(r#"SELECT "column", "check", "primary" FROM app."references" ORDER BY 1, 2"#),
        vec![vec![s("1"), s("x"), s("7")], vec![s("1"), s("y"), s("8")]]
    );
    assert_eq!(
        constraints(&db, "app", "order", "f"),
        vec![r#"FOREIGN KEY ("user") REFERENCES app."user"("order")"#.to_string()]
    );
    assert_eq!(
        constraints(&db, "app", "order", "u"),
        vec![r#"UNIQUE ("from", "table")"#.to_string()]
    );
    assert_eq!(
        constraints(&db, "app", "references", "p"),
        vec![r#"PRIMARY KEY ("column", "check")"#.to_string()]
    );
    assert!(indexes(&db, "app").contains(&(
        "where".to_string(),
        r#"CREATE INDEX "where" ON app."order" USING btree ("from")"#.to_string()
    )));
    // Defaults and identities on reserved names work too.
    db.execute(r#"INSERT INTO app."user" ("references") VALUES ('new')"#);
    assert_eq!(
        db.query(r#"SELECT "order", "group" FROM app."user" WHERE "references" = 'new'"#),
        vec![vec![s("3"), s("g")]]
    );
}

const MIXED_CASE: &str = r#"
    CREATE TABLE "Customer" ("CustomerId" INTEGER PRIMARY KEY, "FirstName" TEXT);
    CREATE TABLE "OrderItems" ("ItemID" INTEGER PRIMARY KEY, "Unit Price" NUMERIC(8,2), "HTMLCode" TEXT,
        "userID" INT, "ÄrgerZähler" INT, "CustomerRef" INTEGER REFERENCES "Customer" ("CustomerId"));
    CREATE INDEX "IX_Items_Code" ON "OrderItems" ("HTMLCode");
    INSERT INTO "Customer" VALUES (1, 'Ann'), (2, 'Bob');
    INSERT INTO "OrderItems" VALUES (1, 9.99, '<b>', 7, 3, 1), (2, 0.5, NULL, NULL, -1, 2), (5, 1.25, 'x', 1, 0, NULL);
"#;

/// The names under each folding, and that everything (data, keys, index, identity) follows.
#[test]
fn mixed_case_and_quoted_names_follow_the_identifier_case() {
    let cases: &[(&str, [&str; 2], [&str; 6], &str)] = &[
        (
            "",
            ["customer", "order_items"],
            [
                "item_id",
                "unit_price",
                "html_code",
                "user_id",
                "ärger_zähler",
                "customer_ref",
            ],
            "ix_items_code",
        ),
        (
            "identifier_case = \"snake\"",
            ["customer", "order_items"],
            [
                "item_id",
                "unit_price",
                "html_code",
                "user_id",
                "ärger_zähler",
                "customer_ref",
            ],
            "ix_items_code",
        ),
        (
            "identifier_case = \"lower\"",
            ["customer", "orderitems"],
            [
                "itemid",
                "unit price",
                "htmlcode",
                "userid",
                "ärgerzähler",
                "customerref",
            ],
            "ix_items_code",
        ),
        (
            "snake_case_identifiers = false",
            ["customer", "orderitems"],
            [
                "itemid",
                "unit price",
                "htmlcode",
                "userid",
                "ärgerzähler",
                "customerref",
            ],
            "ix_items_code",
        ),
        (
            "identifier_case = \"preserve\"",
            ["Customer", "OrderItems"],
            [
                "ItemID",
                "Unit Price",
                "HTMLCode",
                "userID",
                "ÄrgerZähler",
                "CustomerRef",
            ],
            "IX_Items_Code",
        ),
    ];
    let fx = Fixture::sqlite(MIXED_CASE);
    let db = PgDb::new();
    for (option, tables, columns, index) in cases {
        let cfg = fx.config(&db, "app", option);
        assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
        let mut expected_tables = strings(tables);
        expected_tables.sort();
        assert_eq!(db.tables("app"), expected_tables, "{option}");
        let items = tables[1];
        assert_eq!(
            db.columns("app", items)
                .into_iter()
                .map(|c| c.0)
                .collect::<Vec<_>>(),
            strings(columns),
            "{option}"
        );
        let select: Vec<String> = columns
            .iter()
            .map(|c| format!("{}::text", ident(c)))
            .collect();
        assert_eq!(
            db.query(&format!(
                "SELECT {} FROM app.{} ORDER BY 1",
                select.join(", "),
                ident(items)
            )),
            vec![
                vec![s("1"), s("9.99"), s("<b>"), s("7"), s("3"), s("1")],
                vec![s("2"), s("0.50"), None, None, s("-1"), s("2")],
                vec![s("5"), s("1.25"), s("x"), s("1"), s("0"), None],
            ],
            "{option}"
        );
        assert!(
            indexes(&db, "app").iter().any(|(name, def)| name == index
                && def.contains(&format!("USING btree ({})", pg_name(columns[2])))),
            "{option}: {:?}",
            indexes(&db, "app")
        );
        assert_eq!(
            constraints(&db, "app", items, "f"),
            vec![format!(
                "FOREIGN KEY ({}) REFERENCES app.{}({})",
                pg_name(columns[5]),
                pg_name(tables[0]),
                pg_name(if *option == "identifier_case = \"preserve\"" {
                    "CustomerId"
                } else if option.contains("lower") || option.contains("false") {
                    "customerid"
                } else {
                    "customer_id"
                })
            )],
            "{option}"
        );
        db.execute(&format!(
            "INSERT INTO app.{} ({}) VALUES (1)",
            ident(items),
            ident(columns[3])
        ));
        assert_eq!(
            db.scalar(&format!(
                "SELECT max({}) FROM app.{}",
                ident(columns[0]),
                ident(items)
            ))
            .as_deref(),
            Some("6"),
            "{option}: identity continues past the loaded maximum"
        );
    }
}

/// How PostgreSQL prints an identifier: quoted unless it is a plain lower-case name.
fn pg_name(name: &str) -> String {
    let plain = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        ident(name)
    }
}

#[test]
fn table_without_primary_key_arrives_with_its_duplicate_rows() {
    let fx = Fixture::sqlite(
        "CREATE TABLE log (at TEXT, msg TEXT, n INT);
         INSERT INTO log VALUES ('t1', 'same', 1), ('t1', 'same', 1), ('t1', 'same', 1),
             (NULL, NULL, NULL), (NULL, NULL, NULL), ('t2', 'other', 2);",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "chunk_size = 2\nworkers = 3");
    let plan = assert_ok(&barge(&["plan", cfg.to_str().unwrap()]));
    assert!(
        plan.contains("table `log` -> `log`  (6 rows, 3 chunks)"),
        "{plan}"
    );
    assert!(
        plan.contains("note: table `log`: table has no primary key"),
        "{plan}"
    );
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    let sql = "SELECT at, msg, n FROM log ORDER BY at NULLS FIRST, msg, n";
    let pg = db.query(&sql.replace("n FROM log", "n FROM app.log"));
    assert_eq!(pg, fx.sqlite_query(&sql.replace(" NULLS FIRST", "")));
    assert_eq!(pg.len(), 6);
    assert!(constraints(&db, "app", "log", "p").is_empty());
}

#[test]
fn composite_primary_and_foreign_keys_keep_their_column_order() {
    let fx = Fixture::sqlite(
        "CREATE TABLE enrol (student INT, course TEXT, grade NUMERIC(3,1), PRIMARY KEY (course, student));
         CREATE TABLE attempt (id INTEGER PRIMARY KEY, course TEXT, student INT, score INT,
             FOREIGN KEY (course, student) REFERENCES enrol (course, student) ON DELETE CASCADE);
         INSERT INTO enrol VALUES (1, 'math', 9.5), (2, 'math', 7), (1, 'art', NULL);
         INSERT INTO attempt VALUES (1, 'math', 1, 50), (2, 'math', 1, 80), (3, 'art', 1, 10), (4, 'math', 2, 0);",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(
        constraints(&db, "app", "enrol", "p"),
        vec!["PRIMARY KEY (course, student)".to_string()]
    );
    assert_eq!(
        constraints(&db, "app", "attempt", "f"),
        vec![
            "FOREIGN KEY (course, student) REFERENCES app.enrol(course, student) ON DELETE CASCADE"
                .to_string()
        ]
    );
    assert_eq!(
        db.query("SELECT course, student, grade FROM app.enrol ORDER BY 1, 2"),
        vec![
            vec![s("art"), s("1"), None],
            vec![s("math"), s("1"), s("9.5")],
            vec![s("math"), s("2"), s("7.0")]
        ]
    );
    assert_eq!(
        db.query("SELECT id, course, student, score FROM app.attempt ORDER BY 1"),
        fx.sqlite_query("SELECT id, course, student, score FROM attempt ORDER BY 1")
    );
    // The key is enforced, and the cascade works.
    let dup = db.try_execute("INSERT INTO app.enrol VALUES (1, 'math', 1)");
    assert!(dup.unwrap_err().starts_with("23505"));
    db.execute("DELETE FROM app.enrol WHERE course = 'math' AND student = 1");
    assert_eq!(
        db.scalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM app.attempt")
            .as_deref(),
        Some("3,4")
    );
}

#[test]
fn self_referencing_foreign_key_loads_rows_that_reference_themselves() {
    // Chunks of 2 rows over 3 workers: rows reference rows in other chunks and themselves.
    let fx = Fixture::sqlite(
        "CREATE TABLE emp (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
             boss INTEGER REFERENCES emp (id) ON DELETE CASCADE);
         INSERT INTO emp VALUES (1, 'root', 1), (2, 'a', 1), (3, 'b', 5), (4, 'c', NULL),
             (5, 'd', 2), (6, 'e', 6), (7, 'f', 3);",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "chunk_size = 2\nworkers = 3");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(
        db.query("SELECT id, name, boss FROM app.emp ORDER BY id"),
        fx.sqlite_query("SELECT id, name, boss FROM emp ORDER BY id")
    );
    assert_eq!(
        db.query(
            "SELECT pg_get_constraintdef(oid), convalidated FROM pg_constraint \
             WHERE conrelid = 'app.emp'::regclass AND contype = 'f'"
        ),
        vec![vec![
            s("FOREIGN KEY (boss) REFERENCES app.emp(id) ON DELETE CASCADE"),
            s("t")
        ]]
    );
    let orphan = db.try_execute("INSERT INTO app.emp (name, boss) VALUES ('x', 999)");
    assert!(orphan.unwrap_err().starts_with("23503"));
    // Deleting the root cascades down the chain 1 <- 2 <- 5 <- 3 <- 7.
    db.execute("DELETE FROM app.emp WHERE id = 1");
    assert_eq!(
        db.scalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM app.emp")
            .as_deref(),
        Some("4,6")
    );
}

#[test]
fn orphan_rows_fail_the_foreign_key_step_when_cleanup_is_off() {
    let fx = Fixture::sqlite(
        "PRAGMA foreign_keys = OFF;
         CREATE TABLE parent (id INTEGER PRIMARY KEY);
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent);
         INSERT INTO parent VALUES (1);
         INSERT INTO child VALUES (1, 1), (2, 99);",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "clean_orphans = false");
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = assert_exit(&o, 4);
    let err = stderr(&o);
    assert!(
        err.contains("error: validating foreign key `child_parent_id_fkey` of `child`"),
        "{out}"
    );
    assert!(
        err.contains("Key (parent_id)=(99) is not present in table \"parent\""),
        "{out}"
    );
}

#[test]
fn partial_and_expression_indexes_become_postgres_indexes() {
    let fx = Fixture::sqlite(
        r#"
        CREATE TABLE items (id INTEGER PRIMARY KEY, "Code" TEXT, quantity INT, status TEXT,
            deleted INT NOT NULL DEFAULT 0, sku TEXT UNIQUE, meta TEXT);
        CREATE INDEX part ON items (id) WHERE quantity > 0 AND "Code" IS NOT NULL;
        CREATE INDEX part_in ON items (quantity) WHERE status IN ('a', 'b');
        CREATE UNIQUE INDEX upart ON items ("Code") WHERE deleted = 0;
        CREATE INDEX expr ON items (lower("Code"), quantity DESC);
        CREATE UNIQUE INDEX uexpr ON items (upper(sku));
        CREATE INDEX multi ON items (status, quantity DESC);
        CREATE INDEX untranslatable ON items (json_extract(meta, '$.a'));
        INSERT INTO items VALUES (1, 'a', 1, 'a', 0, 's1', '{"a": 1}'), (2, 'a', 0, 'b', 1, 's2', NULL),
            (3, 'B', 5, 'c', 0, 's3', NULL);
        "#,
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let plan = assert_ok(&barge(&["plan", cfg.to_str().unwrap()]));
    assert!(
        plan.contains("warning: table `items`: index `untranslatable` is not migrated: expression `json_extract(meta, '$.a')`"),
        "{plan}"
    );
    assert!(
        plan.contains("note: table `items`: partial index `part` is translated to PostgreSQL"),
        "{plan}"
    );
    assert!(
        plan.contains("note: table `items`: expression index `expr` is translated to PostgreSQL"),
        "{plan}"
    );
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    let defs: Vec<String> = indexes(&db, "app")
        .into_iter()
        .filter(|(name, _)| !name.ends_with("_pkey") && !name.ends_with("_key"))
        .map(|(_, def)| def)
        .collect();
    assert_eq!(
        defs,
        strings(&[
            "CREATE INDEX expr ON app.items USING btree (lower(code), quantity DESC)",
            "CREATE INDEX multi ON app.items USING btree (status, quantity DESC)",
            "CREATE INDEX part ON app.items USING btree (id) WHERE ((quantity > 0) AND (code IS NOT NULL))",
            "CREATE INDEX part_in ON app.items USING btree (quantity) WHERE (status = ANY (ARRAY['a'::text, 'b'::text]))",
            "CREATE UNIQUE INDEX uexpr ON app.items USING btree (upper(sku))",
            "CREATE UNIQUE INDEX upart ON app.items USING btree (code) WHERE (deleted = 0)",
        ])
    );
    assert_eq!(
        constraints(&db, "app", "items", "u"),
        vec!["UNIQUE (sku)".to_string()]
    );
    // The unique ones enforce what they did in SQLite.
    let e = db.try_execute("INSERT INTO app.items (code, sku) VALUES ('z', 'S1')");
    assert!(e.unwrap_err().starts_with("23505"));
    let e = db.try_execute("INSERT INTO app.items (code, sku, deleted) VALUES ('a', 's9', 0)");
    assert!(e.unwrap_err().starts_with("23505"));
    db.execute("INSERT INTO app.items (code, sku, deleted) VALUES ('a', 's10', 1)");
}

#[test]
fn views_and_triggers_are_reported_by_plan_and_not_created() {
    let fx = Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, active INT);
         CREATE TABLE audit (t_id INT, note TEXT);
         CREATE VIEW v_active AS SELECT id FROM t WHERE active = 1;
         CREATE TRIGGER trg_audit AFTER INSERT ON t BEGIN INSERT INTO audit VALUES (new.id, 'ins'); END;
         INSERT INTO t VALUES (1, 1), (2, 0);",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let plan = assert_ok(&barge(&["plan", cfg.to_str().unwrap()]));
    assert!(
        plan.contains(
            "objects not migrated (recreate them yourself; `--format json` has their source SQL):\n    view `v_active`\n    trigger `trg_audit` on `t`\n"
        ),
        "{plan}"
    );
    assert!(plan.contains("view `v_active` is not migrated"), "{plan}");
    assert!(
        plan.contains("warning: table `t`: trigger `trg_audit` on table `t` is not migrated"),
        "{plan}"
    );
    let json = plan_json(&cfg);
    assert_eq!(json["schema"]["views"][0]["name"], "v_active");
    assert!(json["schema"]["views"][0]["sql"]
        .as_str()
        .unwrap()
        .contains("WHERE active = 1"));
    assert_eq!(json["schema"]["triggers"][0]["name"], "trg_audit");
    assert_eq!(json["schema"]["triggers"][0]["table"], "t");

    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = assert_ok(&o);
    assert!(
        stderr(&o).contains("trigger `trg_audit` on table `t` is not migrated"),
        "{out}"
    );
    assert_eq!(db.tables("app"), strings(&["audit", "t"]));
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_views WHERE schemaname = 'app'")
            .as_deref(),
        Some("0")
    );
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'app' AND NOT g.tgisinternal"
        )
        .as_deref(),
        Some("0")
    );
    // The audit rows are the source's, not extra ones fired during the load.
    assert_eq!(
        db.query("SELECT t_id, note FROM app.audit ORDER BY 1"),
        fx.sqlite_query("SELECT t_id, note FROM audit ORDER BY 1")
    );
}

#[test]
fn defaults_are_translated_or_reported() {
    let fx = Fixture::sqlite(
        "CREATE TABLE d (id INTEGER PRIMARY KEY, qty INT DEFAULT 1, neg INT DEFAULT -5,
             name TEXT DEFAULT 'it''s', flag BOOLEAN DEFAULT TRUE, price NUMERIC(8,2) DEFAULT 0.99,
             two INT DEFAULT (1 + 1),
             created DATETIME DEFAULT CURRENT_TIMESTAMP, day DATE DEFAULT CURRENT_DATE,
             tod TIME DEFAULT CURRENT_TIME, dn DATETIME DEFAULT (datetime('now')),
             sf DATETIME DEFAULT (strftime('%Y-%m-%d %H:%M:%S','now')),
             local TEXT DEFAULT (datetime('now','localtime')), epoch INT DEFAULT (strftime('%s','now')));",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let plan = assert_ok(&barge(&["plan", cfg.to_str().unwrap()]));
    for column in ["local", "epoch"] {
        assert!(
            plan.contains(&format!("warning: table `d`, column `{column}`: default `")),
            "{column}: {plan}"
        );
    }
    assert_eq!(plan.matches("is not carried over").count(), 2, "{plan}");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    db.execute("INSERT INTO app.d (id) VALUES (1)");
    let row = db.query(
        "SELECT qty, neg, name, flag::text, price, two, \
         abs(extract(epoch FROM created - (now() AT TIME ZONE 'UTC'))) < 60, \
         day = (now() AT TIME ZONE 'UTC')::date, \
         abs(extract(epoch FROM (tod - (now() AT TIME ZONE 'UTC')::time))) < 60 \
           OR abs(extract(epoch FROM (tod - (now() AT TIME ZONE 'UTC')::time))) > 86340, \
         abs(extract(epoch FROM dn - (now() AT TIME ZONE 'UTC'))) < 60, \
         abs(extract(epoch FROM sf - (now() AT TIME ZONE 'UTC'))) < 60, \
         local IS NULL, epoch IS NULL FROM app.d",
    );
    assert_eq!(
        row,
        vec![vec![
            s("1"),
            s("-5"),
            s("it's"),
            s("true"),
            s("0.99"),
            s("2"),
            s("t"),
            s("t"),
            s("t"),
            s("t"),
            s("t"),
            s("t"),
            s("t")
        ]]
    );
}

#[test]
fn name_collisions_stop_the_run_before_any_ddl_listing_all_of_them() {
    let fx = Fixture::sqlite(
        r#"
        CREATE TABLE "Orders" ("OrderId" INTEGER PRIMARY KEY, order_id INT, "Order Id" INT);
        CREATE TABLE "OrderItems" (x INT);
        CREATE TABLE "order_items" (x INT);
        CREATE TABLE "Order Items" (x INT);
        CREATE TABLE "ItemsIdx" (y INT);
        CREATE TABLE other (z INT);
        CREATE INDEX items_idx ON other (z);
        "#,
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let expected = [
        "error: 3 target name collision(s):",
        "  - table `Orders`: `OrderId`, `order_id`, `Order Id` all map to `order_id`",
        "  - schema: `table ItemsIdx`, `index items_idx` all map to `items_idx`",
        "  - schema: `table Order Items`, `table OrderItems`, `table order_items` all map to `order_items`",
    ];
    for command in ["plan", "migrate"] {
        let o = barge(&[command, cfg.to_str().unwrap()]);
        let out = assert_exit(&o, 4);
        for line in expected {
            assert!(stderr(&o).contains(line), "{command}: {line}\n{out}");
        }
    }
    assert!(!db.schema_exists("app"));

    // Even with `recreate`, an existing schema is left alone.
    db.execute("CREATE SCHEMA app; CREATE TABLE app.keep (v int); INSERT INTO app.keep VALUES (1)");
    assert_exit(&barge(&["migrate", cfg.to_str().unwrap()]), 4);
    assert_eq!(
        db.scalar("SELECT count(*) FROM app.keep").as_deref(),
        Some("1")
    );
}

const SMALL: &str =
    "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b');";

#[test]
fn on_schema_exists_error_is_the_default_and_touches_nothing() {
    let fx = Fixture::sqlite(SMALL);
    let db = PgDb::new();
    for top in [
        "schema = \"app\"",
        "schema = \"app\"\non_schema_exists = \"error\"",
    ] {
        db.execute("DROP SCHEMA IF EXISTS app CASCADE; CREATE SCHEMA app; CREATE TABLE app.keep (v int); INSERT INTO app.keep VALUES (7)");
        let cfg = fx.config_toml(&db, top);
        let o = barge(&["migrate", cfg.to_str().unwrap()]);
        let out = assert_exit(&o, 4);
        assert!(
            stderr(&o).contains("error: schema `app` already exists in the target database\nhint: set `on_schema_exists = \"recreate\"`"),
            "{out}"
        );
        assert_eq!(db.tables("app"), strings(&["keep"]));
        assert_eq!(db.scalar("SELECT v FROM app.keep").as_deref(), Some("7"));
    }
    // A schema that does not exist yet is created.
    db.execute("DROP SCHEMA app CASCADE");
    let cfg = fx.config_toml(&db, "schema = \"app\"");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(
        db.query("SELECT v FROM app.t ORDER BY id"),
        vec![vec![s("a")], vec![s("b")]]
    );
}

#[test]
fn on_schema_exists_recreate_replaces_the_schema() {
    let fx = Fixture::sqlite(SMALL);
    let db = PgDb::new();
    db.execute("CREATE SCHEMA app; CREATE TABLE app.junk (v int); CREATE TABLE app.t (other int)");
    let cfg = fx.config_toml(&db, "schema = \"app\"\non_schema_exists = \"recreate\"");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(db.tables("app"), strings(&["t"]));
    assert_eq!(
        db.query("SELECT id, v FROM app.t ORDER BY id"),
        vec![vec![s("1"), s("a")], vec![s("2"), s("b")]]
    );
}

#[test]
fn on_schema_exists_use_loads_into_an_empty_schema_only() {
    let fx = Fixture::sqlite(SMALL);
    let db = PgDb::new();
    // Something that is not a table survives: the schema is used, not recreated.
    db.execute("CREATE SCHEMA app; COMMENT ON SCHEMA app IS 'mine'; CREATE SEQUENCE app.kept");
    let cfg = fx.config_toml(&db, "schema = \"app\"\non_schema_exists = \"use\"");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(
        db.query("SELECT id, v FROM app.t ORDER BY id"),
        vec![vec![s("1"), s("a")], vec![s("2"), s("b")]]
    );
    assert_eq!(
        db.scalar("SELECT obj_description('app'::regnamespace, 'pg_namespace')")
            .as_deref(),
        Some("mine")
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_class WHERE relname = 'kept' AND relkind = 'S'")
            .as_deref(),
        Some("1")
    );

    // Now it holds a table: refused, and the table is untouched.
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = assert_exit(&o, 4);
    assert!(
        stderr(&o).contains(
            "error: schema `app` exists and is not empty, so `on_schema_exists = \"use\"` cannot load into it"
        ),
        "{out}"
    );
    assert_eq!(db.tables("app"), strings(&["t"]));
    assert_eq!(
        db.scalar("SELECT count(*) FROM app.t").as_deref(),
        Some("2")
    );
}

#[test]
fn sparse_rowids_copied_in_parallel_chunks_arrive_complete_without_duplicates() {
    let fx = Fixture::sqlite(
        "CREATE TABLE ev (id INTEGER PRIMARY KEY, payload TEXT, n INT);
         WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 1500)
           INSERT INTO ev SELECT i * i * 1000 + i % 7, 'p' || i, i FROM k;
         INSERT INTO ev VALUES (-9223372036854775808, 'min', 0), (-5, 'neg', -5);
         CREATE TABLE nopk (v TEXT, w INT);
         WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 1000)
           INSERT INTO nopk SELECT 'v' || i, i FROM k;
         DELETE FROM nopk WHERE rowid % 3 = 0 OR rowid BETWEEN 200 AND 700;",
    );
    let nopk_rows: usize = fx.sqlite_query("SELECT count(*) FROM nopk")[0][0]
        .as_ref()
        .unwrap()
        .parse()
        .unwrap();
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "chunk_size = 97\nworkers = 4");
    let plan = assert_ok(&barge(&["plan", cfg.to_str().unwrap()]));
    assert!(
        plan.contains("table `ev` -> `ev`  (1502 rows, 16 chunks)"),
        "{plan}"
    );
    assert!(
        plan.contains(&format!(
            "table `nopk` -> `nopk`  ({nopk_rows} rows, {} chunks)",
            nopk_rows.div_ceil(97)
        )),
        "{plan}"
    );
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(
        db.query("SELECT count(*), count(DISTINCT id) FROM app.ev"),
        vec![vec![s("1502"), s("1502")]]
    );
    assert_eq!(
        db.query("SELECT id, payload, n FROM app.ev ORDER BY id"),
        fx.sqlite_query("SELECT id, payload, n FROM ev ORDER BY id")
    );
    assert_eq!(
        db.query("SELECT v, w FROM app.nopk ORDER BY w"),
        fx.sqlite_query("SELECT v, w FROM nopk ORDER BY w")
    );
    db.execute("INSERT INTO app.ev (payload) VALUES ('next')");
    assert_eq!(
        db.scalar("SELECT id FROM app.ev WHERE payload = 'next'")
            .as_deref(),
        Some("2250000003")
    );
}

#[test]
fn empty_tables_arrive_with_their_structure() {
    let fx = Fixture::sqlite(
        "CREATE TABLE empty (id INTEGER PRIMARY KEY, name TEXT NOT NULL, parent INTEGER REFERENCES empty (id));
         CREATE INDEX empty_name ON empty (name);
         CREATE TABLE empty_nopk (a INT, b BLOB);
         CREATE TABLE empty_norowid (k TEXT PRIMARY KEY, v INT) WITHOUT ROWID;",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "chunk_size = 1\nworkers = 2");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(
        db.tables("app"),
        strings(&["empty", "empty_nopk", "empty_norowid"])
    );
    for t in ["empty", "empty_nopk", "empty_norowid"] {
        assert_eq!(
            db.scalar(&format!("SELECT count(*) FROM app.{t}"))
                .as_deref(),
            Some("0")
        );
    }
    assert_eq!(
        db.columns("app", "empty"),
        [("id", "bigint"), ("name", "text"), ("parent", "bigint")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(
        constraints(&db, "app", "empty", "p"),
        vec!["PRIMARY KEY (id)".to_string()]
    );
    assert_eq!(
        constraints(&db, "app", "empty", "f"),
        vec!["FOREIGN KEY (parent) REFERENCES app.empty(id)".to_string()]
    );
    assert_eq!(
        constraints(&db, "app", "empty_norowid", "p"),
        vec!["PRIMARY KEY (k)".to_string()]
    );
    assert!(indexes(&db, "app").iter().any(|(n, _)| n == "empty_name"));
    db.execute("INSERT INTO app.empty (name) VALUES ('first')");
    assert_eq!(db.scalar("SELECT id FROM app.empty").as_deref(), Some("1"));
    assert!(db
        .try_execute("INSERT INTO app.empty (id) VALUES (5)")
        .unwrap_err()
        .starts_with("23502"));
}

#[test]
fn table_with_120_columns_arrives_identical() {
    let columns: Vec<String> = (1..=120)
        .map(|i| format!("c{i:03} {}", if i % 2 == 0 { "TEXT" } else { "INTEGER" }))
        .collect();
    let values = |row: i64| -> String {
        (1..=120)
            .map(|i: i64| {
                if (row + i) % 11 == 0 {
                    "NULL".to_string()
                } else if i % 2 == 0 {
                    format!("'r{row}c{i}'")
                } else {
                    (row * 1000 + i).to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let inserts: Vec<String> = (1..=25)
        .map(|r| format!("INSERT INTO wide VALUES ({r}, {});", values(r)))
        .collect();
    let fx = Fixture::sqlite(&format!(
        "CREATE TABLE wide (id INTEGER PRIMARY KEY, {});\n{}",
        columns.join(", "),
        inserts.join("\n")
    ));
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "chunk_size = 10\nworkers = 2");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(db.columns("app", "wide").len(), 121);
    let pg = db.query("SELECT * FROM app.wide ORDER BY id");
    assert_eq!(pg.len(), 25);
    assert_eq!(pg, fx.sqlite_query("SELECT * FROM wide ORDER BY id"));
}

#[test]
fn negative_integer_keys_migrate_and_the_identity_stays_valid() {
    let fx = Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (-5, 'a'), (-3, 'b');",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(
        db.query("SELECT id, v FROM app.t ORDER BY id"),
        vec![vec![s("-5"), s("a")], vec![s("-3"), s("b")]]
    );
    db.execute("INSERT INTO app.t (v) VALUES ('c')");
    assert_eq!(
        db.scalar("SELECT count(*) FROM app.t").as_deref(),
        Some("3")
    );
}

#[test]
fn largest_possible_rowid_does_not_fail_the_identity_step() {
    let fx = Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a'), (9223372036854775807, 'z');",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(
        db.query("SELECT id, v FROM app.t ORDER BY id"),
        vec![vec![s("1"), s("a")], vec![s("9223372036854775807"), s("z")]]
    );
}

#[test]
fn index_named_like_the_primary_key_index_does_not_fail_the_run() {
    let fx = Fixture::sqlite(
        "CREATE TABLE a (id INTEGER PRIMARY KEY, v INT); CREATE INDEX a_pkey ON a (v);
         INSERT INTO a VALUES (1, 10);",
    );
    let db = PgDb::new();
    // One index worker makes the order deterministic: primary key first, then the index.
    let cfg = fx.config(&db, "app", "index_workers = 1");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(
        constraints(&db, "app", "a", "p"),
        vec!["PRIMARY KEY (id)".to_string()]
    );
    assert!(indexes(&db, "app")
        .iter()
        .any(|(_, def)| def.ends_with("USING btree (v)")));
}
