//! What the source account cannot see never vanishes silently. Each test makes MariaDB
//! accounts with one grant shape (unique names, dropped by a guard even when the test
//! fails) and checks that `plan`, `migrate` and `validate` stop with exit 2 naming what is
//! hidden and the GRANT that shows it, and that `on_partial_visibility = "accept"` migrates
//! what the account sees with each hidden object recorded as a finding (plan, the migrate
//! summary, the tracking database's event log).

use crate::mariadb::{mysql_admin_url, runtime, write_config, MariaDb};
use crate::support::{assert_exit, assert_ok, barge, stderr, stdout, text, PgDb};
use mysql_async::prelude::Queryable;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static USERS: AtomicUsize = AtomicUsize::new(0);

/// A MariaDB account made for one test, dropped when the guard is (also on panic).
pub(crate) struct Account {
    pub(crate) name: String,
}

impl Account {
    /// `CREATE USER` with password `pw`, then each GRANT (`{db}` and `{user}` replaced).
    pub(crate) fn new(db: &str, grants: &[&str]) -> Account {
        let name = format!(
            "barge_vis_{}_{}",
            std::process::id(),
            USERS.fetch_add(1, Ordering::SeqCst)
        );
        let account = Account { name };
        let user = format!("'{}'@'%'", account.name);
        let mut statements = vec![
            format!("DROP USER IF EXISTS {user}"),
            format!("CREATE USER {user} IDENTIFIED BY 'pw'"),
        ];
        statements.extend(
            grants
                .iter()
                .map(|g| g.replace("{db}", db).replace("{user}", &user)),
        );
        admin(&statements);
        account
    }

    /// The source URL of this account for database `db`.
    pub(crate) fn url(&self, db: &str) -> String {
        let admin = mysql_admin_url();
        let host = admin
            .rsplit_once('@')
            .map(|(_, h)| h.split('/').next().unwrap_or(h).to_string())
            .expect("BARGE_TEST_MYSQL_URL has a host");
        format!("mysql://{}:pw@{host}/{db}", self.name)
    }
}

impl Drop for Account {
    fn drop(&mut self) {
        admin(&[format!("DROP USER IF EXISTS '{}'@'%'", self.name)]);
    }
}

