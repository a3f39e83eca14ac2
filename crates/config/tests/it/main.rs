//! Integration tests of barge-config: one binary, one module per concern.

mod credentials;
mod defaults;
mod env;
mod secrets;
mod toml_errors;
mod validation;

use std::path::Path;

use barge_config::{parse_str, ConfigError, Environment, Overrides, Settings};

/// The config path tests pretend to read; it need not exist.
pub const CONFIG: &str = "/cfg/migration.toml";

/// A small valid SQLite -> PostgreSQL config.
pub const MINIMAL: &str = r#"schema = "app"

[source]
type = "sqlite"
dsn = "./source.db"

[target]
dsn = "postgres://app:pw@db.example:5432/sales"
"#;

/// An environment with only `vars`, working directory `/work` and 4 CPUs.
pub fn env(vars: &[(&str, &str)]) -> Environment {
    Environment::from_vars(
        "/work",
        vars.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>(),
    )
    .with_cpus(4)
}

pub fn parse(text: &str) -> Result<Settings, ConfigError> {
    parse_str(text, Path::new(CONFIG), &Overrides::default(), &env(&[]))
}

pub fn parse_err(text: &str) -> String {
    match parse(text) {
        Ok(settings) => panic!("expected an error, got {settings:?}"),
        Err(err) => err.to_string(),
    }
}

#[test]
fn errors_and_settings_cross_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<ConfigError>();
    assert_send_sync::<Settings>();
    assert_send_sync::<Environment>();
}
