//! TLS to MySQL/MariaDB sources, against a private MariaDB server started by the test with
//! its own certificate authority (the shared server on 3306 runs without TLS). The server's
//! certificate names only `db.barge.invalid`: verifying it needs the CA and that name
//! (`ssl-hostname`), and fails without either; the test user is created `REQUIRE SSL`, so a migration
//! that succeeds proves its session was encrypted.

use crate::support::{assert_ok, barge, text, PgDb};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct TlsServer {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
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

fn openssl(dir: &Path, args: &[&str]) {
    run(Command::new("openssl").current_dir(dir).args(args));
}

impl TlsServer {
    fn start() -> TlsServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=barge test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=db.barge.invalid",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
            ],
        );
        std::fs::write(d.join("san.ext"), "subjectAltName=DNS:db.barge.invalid\n").unwrap();
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "san.ext",
                "-out",
                "server.pem",
            ],
        );
        run(Command::new("mariadb-install-db")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", d.join("data").display()))
            .args([
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ]));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let socket = d.join("sock");
        let child = Command::new("/usr/sbin/mariadbd")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", d.join("data").display()))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--port={port}"))
            .arg(format!("--pid-file={}", d.join("pid").display()))
            .arg(format!("--log-error={}", d.join("error.log").display()))
            .arg(format!("--ssl-ca={}", d.join("ca.pem").display()))
            .arg(format!("--ssl-cert={}", d.join("server.pem").display()))
            .arg(format!("--ssl-key={}", d.join("server.key").display()))
            .args([
                "--bind-address=127.0.0.1",
                "--user=root",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=16M",
                "--skip-name-resolve",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a private mariadbd");
        let server = TlsServer { child, dir, port };
        let started = Instant::now();
        loop {
            let ping = Command::new("mariadb-admin")
                .arg(format!("--socket={}", socket.display()))
                .args(["-u", "root", "ping"])
                .output()
                .expect("mariadb-admin");
            if ping.status.success() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the private MariaDB did not start: {}",
                std::fs::read_to_string(server.dir.path().join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        run(Command::new("mariadb")
            .arg(format!("--socket={}", socket.display()))
            .args(["-u", "root", "-e"])
            .arg(
                "CREATE USER 'tls'@'%' IDENTIFIED BY 'pw' REQUIRE SSL;
                 GRANT ALL ON *.* TO 'tls'@'%';
                 CREATE DATABASE shop;
                 CREATE TABLE shop.t (id int PRIMARY KEY, v varchar(10));
                 INSERT INTO shop.t VALUES (1, 'a'), (2, 'b');",
            ));
        server
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn url(&self, params: &str) -> String {
        format!("mysql://tls:pw@127.0.0.1:{}/shop{params}", self.port)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn migrate(url: &str, db: &PgDb) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("m.toml");
    std::fs::write(
        &cfg,
        format!(
            "schema = \"app\"\non_schema_exists = \"recreate\"\n[source]\ntype = \"mariadb\"\ndsn = \"{url}\"\n[target]\ndsn = \"{}\"\n",
            db.url
        ),
    )
    .unwrap();
    barge(&["migrate", cfg.to_str().unwrap()])
}

#[test]
fn slow_tls_modes_to_a_mariadb_that_requires_tls() {
    let server = TlsServer::start();
    let ca = server.ca();
    let ca = ca.display();
    let db = PgDb::new();
    for params in [
        String::new(), // preferred: TLS because the server offers it
        "?ssl-mode=required".to_string(),
        format!("?ssl-mode=verify_ca&ssl-ca={ca}&ssl-hostname=db.barge.invalid"),
        format!("?ssl-mode=verify_identity&ssl-ca={ca}&ssl-hostname=db.barge.invalid"),
    ] {
        assert_ok(&migrate(&server.url(&params), &db));
        assert_eq!(
            db.scalar("SELECT string_agg(v, ',' ORDER BY id) FROM app.t"),
            Some("a,b".into()),
            "{params}"
        );
    }
    // Plain text is refused by the server (REQUIRE SSL).
    let out = migrate(&server.url("?ssl-mode=disabled"), &db);
    assert!(!out.status.success());
    assert!(text(&out).contains("Access denied"), "{}", text(&out));
    // The CA is not among the built-in roots, and the certificate names another host.
    let out = migrate(&server.url("?ssl-mode=verify_ca"), &db);
    assert!(!out.status.success(), "unknown CA must fail");
    let out = migrate(
        &server.url(&format!("?ssl-mode=verify_identity&ssl-ca={ca}")),
        &db,
    );
    assert!(!out.status.success(), "wrong host name must fail");
    assert!(text(&out).contains("not valid for name"), "{}", text(&out));
    assert!(
        !text(&out).contains(":pw@"),
        "no password in errors: {}",
        text(&out)
    );
}
