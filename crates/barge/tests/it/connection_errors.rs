//! Errors carry their cause: every connection error shows the server's own message (with
//! SQLSTATE or MySQL's error code) and a hint that fits the cause, for the target, the source
//! and the tracking database alike; credentials and configuration mistakes exit 2, an
//! unreachable server 3; no password is ever printed.
//!
//! The shared PostgreSQL trusts every local login, so the password cases run against a
//! private PostgreSQL started by the test with scram-sha-256 authentication (as the
//! `postgres` OS user when the tests run as root, which PostgreSQL refuses to run as).

use crate::mariadb::{mysql_admin_url, write_config, MariaDb};
use crate::support::{assert_exit, barge, stderr, text, Fixture, PgDb};
use crate::visibility::Account;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const PASSWORD: &str = "Sc0rpion-Pw-91";
const WRONG: &str = "Wr0ng-Pw-37";

/// A private PostgreSQL with password authentication, stopped when dropped.
struct PasswordPg {
    dir: tempfile::TempDir,
    port: u16,
    bin: PathBuf,
    as_postgres: bool,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl PasswordPg {
    fn start() -> PasswordPg {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL server binaries in /usr/lib/postgresql are required")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("initdb").exists())
            .max()
            .expect("an initdb under /usr/lib/postgresql/*/bin");
        let dir = tempfile::tempdir().expect("tempdir");
        let as_postgres = is_root();
        std::fs::write(dir.path().join("pw"), PASSWORD).unwrap();
        if as_postgres {
            run(Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir.path()));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let server = PasswordPg {
            dir,
            port,
            bin,
            as_postgres,
        };
        let d = server.dir.path();
        run(server
            .command("initdb")
            .arg("-D")
            .arg(d.join("data"))
            .args(["-U", "postgres", "--auth=scram-sha-256", "-E", "UTF8"])
            .arg(format!("--pwfile={}", d.join("pw").display())));
        run(server
            .command("pg_ctl")
            .arg("-D")
            .arg(d.join("data"))
            .arg("-l")
            .arg(d.join("log"))
            .arg("-o")
            .arg(format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=16MB",
                d.display()
            ))
            .args(["-w", "start"]));
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the private PostgreSQL did not start: {}",
                std::fs::read_to_string(d.join("log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn url(&self, password: &str, database: &str) -> String {
        format!(
            "postgres://postgres:{password}@127.0.0.1:{}/{database}",
            self.port
        )
    }
}

impl Drop for PasswordPg {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[track_caller]
fn assert_no_password(o: &Output, secrets: &[&str]) {
    let all = text(o);
    for s in secrets {
        assert!(!all.contains(s), "`{s}` printed:\n{all}");
    }
}

const SMALL: &str =
    "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a');";

/// `migrate` from a small SQLite file into `target`, with `extra` lines after `[target]`.
fn migrate_into(fx: &Fixture, target: &str, extra: &str) -> Output {
    let cfg = fx.write(
        "migration.toml",
        &format!(
            "schema = \"app\"\n[source]\ntype = \"sqlite\"\ndsn = \"source.sqlite\"\n[target]\ndsn = \"{target}\"\n{extra}"
        ),
    );
    barge(&["migrate", cfg.to_str().unwrap()])
}

#[test]
fn slow_postgres_wrong_password_and_missing_database_show_the_server_message() {
    let pg = PasswordPg::start();
    let fx = Fixture::sqlite(SMALL);

    // The target.
    let o = migrate_into(&fx, &pg.url(WRONG, "postgres"), "");
    let err = assert_exit(&o, 2);
    assert!(
        stderr(&o).contains(&format!(
            "error: cannot connect to PostgreSQL at postgres@127.0.0.1:{}/postgres: password authentication failed for user \"postgres\" (SQLSTATE 28P01)",
            pg.port
        )),
        "{err}"
    );
    assert!(
        stderr(&o).contains("hint: check the user name and password of the target connection"),
        "{err}"
    );
    assert!(!err.contains("db error"), "{err}");
    assert_no_password(&o, &[WRONG, PASSWORD]);

    let o = migrate_into(&fx, &pg.url(PASSWORD, "no_such_db"), "");
    let err = assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("database \"no_such_db\" does not exist (SQLSTATE 3D000)"),
        "{err}"
    );
    assert!(stderr(&o).contains("hint: create the database"), "{err}");
    assert_no_password(&o, &[PASSWORD]);

    // The tracking database, in the same words.
    let db = PgDb::new();
    let o = migrate_into(
        &fx,
        &db.url,
        &format!("[tracking]\ndsn = \"{}\"\n", pg.url(WRONG, "postgres")),
    );
    let err = assert_exit(&o, 2);
    assert!(
        stderr(&o)
            .contains("password authentication failed for user \"postgres\" (SQLSTATE 28P01)"),
        "{err}"
    );
    assert!(
        stderr(&o)
            .contains("hint: check the user name and password of the tracking database connection"),
        "{err}"
    );
    assert_no_password(&o, &[WRONG, PASSWORD]);
    assert!(!db.schema_exists("app"));

    // The right password works: the failures above were about the password.
    let o = migrate_into(&fx, &pg.url(PASSWORD, "postgres"), "");
    assert_exit(&o, 0);
}

#[test]
fn missing_target_database_on_the_shared_server_is_exit_2() {
    let fx = Fixture::sqlite(SMALL);
    let db = PgDb::new();
    let url = match db.url.rfind('/') {
        Some(i) => format!("{}/{}_missing", &db.url[..i], db.name),
        None => unreachable!(),
    };
    let o = migrate_into(&fx, &url, "");
    let err = assert_exit(&o, 2);
    assert!(
        stderr(&o).contains(&format!(
            "database \"{}_missing\" does not exist (SQLSTATE 3D000)",
            db.name
        )),
        "{err}"
    );
    assert!(
        stderr(&o).contains(
            "hint: create the database on the PostgreSQL server, or correct the database name of the target connection"
        ),
        "{err}"
    );
}

#[test]
fn mariadb_wrong_password_missing_database_and_refused_port() {
    let my = MariaDb::new(&["CREATE TABLE t (id int PRIMARY KEY)"]);
    let account = Account::new(&my.name, &["GRANT SELECT, SHOW VIEW ON `{db}`.* TO {user}"]);
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let plan = |url: &str| {
        let cfg = write_config(dir.path(), url, &db.url, "", "");
        barge(&["plan", cfg.to_str().unwrap()])
    };

    let wrong = account.url(&my.name).replace(":pw@", &format!(":{WRONG}@"));
    let o = plan(&wrong);
    let err = assert_exit(&o, 2);
    assert!(
        stderr(&o).contains(&format!(
            "ERROR 1045 (28000): Access denied for user '{}'",
            account.name
        )),
        "{err}"
    );
    assert!(
        stderr(&o).contains("hint: check the user name and password of the source connection"),
        "{err}"
    );
    assert_no_password(&o, &[WRONG]);

    let o = plan(&account.url(&format!("{}_missing", my.name)));
    let err = assert_exit(&o, 2);
    // MariaDB answers an account without rights on a missing database with 1044.
    assert!(
        stderr(&o).contains("ERROR 1044") || stderr(&o).contains("ERROR 1049"),
        "{err}"
    );
    assert!(!err.contains(":pw@"), "{err}");
    let admin = mysql_admin_url();
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
    let o = plan(&format!("{base}/{}_missing", my.name));
    let err = assert_exit(&o, 2);
    assert!(
        stderr(&o).contains(&format!(
            "ERROR 1049 (42000): Unknown database '{}_missing'",
            my.name
        )),
        "{err}"
    );
    assert!(
        stderr(&o).contains(
            "hint: create the database on the MySQL/MariaDB server, or correct the database name of the source connection"
        ),
        "{err}"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let o = plan(&format!("mysql://root@127.0.0.1:{closed}/x"));
    let err = assert_exit(&o, 3);
    assert!(stderr(&o).contains("Connection refused"), "{err}");
    assert!(
        stderr(&o).contains("hint: nothing accepts connections at that address"),
        "{err}"
    );
}

fn sqlite_plan(fx: &Fixture, dsn: &Path) -> Output {
    let db = PgDb::new();
    let cfg = fx.write(
        "migration.toml",
        &format!(
            "schema = \"app\"\n[source]\ntype = \"sqlite\"\ndsn = \"{}\"\n[target]\ndsn = \"{}\"\n",
            dsn.display(),
            db.url
        ),
    );
    barge(&["plan", cfg.to_str().unwrap()])
}

#[test]
fn a_corrupt_sqlite_file_and_a_directory_name_their_cause() {
    let fx = Fixture::sqlite(SMALL);
    let junk = fx.write(
        "junk.sqlite",
        &"this is a text file, not a database; ".repeat(40),
    );
    let o = sqlite_plan(&fx, &junk);
    let err = assert_exit(&o, 2);
    assert!(stderr(&o).contains("file is not a database"), "{err}");
    assert!(
        stderr(&o).contains("hint: the source file is not an SQLite database"),
        "{err}"
    );

    let o = sqlite_plan(&fx, fx.path());
    let err = assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("is a directory, not a database file"),
        "{err}"
    );
    assert!(
        stderr(&o).contains("hint: the source path is a directory"),
        "{err}"
    );
}

#[test]
fn an_unencoded_at_in_a_url_password_is_exit_2_with_a_percent_encoding_hint() {
    let fx = Fixture::sqlite(SMALL);
    let secret = "s3cr@tX";
    for (role, cfg) in [
        (
            "target.dsn",
            format!(
                "schema = \"app\"\n[source]\ntype = \"sqlite\"\ndsn = \"source.sqlite\"\n[target]\ndsn = \"postgres://app:{secret}@127.0.0.1:5432/x\"\n"
            ),
        ),
        (
            "source.dsn",
            format!(
                "schema = \"app\"\n[source]\ntype = \"mariadb\"\ndsn = \"mysql://app:{secret}@127.0.0.1:3306/shop\"\n[target]\ndsn = \"postgres://postgres@127.0.0.1:5432/x\"\n"
            ),
        ),
    ] {
        let path = fx.write("migration.toml", &cfg);
        for command in ["plan", "migrate"] {
            let o = barge(&[command, path.to_str().unwrap()]);
            let err = assert_exit(&o, 2);
            assert!(stderr(&o).contains(&format!("invalid `{role}`")), "{err}");
            assert!(stderr(&o).contains("holds an unencoded `@`"), "{err}");
            assert!(stderr(&o).contains("`@` as `%40`"), "{err}");
            assert_no_password(&o, &[secret, "s3cr", "tX@"]);
        }
    }
}
