//! The tracking database becomes unreachable mid-run: the writer keeps records in memory,
//! warns, retries, and writes everything once the database is back.

use barge_config::{Connection, DatabaseKind, Secret, TrackingMode, TrackingSettings};
use barge_tracking::{
    time, writer, Event, EventLevel, Record, RunRecord, RunStatus, TrackingStore, WriterOptions,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

fn admin_url() -> String {
    std::env::var("BARGE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

async fn admin() -> tokio_postgres::Client {
    let url = admin_url();
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required and is not reachable at {url}: {e}"));
    tokio::spawn(conn);
    client
}

/// A TCP proxy to PostgreSQL that can cut every connection and refuse new ones.
struct Proxy {
    port: u16,
    down: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let down = Arc::new(AtomicBool::new(false));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (d, l) = (down.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if d.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let upstream = upstream.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                l.lock().expect("links").push(link);
            }
        });
        Proxy { port, down, links }
    }

    fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for link in self.links.lock().expect("links").drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

fn event(run: &str, n: usize) -> Record {
    Record::Event(Event {
        run_id: run.to_string(),
        timestamp: time::now(),
        level: EventLevel::Info,
        status: "info".into(),
        table: None,
        message: format!("event {n}"),
        details: None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_tracking_database_keeps_records_and_catches_up() {
    let name = format!("barge_trk_offline_{}", std::process::id());
    let admin = admin().await;
    for sql in [
        format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        format!("CREATE DATABASE \"{name}\""),
    ] {
        admin
            .batch_execute(&sql)
            .await
            .expect("create tracking database");
    }
    let config: tokio_postgres::Config = admin_url().parse().expect("admin URL");
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => panic!("BARGE_TEST_PG_URL must name a TCP host"),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("postgres").to_string();
    let proxy = Proxy::start(format!("{host}:{port}")).await;
    let settings = TrackingSettings {
        kind: DatabaseKind::Postgres,
        connection: Connection::Url(Secret::new(format!(
            "postgres://{user}@127.0.0.1:{}/{name}",
            proxy.port
        ))),
        auth_id: None,
        mode: TrackingMode::Preserve,
        project: None,
    };
    let mut store = TrackingStore::connect(&settings).await.expect("connect");
    store.setup(TrackingMode::Preserve).await.expect("setup");
    let warnings: Arc<Mutex<Vec<String>>> = Arc::default();
    let w = warnings.clone();
    let sender = writer::start(
        store,
        Arc::new(move |text: String| w.lock().expect("warnings").push(text)),
        WriterOptions {
            batch_size: 10,
            interval: Duration::from_millis(20),
            finish_timeout: Duration::from_secs(20),
        },
    );
    let run = "20261123-000000-0ff1";
    sender.send(Record::Run(RunRecord {
        run_id: run.into(),
        start_time: time::now(),
        end_time: None,
        status: RunStatus::Running,
        source_type: "sqlite".into(),
        source_description: "sqlite:/x.sqlite".into(),
        target_description: "postgres://u@h:5432/d".into(),
        target_schema: "app".into(),
        barge_version: "test".into(),
        config_fingerprint: String::new(),
        command_line: String::new(),
        project: None,
    }));
    sender.send(event(run, 1));
    sender.flush().await;

    let tracking = {
        let url = format!("postgres://{user}@{host}:{port}/{name}");
        let (c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("direct connection");
        tokio::spawn(conn);
        c
    };
    let count = || async {
        tracking
            .query_one("SELECT count(*) FROM eventlog", &[])
            .await
            .expect("count events")
            .get::<_, i64>(0)
    };
    assert_eq!(count().await, 1);

    proxy.cut();
    for n in 2..=40 {
        sender.send(event(run, n));
    }
    sender.flush().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    sender.flush().await;
    assert_eq!(
        count().await,
        1,
        "nothing can be written while the database is away"
    );
    {
        let w = warnings.lock().expect("warnings");
        assert!(
            w.iter()
                .any(|t| t.contains("the migration goes on") && t.contains("in memory")),
            "{w:?}"
        );
        assert_eq!(
            w.len(),
            1,
            "one warning while offline, not one per retry: {w:?}"
        );
    }

    proxy.restore();
    let lost = sender.finish().await;
    assert_eq!(lost, 0);
    assert_eq!(count().await, 40);
    {
        let w = warnings.lock().expect("warnings");
        assert!(w.iter().any(|t| t.contains("reachable again")), "{w:?}");
    }
    drop(tracking);
    let _ = admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await;
}
