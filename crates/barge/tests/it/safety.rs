//! Drops never reach outside what barge owns: `on_schema_exists = "recreate"`, `--restart`
//! and the `<schema>_orphans` quarantine refuse system schemas, `public` (unless allowed),
//! and any drop whose `CASCADE` would take objects in other schemas along; what they do
//! drop is named first.

use crate::support::{assert_exit, assert_ok, barge, text, Fixture, PgDb};

fn fixture() -> Fixture {
    Fixture::sqlite(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO customers VALUES (1, 'ann'), (2, 'bob');
         CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id), qty INTEGER);
         INSERT INTO orders VALUES (1, 1, 5), (2, 2, 6), (3, 1, 7);",
    )
}

fn exists(db: &PgDb, sql: &str) -> bool {
    db.scalar(&format!("SELECT ({sql}) IS NOT NULL")).as_deref() == Some("t")
}

#[test]
fn system_schemas_and_public_are_refused_before_anything_is_touched() {
    let fx = fixture();
    let db = PgDb::new();
    for schema in ["information_schema", "pg_catalog", "pg_x", "_barge"] {
        for mode in ["recreate", "use", "error"] {
            let cfg = fx.config_toml(
                &db,
                &format!("schema = \"{schema}\"\non_schema_exists = \"{mode}\""),
            );
            let o = barge(&["migrate", cfg.to_str().unwrap()]);
            let out = assert_exit(&o, 2);
            assert!(
                out.contains(&format!("barge cannot migrate into schema `{schema}`")),
                "{out}"
            );
        }
    }
    // Nothing was created or dropped anywhere.
    assert!(exists(&db, "to_regclass('information_schema.tables')"));
    assert!(!db.schema_exists("_barge"));
    assert!(!db.schema_exists("pg_x"));

    // `public` is refused for `recreate`, and the refusal says how to allow it.
    db.execute("CREATE TABLE public.keep (id int); INSERT INTO public.keep VALUES (1)");
    let cfg = fx.config_toml(&db, "schema = \"public\"\non_schema_exists = \"recreate\"");
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = assert_exit(&o, 2);
    assert!(
        out.contains("`recreate` would drop schema `public`"),
        "{out}"
    );
    assert!(out.contains("allow_recreate_public = true"), "{out}");
    assert!(exists(&db, "to_regclass('public.keep')"));
}

#[test]
fn public_can_be_recreated_when_allowed_and_an_extension_elsewhere_survives() {
    let fx = fixture();
    let db = PgDb::new();
    db.execute(
        "CREATE SCHEMA ext; CREATE EXTENSION citext SCHEMA ext;
         CREATE TABLE public.old_stuff (id int); INSERT INTO public.old_stuff VALUES (1), (2)",
    );
    let cfg = fx.config_toml(
        &db,
        "schema = \"public\"\non_schema_exists = \"recreate\"\nallow_recreate_public = true",
    );
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = assert_ok(&o);
    // What goes is named: the table with its rows, and the grants lost with `public`.
    assert!(
        out.contains("dropping schema `public` with everything in it"),
        "{out}"
    );
    assert!(out.contains("table `public.old_stuff`: 2 rows"), "{out}");
    assert!(
        out.contains("GRANT USAGE ON SCHEMA \"public\" TO PUBLIC;"),
        "{out}"
    );
    assert!(!exists(&db, "to_regclass('public.old_stuff')"));
    assert_eq!(
        db.scalar("SELECT count(*) FROM public.orders").as_deref(),
        Some("3")
    );
    // The extension in another schema is untouched.
    assert_eq!(
        db.scalar(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'citext'"
        )
        .as_deref(),
        Some("ext")
    );
    assert_eq!(
        db.scalar("SELECT 'A'::ext.citext OPERATOR(ext.=) 'a'::ext.citext")
            .as_deref(),
        Some("t")
    );
}

