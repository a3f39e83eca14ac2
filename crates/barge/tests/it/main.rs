//! barge's integration tests: one binary, modules per area. They need PostgreSQL (and, for the
//! MySQL-family suites, MariaDB) running; see scripts/services.sh.

mod checksum;
mod checksum_source;
mod config_cli;
mod connection_errors;
mod continuing;
mod encoders;
mod formats;
mod hooks;
mod interrupt;
mod mariadb;
mod mysql_every_type;
mod mysql_features;
mod mysql_tls;
mod nothing_to_migrate;
mod orphans;
mod plan;
mod plan_snapshots;
mod resume;
mod resume_mariadb;
mod safety;
mod sqlite;
mod sqlite_schema;
mod sqlite_types;
mod sqlite_values;
mod support;
mod tracking;
mod validate;
mod value_hints;
mod visibility;
