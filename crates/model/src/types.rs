//! Target-neutral column types. Each source maps its declared types onto these; the target
//! renders them (and picks a value encoder) from these alone.

use serde::{Serialize, Serializer};
use std::fmt;

/// The logical type a column is carried as. It serializes (plan JSON, fingerprints) as its
/// display form, in SQL's standard names: `bigint`, `varchar(40)`, `numeric(10,2)`,
/// `timestamptz(3)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
    /// Fixed-width bit string, `bit(n)`.
    Bit(u32),
    /// Bit string up to n bits, `bit varying(n)`.
    Varbit(u32),
    /// `interval` (MySQL TIME under `time_mode = "interval"`: a signed span, not a time of day).
    Interval,
    /// `inet`: an IPv4 or IPv6 host address.
    Inet,
    /// `text[]`: a one-dimensional array of text (MySQL SET members).
    TextArray,
    /// A native enum type created in the target schema before the tables. `name` is the
    /// target type name (already folded); `labels` in declaration order.
    Enum {
        name: String,
        labels: Vec<String>,
    },
    /// `citext` (extension): text compared case-insensitively.
    Citext,
    /// PostGIS `geometry(<kind>[, srid])`; `kind` is PostGIS's name (`Point`, `Geometry`, ...).
    Geometry {
        kind: String,
        srid: Option<u32>,
    },
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = |p: &Option<u8>| p.map(|p| format!("({p})")).unwrap_or_default();
        match self {
            DataType::Bool => f.write_str("boolean"),
            DataType::Int2 => f.write_str("smallint"),
            DataType::Int4 => f.write_str("integer"),
            DataType::Int8 => f.write_str("bigint"),
            DataType::Float4 => f.write_str("real"),
            DataType::Float8 => f.write_str("double precision"),
            DataType::Numeric {
                precision: Some(pr),
                scale,
            } => write!(f, "numeric({pr},{})", scale.unwrap_or(0)),
            DataType::Numeric { .. } => f.write_str("numeric"),
            DataType::Text => f.write_str("text"),
            DataType::Varchar(n) => write!(f, "varchar({n})"),
            DataType::Char(n) => write!(f, "char({n})"),
            DataType::Bytea => f.write_str("bytea"),
            DataType::Date => f.write_str("date"),
            DataType::Time(x) => write!(f, "time{}", p(x)),
            DataType::Timestamp(x) => write!(f, "timestamp{}", p(x)),
            DataType::Timestamptz(x) => write!(f, "timestamptz{}", p(x)),
            DataType::Json => f.write_str("json"),
            DataType::Jsonb => f.write_str("jsonb"),
            DataType::Uuid => f.write_str("uuid"),
            DataType::Bit(n) => write!(f, "bit({n})"),
            DataType::Varbit(n) => write!(f, "bit varying({n})"),
            DataType::Interval => f.write_str("interval"),
            DataType::Inet => f.write_str("inet"),
            DataType::Citext => f.write_str("citext"),
            DataType::TextArray => f.write_str("text[]"),
            DataType::Enum { name, .. } => write!(f, "enum {name}"),
            DataType::Geometry {
                kind,
                srid: Some(srid),
            } => write!(f, "geometry({kind},{srid})"),
            DataType::Geometry { kind, srid: None } => write!(f, "geometry({kind})"),
        }
    }
}

impl Serialize for DataType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
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
            DataType::Text | DataType::Varchar(_) | DataType::Char(_) | DataType::Citext
        )
    }
}
