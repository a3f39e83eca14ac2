//! SQLite -> PostgreSQL, end to end through the binary.

use crate::support::{assert_ok, barge, Fixture, PgDb};

/// A small multi-table database: every table must arrive with identical content.
#[test]
fn multi_table_database_arrives_identical() {
    let fx = Fixture::sqlite(
        r#"
        CREATE TABLE Artist (ArtistId INTEGER PRIMARY KEY AUTOINCREMENT, Name NVARCHAR(120));
        CREATE TABLE Album (AlbumId INTEGER PRIMARY KEY, Title NVARCHAR(160) NOT NULL,
            ArtistId INTEGER NOT NULL REFERENCES Artist (ArtistId));
        CREATE TABLE Track (TrackId INTEGER PRIMARY KEY, Name TEXT NOT NULL, AlbumId INTEGER REFERENCES Album,
            UnitPrice NUMERIC(10,2) NOT NULL DEFAULT 0.99, Added DATETIME DEFAULT CURRENT_TIMESTAMP,
            Explicit BOOLEAN NOT NULL DEFAULT 0, Meta JSON);
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
          INSERT INTO Artist (Name) SELECT 'artist ' || i || ' ✓' FROM n;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
          INSERT INTO Album SELECT i, 'album ' || i, 1 + i % 50 FROM n;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
          INSERT INTO Track SELECT i, 'track ' || i, CASE WHEN i % 7 = 0 THEN NULL ELSE 1 + i % 200 END,
            (i % 100) + 0.49, '2024-01-' || printf('%02d', 1 + i % 28) || ' 10:00:0' || (i % 10),
            i % 2, CASE WHEN i % 3 = 0 THEN '{"n": ' || i || '}' END FROM n;
        "#,
    );
    let db = PgDb::new();
    // Small chunks so the big table is copied in several parallel pieces.
    let cfg = fx.config(&db, "app", "chunk_size = 500\nworkers = 3");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));

    let count = |t: &str| db.scalar(&format!("SELECT count(*) FROM app.{t}")).unwrap();
    assert_eq!(count("artist"), "50");
    assert_eq!(count("album"), "200");
    assert_eq!(count("track"), "3000");
    // Content: an ordered digest over a canonical text rendering on both sides.
    let pg = db.scalar(
        "SELECT md5(string_agg(concat_ws('|', track_id, name, coalesce(album_id::text, 'NULL'), unit_price::text, \
         to_char(added, 'YYYY-MM-DD HH24:MI:SS'), explicit::int, coalesce(meta->>'n', 'NULL')), ',' ORDER BY track_id)) FROM app.track",
    )
    .unwrap();
    let conn = rusqlite::Connection::open(&fx.sqlite).unwrap();
    let rows: Vec<String> = conn
        .prepare("SELECT TrackId, Name, coalesce(AlbumId, 'NULL'), printf('%.2f', UnitPrice), Added, Explicit, coalesce(json_extract(Meta, '$.n'), 'NULL') FROM Track ORDER BY TrackId")
        .unwrap()
        .query_map([], |r| {
            Ok((0..7)
                .map(|i| r.get_ref(i).map(|v| match v {
                    rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    other => format!("{other:?}"),
                }))
                .collect::<Result<Vec<_>, _>>()?
                .join("|"))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let joined = rows.join(",");
    let sqlite_md5 = db
        .scalar(&format!("SELECT md5('{}')", joined.replace('\'', "''")))
        .unwrap();
    assert_eq!(pg, sqlite_md5);

    // Keys, foreign keys and identity arrived.
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'app' AND contype = 'f' AND convalidated").unwrap(),
        "2"
    );
    db.execute("INSERT INTO app.artist (name) VALUES ('new')");
    assert_eq!(
        db.scalar("SELECT max(artist_id) FROM app.artist").unwrap(),
        "51"
    );
}

/// CHECK constraints that translate are recreated and validated; one that PostgreSQL judges
/// differently on the loaded rows stays NOT VALID with a warning; untranslatable ones are findings.
#[test]
fn check_constraints_are_recreated_or_reported() {
    let fx = Fixture::sqlite(
        r#"
        CREATE TABLE item (
            id INTEGER PRIMARY KEY,
            qty INT NOT NULL CHECK (qty >= 0),
            name TEXT CONSTRAINT name_short CHECK (length(name) <= 10),
            code TEXT CHECK (code GLOB '[A-Z]*'),
            note TEXT CHECK (note > 5),
            big INT CHECK (big < 10 OR big IS NULL),
            CONSTRAINT qty_small CHECK (qty < 1000 OR name IS NULL)
        );
        INSERT INTO item VALUES (1, 5, 'a', 'X', 'z', NULL), (2, 0, NULL, 'Y', NULL, NULL);
        -- SQLite compares text > integer as true; PostgreSQL refuses the expression.
        -- A value that violates `big < 10` can only exist if the check was added later.
        PRAGMA writable_schema = 0;
        "#,
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let plan = barge(&["plan", cfg.to_str().unwrap()]);
    let plan_text = assert_ok(&plan);
    assert!(
        plan_text.contains("CHECK (code GLOB '[A-Z]*') is not migrated"),
        "{plan_text}"
    );
    let run = barge(&["migrate", cfg.to_str().unwrap()]);
    let run_text = assert_ok(&run);
    assert!(
        run_text.contains("item_check3") && run_text.contains("the constraint is not migrated"),
        "{run_text}"
    );
    let checks = db.query(
        "SELECT conname, convalidated::text, pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE contype = 'c' AND conrelid = 'app.item'::regclass ORDER BY conname",
    );
    let names: Vec<&str> = checks.iter().map(|r| r[0].as_deref().unwrap()).collect();
    assert_eq!(
        names,
        [
            "item_check1",
            "item_check4",
            "item_name_short",
            "item_qty_small"
        ],
        "{checks:?}"
    );
    assert!(
        checks.iter().all(|r| r[1].as_deref() == Some("true")),
        "{checks:?}"
    );
    let err = std::process::Command::new("psql")
        .args([
            &db.url,
            "-X",
            "-c",
            "INSERT INTO app.item (id, qty) VALUES (9, -1)",
        ])
        .output()
        .expect("psql");
    assert!(
        String::from_utf8_lossy(&err.stderr).contains("violates check constraint \"item_check1\"")
    );
}