/// One object outside `app` that depends on it, how to create it, and how to tell it still
/// exists.
struct Outside {
    setup: &'static str,
    named: &'static str,
    still_there: &'static str,
}

const OUTSIDE: &[Outside] = &[
    Outside {
        setup: "CREATE SCHEMA other; CREATE VIEW other.big_orders AS SELECT * FROM app.orders WHERE qty > 5",
        named: "view `other.big_orders` (depends on table app.orders)",
        still_there: "to_regclass('other.big_orders')",
    },
    Outside {
        setup: "CREATE SCHEMA other; CREATE TABLE other.invoices (id int, customer_id bigint REFERENCES app.customers (id))",
        named: "table constraint `invoices_customer_id_fkey on other.invoices` (depends on",
        still_there: "(SELECT oid FROM pg_constraint WHERE conname = 'invoices_customer_id_fkey')",
    },
    Outside {
        setup: "CREATE TYPE app.mood AS ENUM ('ok', 'bad'); CREATE SCHEMA other; CREATE TABLE other.notes (id int, mood app.mood)",
        named: "table column `other.notes.mood` (depends on type app.mood)",
        still_there: "(SELECT attname FROM pg_attribute WHERE attrelid = 'other.notes'::regclass AND attname = 'mood')",
    },
    Outside {
        setup: "CREATE EXTENSION citext SCHEMA app",
        named: "extension `citext` (depends on schema app)",
        still_there: "(SELECT oid FROM pg_extension WHERE extname = 'citext')",
    },
];

#[test]
fn recreate_refuses_a_drop_that_would_reach_outside_the_schema() {
    let fx = fixture();
    for case in OUTSIDE {
        let db = PgDb::new();
        let cfg = fx.config(&db, "app", "");
        let cfg = cfg.to_str().unwrap();
        assert_ok(&barge(&["migrate", cfg]));
        db.execute(case.setup);
        let o = barge(&["migrate", cfg]);
        let out = assert_exit(&o, 4);
        assert!(
            out.contains("cannot recreate schema `app` (on_schema_exists = \"recreate\"): dropping schema `app` would also remove"),
            "{out}"
        );
        assert!(out.contains(case.named), "{}\n{out}", case.named);
        assert!(out.contains("nothing was dropped"), "{out}");
        assert!(exists(&db, case.still_there), "{}: {out}", case.setup);
        assert_eq!(
            db.scalar("SELECT count(*) FROM app.orders").as_deref(),
            Some("3"),
            "{out}"
        );
    }
}

#[test]
fn recreate_names_what_it_drops_before_dropping_it() {
    let fx = fixture();
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let cfg = cfg.to_str().unwrap();
    assert_ok(&barge(&["migrate", cfg]));
    // Something of the user's in the schema, never analyzed: counted exactly.
    db.execute(
        "CREATE TABLE app.mine (id int); INSERT INTO app.mine SELECT generate_series(1, 3);
         CREATE VIEW app.v AS SELECT 1 AS x; CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    );
    db.execute("ANALYZE app.orders");
    let o = barge(&["migrate", cfg]);
    let out = assert_ok(&o);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let named = stderr
        .find("table `app.mine`: 3 rows")
        .unwrap_or_else(|| panic!("{out}"));
    let created = stderr
        .find("creating the schema")
        .unwrap_or_else(|| panic!("{out}"));
    assert!(named > created, "named inside the schema step: {out}");
    assert!(
        out.contains(
            "on_schema_exists = \"recreate\": dropping schema `app` with everything in it"
        ),
        "{out}"
    );
    assert!(
        out.contains("table `app.orders`: about 3 rows (PostgreSQL's estimate)"),
        "{out}"
    );
    assert!(out.contains("and 1 view, 1 function"), "{out}");
    assert!(!exists(&db, "to_regclass('app.mine')"));
    assert_eq!(
        db.scalar("SELECT count(*) FROM app.orders").as_deref(),
        Some("3")
    );
}

