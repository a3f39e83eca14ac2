//! Hints never steer toward data loss: a value refused for its column's PostgreSQL type
//! names the lossless option first (for MySQL TIME outside a day, `time_mode = "interval"`,
//! which holds every TIME value) and `on_invalid_value = "null"` last, saying what it loses.

use crate::mariadb::{write_config, MariaDb};
use crate::support::{assert_exit, assert_ok, barge, stderr, PgDb};

#[test]
fn an_out_of_range_mysql_time_suggests_time_mode_interval_first() {
    let my = MariaDb::new(&[
        "CREATE TABLE shifts (id int PRIMARY KEY, length time)",
        "INSERT INTO shifts VALUES (1, '08:00:00'), (2, '838:59:59'), (3, '-01:30:00')",
    ]);
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &my.url, &db.url, "", "");
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let err = assert_exit(&o, 4);
    let hint = stderr(&o)
        .lines()
        .find(|l| l.starts_with("hint:") && l.contains("time_mode"))
        .unwrap_or_else(|| panic!("no time_mode hint: {err}"))
        .to_string();
    let interval = hint.find("time_mode = \"interval\"").expect(&hint);
    if let Some(null) = hint.find("on_invalid_value = \"null\"") {
        assert!(interval < null, "the lossless option comes first: {hint}");
        assert!(hint.contains("losing them"), "{hint}");
    }

    // The option it names loads every value.
    let cfg = write_config(
        dir.path(),
        &my.url,
        &db.url,
        "",
        "[type_mapping]\ntime_mode = \"interval\"",
    );
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(
        db.scalar("SELECT string_agg(length::text, ',' ORDER BY id) FROM app.shifts"),
        Some("08:00:00,838:59:59,-01:30:00".into())
    );
}
