//! PostgreSQL target: connecting, rendering DDL from the neutral model, sending COPY streams,
//! and the post-load steps (keys, indexes, foreign keys, identity, ANALYZE).
//!
//! DDL rendering is pure ([`ddl`]) so it can be snapshot-tested without a server; everything
//! that talks to PostgreSQL is in [`target`], and [`cascade`] finds what a schema drop would
//! remove before barge drops anything.

pub mod cascade;
pub mod ddl;
pub mod orphans;
pub mod script;
pub mod target;

pub use ddl::quote_ident;
pub use target::{connect, PgError};