/// Run statements as the admin account of the test server.
fn admin(statements: &[String]) {
    let opts = mysql_async::Opts::from_url(&mysql_admin_url()).expect("admin URL");
    runtime().block_on(async {
        let mut conn = mysql_async::Conn::new(opts)
            .await
            .expect("MariaDB is required for this test");
        for s in statements {
            conn.query_drop(s)
                .await
                .unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        let _ = conn.disconnect().await;
    });
}

/// A shop with what a migration must carry (foreign keys, CHECKs, all columns) and what it
/// only lists (a view, a trigger, a procedure).
fn shop() -> MariaDb {
    MariaDb::new(&[
        "CREATE TABLE parent (id int PRIMARY KEY, name varchar(20), CONSTRAINT name_ne CHECK (name <> ''))",
        "CREATE TABLE child (id int PRIMARY KEY, parent_id int, secret varchar(10), qty int CHECK (qty > 0), \
           KEY k_secret (secret), CONSTRAINT fk_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE)",
        "CREATE TABLE other (id int PRIMARY KEY, v int)",
        "CREATE VIEW child_view AS SELECT id, parent_id FROM child",
        "CREATE TRIGGER child_qty BEFORE INSERT ON child FOR EACH ROW SET NEW.qty = NEW.qty",
        "CREATE PROCEDURE noop() SELECT 1",
        "INSERT INTO parent VALUES (1, 'a'), (2, 'b')",
        "INSERT INTO child VALUES (10, 1, 's1', 5), (11, 2, 's2', 6)",
        "INSERT INTO other VALUES (1, 1)",
    ])
}

struct Run {
    dir: tempfile::TempDir,
    db: PgDb,
}

impl Run {
    fn new() -> Run {
        let db = PgDb::new();
        db.execute(
            "CREATE SCHEMA app; CREATE TABLE app.keep (v int); INSERT INTO app.keep VALUES (42);",
        );
        Run {
            dir: tempfile::tempdir().unwrap(),
            db,
        }
    }

    fn config(&self, url: &str, top: &str, tail: &str) -> PathBuf {
        write_config(self.dir.path(), url, &self.db.url, top, tail)
    }

    #[track_caller]
    fn target_untouched(&self) {
        assert_eq!(
            self.db.tables("app"),
            ["keep"],
            "the target must not be touched"
        );
    }
}

/// `plan`, `migrate` and `validate` each exit 2 without touching the target; their stderr.
#[track_caller]
fn refused(run: &Run, config: &Path) -> String {
    let mut all = String::new();
    for command in ["plan", "migrate", "validate"] {
        let o = barge(&[command, config.to_str().unwrap()]);
        assert_exit(&o, 2);
        run.target_untouched();
        all.push_str(&stderr(&o));
    }
    assert!(!all.contains(":pw@"), "no password in errors: {all}");
    all
}

/// The findings of `barge plan --format json`, as `message` texts.
#[track_caller]
fn plan_findings(config: &Path) -> Vec<String> {
    let o = barge(&["plan", config.to_str().unwrap(), "--format", "json"]);
    let t = assert_ok(&o);
    let plan: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}\n{t}"));
    plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

#[track_caller]
fn has(findings: &[String], needle: &str) -> bool {
    findings.iter().any(|f| f.contains(needle))
}

#[test]
fn select_on_the_database_hides_foreign_key_rules_on_mariadb() {
    let my = shop();
    let account = Account::new(&my.name, &["GRANT SELECT ON `{db}`.* TO {user}"]);
    let run = Run::new();
    let cfg = run.config(&account.url(&my.name), "", "");
    let err = refused(&run, &cfg);
    assert!(
        err.contains("foreign key `fk_parent` of table `child`"),
        "{err}"
    );
    assert!(err.contains("REFERENTIAL_CONSTRAINTS"), "{err}");
    assert!(
        err.contains(&format!(
            "GRANT SHOW VIEW ON `{}`.* TO '{}'@'%'",
            my.name.replace('_', "\\_"),
            account.name
        )),
        "{err}"
    );
    assert!(err.contains("on_partial_visibility = \"accept\""), "{err}");

    // Accepted: the foreign key is left out and recorded everywhere.
    let tracking = PgDb::new();
    let cfg = run.config(
        &account.url(&my.name),
        "on_partial_visibility = \"accept\"",
        &format!("[tracking]\ndsn = \"{}\"", tracking.url),
    );
    let findings = plan_findings(&cfg);
    assert!(has(&findings, "foreign key `fk_parent`"), "{findings:?}");
    // What is listed but not migrated is a warning naming the privilege.
    assert!(has(&findings, "view `child_view`"), "{findings:?}");
    assert!(has(&findings, "SHOW VIEW"), "{findings:?}");
    assert!(has(&findings, "TRIGGER"), "{findings:?}");
    let o = barge(&["migrate", cfg.to_str().unwrap(), "--format", "json"]);
    let t = assert_ok(&o);
    assert!(stdout(&o).contains("foreign key `fk_parent`"), "{t}");
    assert_eq!(run.db.tables("app"), ["child", "other", "parent"]);
    assert_eq!(
        run.db.scalar(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'app'::regnamespace"
        ),
        Some("0".into())
    );
    assert_eq!(
        tracking.scalar(
            "SELECT count(*) FROM eventlog WHERE eventstatus = 'finding' AND eventmessage LIKE '%foreign key `fk_parent`%'"
        ),
        Some("1".into()),
        "{t}"
    );
}

#[test]
fn select_and_show_view_on_the_database_see_everything_migrated() {
    let my = shop();
    let account = Account::new(&my.name, &["GRANT SELECT, SHOW VIEW ON `{db}`.* TO {user}"]);
    let run = Run::new();
    run.db.execute("DROP SCHEMA app CASCADE");
    let cfg = run.config(&account.url(&my.name), "", "");
    let findings = plan_findings(&cfg);
    // Triggers and routines are listed only with more privileges: warnings, not errors.
    assert!(has(&findings, "TRIGGER"), "{findings:?}");
    assert!(!has(&findings, "definition of view"), "{findings:?}");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(
        run.db.scalar(
            "SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint WHERE contype IN ('f', 'c') AND connamespace = 'app'::regnamespace"
        ),
        Some("child_parent_id_fkey,child_qty,parent_name_ne".into())
    );
    assert_eq!(run.db.columns("app", "child").len(), 4);
}

#[test]
fn table_grants_hide_tables_and_checks() {
    let my = shop();
    let account = Account::new(
        &my.name,
        &[
            "GRANT SELECT ON `{db}`.parent TO {user}",
            "GRANT SELECT ON `{db}`.child TO {user}",
        ],
    );
    let run = Run::new();
    let cfg = run.config(&account.url(&my.name), "", "");
    let err = refused(&run, &cfg);
    assert!(err.contains("SELECT on only some tables"), "{err}");
    assert!(err.contains("`child`, `parent`"), "{err}");
    assert!(
        err.contains("CHECK constraint `name_ne` of table `parent`"),
        "{err}"
    );
    assert!(
        err.contains("CHECK constraint `qty` of table `child`"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "GRANT SELECT, SHOW VIEW ON `{}`.* TO '{}'@'%'",
            my.name.replace('_', "\\_"),
            account.name
        )),
        "{err}"
    );

    let cfg = run.config(
        &account.url(&my.name),
        "on_partial_visibility = \"accept\"",
        "",
    );
    let findings = plan_findings(&cfg);
    assert!(has(&findings, "CHECK constraint `qty`"), "{findings:?}");
    assert!(has(&findings, "SELECT on only some tables"), "{findings:?}");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(run.db.tables("app"), ["child", "parent"]);
}

