//! The neutral schema model: what a source found, in terms no source and no target own.
//!
//! Sources (`barge-source-*`) produce a [`Schema`]; the PostgreSQL side (`barge-pg`) consumes it.
//! Nothing here is PostgreSQL SQL: types are [`DataType`]s, defaults are [`DefaultValue`]s,
//! index and check expressions are [`Expr`] trees, so a source never writes target SQL and the
//! target never asks which source it came from. Everything skipped, changed or lossy on the way
//! is a [`Finding`].

pub mod cause;
pub mod checksum;
pub mod copy;
pub mod expr;
pub mod finding;
pub mod naming;
pub mod orphans;
pub mod schema;
pub mod types;

pub use cause::{error_chain, ConnectCause};
pub use copy::{InvalidValuePolicy, KeyRange, KeyValue, Reject};
pub use expr::{BinaryOp, Expr, Literal, UnaryOp};
pub use finding::{Finding, FindingKind, Severity};
pub use naming::{Folding, NameCollision, NamingError};
pub use schema::*;
pub use types::DataType;
