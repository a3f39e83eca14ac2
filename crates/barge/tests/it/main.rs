//! barge's integration tests: one binary, modules per area. They need PostgreSQL (and, for the
//! MySQL-family suites, MariaDB) running; see scripts/services.sh.

mod encoders;
mod sqlite;
mod support;
