//! `barge plan` in all three formats, as snapshots (crates/barge/tests/it/snapshots), for an
//! SQLite and a MariaDB database holding the objects a cutover report must cover: views,
//! routines, triggers, events, generated columns, CHECKs, comments, partitioning, FULLTEXT,
//! prefix and expression indexes, zero-date defaults and orphan rows. What differs between
//! runs (temporary paths, database names) is replaced by placeholders first. `plan` does not
//! connect to the target, so the target DSN is a fixed, unused one.

use crate::mariadb::MariaDb;
use crate::support::{assert_ok, barge, Fixture};

const TARGET: &str = "postgres://planner@127.0.0.1:5432/cutover";

const SQLITE: &str = "
    PRAGMA foreign_keys = OFF;
    CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT NOT NULL CHECK (length(name) > 0),
        email TEXT, born TEXT DEFAULT '1900-01-01');
    CREATE TABLE book (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES author(id),
        title TEXT NOT NULL, price NUMERIC(8,2) CHECK (price >= 0),
        slug TEXT GENERATED ALWAYS AS (lower(title)) VIRTUAL);
    CREATE INDEX ix_book_lower_title ON book (lower(title));
    CREATE INDEX ix_book_cheap ON book (price) WHERE price < 10;
    CREATE VIEW cheap_books AS SELECT * FROM book WHERE price < 10;
    CREATE TRIGGER book_touch AFTER UPDATE ON book BEGIN SELECT 1; END;
    INSERT INTO author VALUES (1, 'Ann', NULL, '1950-02-03');
    INSERT INTO book (id, author_id, title, price) VALUES (1, 1, 'One', 5), (2, 99, 'Orphan', 7);
";

const MARIADB: &[&str] = &[
    "CREATE TABLE author (
        id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'author key',
        name varchar(60) NOT NULL,
        bio text,
        born date NOT NULL DEFAULT '0000-00-00',
        status enum('active','retired') NOT NULL DEFAULT 'active',
        CONSTRAINT name_not_empty CHECK (name <> ''),
        FULLTEXT KEY ft_bio (bio),
        KEY ix_name_prefix (name(8))
    ) COMMENT 'people who write'",
    "CREATE TABLE book (
        id int NOT NULL PRIMARY KEY,
        author_id int unsigned,
        title varchar(100) NOT NULL,
        qty int NOT NULL DEFAULT 1,
        price decimal(8,2) NOT NULL,
        total decimal(12,2) AS (qty * price) STORED,
        ratio decimal(10,4) AS (qty / 3) VIRTUAL,
        updated datetime NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
        CONSTRAINT fk_author FOREIGN KEY (author_id) REFERENCES author (id)
    )",
    "CREATE TABLE sale (id int NOT NULL, sold date NOT NULL, PRIMARY KEY (id, sold))
        PARTITION BY RANGE (YEAR(sold)) (PARTITION p0 VALUES LESS THAN (2000), PARTITION p1 VALUES LESS THAN MAXVALUE)",
    "CREATE VIEW cheap AS SELECT id, title FROM book WHERE price < 10",
    "CREATE PROCEDURE touch_book(IN b int) UPDATE book SET qty = qty WHERE id = b",
    "CREATE TRIGGER book_audit AFTER INSERT ON book FOR EACH ROW SET @last = NEW.id",
    "CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DO DELETE FROM sale WHERE sold < '1990-01-01'",
    "SET SESSION sql_mode = ''",
    "INSERT INTO author (id, name, born) VALUES (1, 'Ann', '1950-02-03'), (2, 'Bob', '0000-00-00')",
    "SET foreign_key_checks = 0",
    "INSERT INTO book (id, author_id, title, price) VALUES (1, 1, 'One', 5), (2, 99, 'Orphan', 7)",
    // Row counts in the plan are InnoDB's estimates: settle them.
    "ANALYZE TABLE author, book, sale",
];

fn plans(config: &std::path::Path, replace: &[(&str, &str)]) -> [String; 3] {
    ["text", "json", "markdown"].map(|format| {
        let o = barge(&["plan", config.to_str().unwrap(), "--format", format]);
        assert_ok(&o);
        let mut out = String::from_utf8_lossy(&o.stdout).into_owned();
        for (from, to) in replace {
            out = out.replace(from, to);
        }
        out
    })
}

#[test]
fn sqlite_plan_snapshots() {
    let fx = Fixture::sqlite(SQLITE);
    let cfg = fx.write(
        "migration.toml",
        &format!("schema = \"app\"\n\n[source]\ntype = \"sqlite\"\ndsn = \"source.sqlite\"\n\n[target]\ndsn = \"{TARGET}\"\n"),
    );
    let dir = fx.path().display().to_string();
    let [text, json, markdown] = plans(&cfg, &[(&dir, "<FIXTURE>")]);
    insta::assert_snapshot!("sqlite_plan_text", text);
    insta::assert_snapshot!("sqlite_plan_json", json);
    insta::assert_snapshot!("sqlite_plan_markdown", markdown);
}

#[test]
fn mariadb_plan_snapshots() {
    let src = MariaDb::new(MARIADB);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("migration.toml");
    std::fs::write(
        &cfg,
        format!(
            "schema = \"app\"\nreplicate_on_update_current_timestamp = true\n\n[source]\ntype = \"mariadb\"\ndsn = \"{}\"\n\n[target]\ndsn = \"{TARGET}\"\n\n[type_mapping]\nenum_mode = \"native\"\n",
            src.url
        ),
    )
    .unwrap();
    let [text, json, markdown] = plans(&cfg, &[(&src.name, "<SOURCE_DB>")]);
    insta::assert_snapshot!("mariadb_plan_text", text);
    insta::assert_snapshot!("mariadb_plan_json", json);
    insta::assert_snapshot!("mariadb_plan_markdown", markdown);
}