#[test]
fn the_quarantine_schema_is_checked_like_the_schema() {
    let fx = fixture();
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let cfg = cfg.to_str().unwrap();
    assert_ok(&barge(&["migrate", cfg]));
    db.execute(
        "CREATE SCHEMA app_orphans; CREATE TABLE app_orphans.orders (id int);
         CREATE SCHEMA other; CREATE VIEW other.lost AS SELECT * FROM app_orphans.orders",
    );
    let o = barge(&["migrate", cfg]);
    let out = assert_exit(&o, 4);
    assert!(
        out.contains("dropping schema `app` and schema `app_orphans` would also remove"),
        "{out}"
    );
    assert!(
        out.contains("view `other.lost` (depends on table app_orphans.orders)"),
        "{out}"
    );
    assert!(exists(&db, "to_regclass('other.lost')"));
    assert!(exists(&db, "to_regclass('app_orphans.orders')"));
    // Without the outside view, the quarantine goes with the schema, named.
    db.execute("DROP VIEW other.lost");
    let o = barge(&["migrate", cfg]);
    let out = assert_ok(&o);
    assert!(out.contains("table `app_orphans.orders`: 0 rows"), "{out}");
    assert!(!db.schema_exists("app_orphans"));
}

#[test]
fn restart_checks_its_drop_the_same_way() {
    // A run that fails on a value leaves its schema and an interrupted run in the ledger.
    let fx = Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, qty INTEGER);
         INSERT INTO t VALUES (1, 5), (2, 'lots'), (3, 7);",
    );
    let db = PgDb::new();
    let cfg = fx.config_toml(&db, "schema = \"app\"\nworkers = 1");
    let cfg = cfg.to_str().unwrap();
    assert_exit(&barge(&["migrate", cfg]), 4);
    db.execute("CREATE SCHEMA other; CREATE VIEW other.tv AS SELECT * FROM app.t");
    let o = barge(&["migrate", cfg, "--restart"]);
    let out = assert_exit(&o, 4);
    assert!(
        out.contains("cannot discard the interrupted run in schema `app` (--restart): dropping schema `app` would also remove 1 object(s) outside it"),
        "{out}"
    );
    assert!(
        out.contains("view `other.tv` (depends on table app.t)"),
        "{out}"
    );
    assert!(exists(&db, "to_regclass('other.tv')"));
    assert!(exists(&db, "to_regclass('app.t')"));
    // The interrupted run is still there to resume or restart.
    db.execute("DROP VIEW other.tv");
    rusqlite::Connection::open(&fx.sqlite)
        .unwrap()
        .execute("UPDATE t SET qty = 6 WHERE id = 2", [])
        .unwrap();
    let o = barge(&["migrate", cfg, "--restart"]);
    let out = assert_ok(&o);
    assert!(
        out.contains("--restart: dropping schema `app` with everything in it"),
        "{}",
        text(&o)
    );
    assert_eq!(
        db.scalar("SELECT sum(qty) FROM app.t").as_deref(),
        Some("18")
    );
}

#[test]
fn what_recreate_drops_is_recorded_in_the_tracking_event_log() {
    let fx = fixture();
    let db = PgDb::new();
    let tracking = PgDb::new();
    let cfg = fx.config(
        &db,
        "app",
        &format!("[tracking]\ndsn = \"{}\"", tracking.url),
    );
    let cfg = cfg.to_str().unwrap();
    assert_ok(&barge(&["migrate", cfg]));
    db.execute("CREATE TABLE app.mine (id int)");
    assert_ok(&barge(&["migrate", cfg]));
    let logged = tracking.query(
        "SELECT eventlevel, eventmessage FROM eventlog WHERE eventmessage LIKE '%dropping schema%'",
    );
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0][0].as_deref(), Some("warning"));
    assert!(
        logged[0][1]
            .as_deref()
            .unwrap_or_default()
            .contains("table `app.mine`: 0 rows"),
        "{logged:?}"
    );
}
