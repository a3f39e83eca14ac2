//! Passwords never appear in `Debug`, `Display` or error output.

use std::path::Path;

use barge_config::{parse_str, Overrides, Secret};

use crate::{env, parse};

const PASSWORD: &str = "Pa55w0rd-xyz";

fn config_with(source_dsn: &str, target_dsn: &str) -> String {
    format!(
        "schema = \"app\"\n[source]\ntype = \"mysql\"\ndsn = \"{source_dsn}\"\n[target]\ndsn = \"{target_dsn}\"\n"
    )
}

#[test]
fn settings_debug_and_redactions_hide_passwords() {
    let cases = [
        (
            format!("root:{PASSWORD}@tcp(127.0.0.1:3306)/shop"),
            format!("postgres://app:{PASSWORD}@db.example:5432/sales"),
            "root@tcp(127.0.0.1:3306)/shop",
            "postgres://app@db.example:5432/sales",
        ),
        (
            format!("mysql://root:{PASSWORD}@mysql:3306/shop"),
            format!("host=db.example port=5432 user=app password={PASSWORD} dbname=sales"),
            "mysql://root@mysql:3306/shop",
            "host=db.example port=5432 user=app dbname=sales",
        ),
        (
            format!("mysql://root:{PASSWORD}@mysql/shop?ssl-mode=REQUIRED"),
            format!("postgresql://app@db.example/sales?password={PASSWORD}&sslmode=require"),
            "mysql://root@mysql/shop?ssl-mode=REQUIRED",
            "postgresql://app@db.example/sales?sslmode=require",
        ),
    ];
    for (source, target, source_shown, target_shown) in cases {
        let s = parse(&config_with(&source, &target)).unwrap();
        assert_eq!(s.source.connection.redacted(), source_shown);
        assert_eq!(s.target.connection.redacted(), target_shown);
        let debug = format!("{s:?} {:#?}", s.source);
        assert!(!debug.contains(PASSWORD), "{debug}");
    }
}

#[test]
fn errors_after_the_dsn_is_read_do_not_show_it() {
    let text = config_with(
        &format!("root:{PASSWORD}@tcp(h)/db"),
        &format!("postgres://app:{PASSWORD}@db/sales"),
    ) + "schema_only = true\n";
    // `schema_only` lands in `[target]`: an unknown key there.
    let err = parse(&text).unwrap_err();
    assert!(!format!("{err} {err:?}").contains(PASSWORD));

    let text = format!(
        "schema_only = true\ndata_only = true\n{}",
        config_with(
            &format!("root:{PASSWORD}@tcp(h)/db"),
            &format!("postgres://app:{PASSWORD}@db/sales"),
        )
    );
    let err = parse(&text).unwrap_err();
    assert!(!format!("{err} {err:?}").contains(PASSWORD));

    let text = config_with(
        "root@tcp(h)/db",
        &format!("mysql://app:{PASSWORD}@db/sales"),
    );
    let err = parse(&text).unwrap_err();
    assert!(err.to_string().starts_with("invalid `target.dsn`"), "{err}");
    assert!(!format!("{err} {err:?}").contains(PASSWORD));
}

#[test]
fn overrides_debug_hides_dsns() {
    let overrides = Overrides {
        source_dsn: Some(Secret::new(format!("root:{PASSWORD}@tcp(h)/db"))),
        target_dsn: Some(Secret::new(format!("postgres://a:{PASSWORD}@h/d"))),
        ..Overrides::default()
    };
    assert!(!format!("{overrides:?}").contains(PASSWORD));
}

#[test]
fn environment_debug_hides_variables() {
    let environment = env(&[("PGPASSWORD", PASSWORD)]);
    assert!(!format!("{environment:?}").contains(PASSWORD));
    let s = parse_str(
        "schema = \"app\"\n[source]\ntype = \"sqlite\"\ndsn = \"a.db\"\n[target]\ndsn = \"postgres://app:$env{PGPASSWORD}@db/x\"\n",
        Path::new("/cfg/m.toml"),
        &Overrides::default(),
        &environment,
    )
    .unwrap();
    assert!(!format!("{s:?}").contains(PASSWORD));
    assert_eq!(s.target.connection.redacted(), "postgres://app@db/x");
}