#[test]
fn column_grants_hide_columns() {
    let my = shop();
    let account = Account::new(
        &my.name,
        &[
            "GRANT SELECT ON `{db}`.parent TO {user}",
            "GRANT SELECT (id, parent_id, qty) ON `{db}`.child TO {user}",
        ],
    );
    let run = Run::new();
    let cfg = run.config(&account.url(&my.name), "", "");
    let err = refused(&run, &cfg);
    assert!(
        err.contains("table `child`: the account may read only columns `id`, `parent_id`, `qty`"),
        "{err}"
    );

    let cfg = run.config(
        &account.url(&my.name),
        "on_partial_visibility = \"accept\"",
        "",
    );
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    assert_ok(&o);
    assert_eq!(
        run.db
            .columns("app", "child")
            .into_iter()
            .map(|c| c.0)
            .collect::<Vec<_>>(),
        ["id", "parent_id", "qty"],
        "{}",
        text(&o)
    );
}

#[test]
fn the_admin_account_sees_everything_and_has_no_visibility_findings() {
    let my = shop();
    let run = Run::new();
    run.db.execute("DROP SCHEMA app CASCADE");
    let cfg = run.config(&my.url, "", "");
    let findings = plan_findings(&cfg);
    for word in ["privilege", "GRANT", "cannot see", "hidden"] {
        assert!(!has(&findings, word), "{word}: {findings:?}");
    }
    assert!(has(&findings, "trigger `child_qty`"), "{findings:?}");
    assert!(has(&findings, "procedure `noop`"), "{findings:?}");
}

#[test]
fn an_sqlite_virtual_table_whose_module_is_missing_is_hidden_not_skipped() {
    let fx = crate::support::Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT); INSERT INTO t VALUES (1, 'x');
         PRAGMA writable_schema = ON;
         INSERT INTO sqlite_schema VALUES ('table', 'vt', 'vt', 0, 'CREATE VIRTUAL TABLE vt USING nosuchmod(a)');
         PRAGMA writable_schema = OFF;",
    );
    let run = Run::new();
    let cfg = fx.config(&run.db, "app", "");
    let err = refused(&run, &cfg);
    assert!(err.contains("virtual table `vt` cannot be read"), "{err}");
    assert!(err.contains("no such module: nosuchmod"), "{err}");
    assert!(err.contains("on_partial_visibility = \"accept\""), "{err}");

    let cfg = fx.config(&run.db, "app", "on_partial_visibility = \"accept\"");
    let findings = plan_findings(&cfg);
    assert!(
        has(&findings, "virtual table `vt` cannot be read"),
        "{findings:?}"
    );
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(run.db.tables("app"), ["t"]);
}
