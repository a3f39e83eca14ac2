//! Target-neutral column types. Each source maps its declared types onto these; the target
//! renders them (and picks a value encoder) from these alone.

use serde::Serialize;

/// The logical type a column is carried as.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DataType {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    /// Exact decimal; `None` means unconstrained precision.
    Numeric {
        precision: Option<u32>,
        scale: Option<u32>,
    },
    Text,
    Varchar(u32),
    Char(u32),
    Bytea,
    Date,
    /// Time of day, fractional-second precision when known.
    Time(Option<u8>),
    Timestamp(Option<u8>),
    Timestamptz(Option<u8>),
    Json,
    Jsonb,
    Uuid,
}

impl DataType {
    /// Is this one of the integer types (usable as an identity column)?
    pub fn is_integer(&self) -> bool {
        matches!(self, DataType::Int2 | DataType::Int4 | DataType::Int8)
    }

    /// Does the type carry text (so a text literal default fits it)?
    pub fn is_textual(&self) -> bool {
        matches!(
            self,
            DataType::Text | DataType::Varchar(_) | DataType::Char(_)
        )
    }
}
