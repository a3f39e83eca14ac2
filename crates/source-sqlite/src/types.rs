//! Declared SQLite column types to neutral types.
//!
//! Well-known declared names are refined first (BOOLEAN, DATE, DATETIME, NUMERIC(p,s),
//! VARCHAR(n), JSON, UUID, ...). Anything else follows SQLite's own "Determination Of Column
//! Affinity" rules, in the manual's order, so every declared type lands somewhere and never
//! aborts a run:
//!
//! 1. contains `INT` -> integer (bigint: SQLite integers are 64-bit)
//! 2. contains `CHAR`, `CLOB` or `TEXT` -> text
//! 3. contains `BLOB`, or no type at all -> blob (bytea; no type at all becomes text, see below)
//! 4. contains `REAL`, `FLOA` or `DOUB` -> double precision
//! 5. otherwise numeric affinity -> numeric
//!
//! A column with no declared type holds whatever was inserted; text is the one PostgreSQL type
//! that holds integers, reals and text without loss, so barge uses it and says so.
//! Integer names narrower than 64 bits (SMALLINT, INT, MEDIUMINT) keep their width: a value
//! outside it is refused with its location rather than silently widened.

use barge_model::DataType;

#[derive(Debug, Clone)]
pub struct MappingOptions {
    /// Declared types that only the affinity fallback places become `text`, not `numeric`.
    pub unknown_as_text: bool,
    pub json_as_jsonb: bool,
    pub datetime_as_timestamptz: bool,
    pub preserve_defaults: bool,
}

impl Default for MappingOptions {
    fn default() -> Self {
        MappingOptions {
            unknown_as_text: false,
            json_as_jsonb: true,
            datetime_as_timestamptz: false,
            preserve_defaults: true,
        }
    }
}

/// How a declared type was placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// A known type name.
    Named,
    /// Only SQLite's affinity rules placed it.
    Affinity,
    /// No declared type.
    Untyped,
}

/// Parse `NAME(a, b)` into the upper-cased base name and its numeric arguments.
fn split_decl(decl: &str) -> (String, Vec<u32>) {
    let decl = decl.trim();
    let (name, args) = match decl.find('(') {
        Some(i) => (&decl[..i], decl[i + 1..].trim_end_matches(')')),
        None => (decl, ""),
    };
    let name = name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase();
    let args = args
        .split(',')
        .filter_map(|a| a.trim().parse::<u32>().ok())
        .collect();
    (name, args)
}

/// Map a declared type to a neutral type.
pub fn map_declared_type(decl: &str, options: &MappingOptions) -> (DataType, Placement) {
    let (name, args) = split_decl(decl);
    if name.is_empty() {
        return (DataType::Text, Placement::Untyped);
    }
    let timestamp = || {
        if options.datetime_as_timestamptz {
            DataType::Timestamptz(None)
        } else {
            DataType::Timestamp(None)
        }
    };
    let named = match name.as_str() {
        "BOOLEAN" | "BOOL" => Some(DataType::Bool),
        "TINYINT" | "SMALLINT" | "INT2" => Some(DataType::Int2),
        "INT" | "MEDIUMINT" | "INT4" => Some(DataType::Int4),
        "INTEGER" | "BIGINT" | "INT8" | "UNSIGNED BIG INT" => Some(DataType::Int8),
        "REAL" | "DOUBLE" | "DOUBLE PRECISION" | "FLOAT" | "FLOAT8" => Some(DataType::Float8),
        "FLOAT4" => Some(DataType::Float4),
        "NUMERIC" | "DECIMAL" => Some(match args.as_slice() {
            [p] if *p >= 1 && *p <= 1000 => DataType::Numeric {
                precision: Some(*p),
                scale: Some(0),
            },
            [p, s] if *p >= 1 && *p <= 1000 && s <= p => DataType::Numeric {
                precision: Some(*p),
                scale: Some(*s),
            },
            _ => DataType::Numeric {
                precision: None,
                scale: None,
            },
        }),
        "VARCHAR" | "NVARCHAR" | "CHARACTER VARYING" | "VARYING CHARACTER" | "NATIVE CHARACTER"
        | "CHAR" | "NCHAR" | "CHARACTER" => Some(match args.as_slice() {
            [n] if *n >= 1 && *n <= 10_485_760 => DataType::Varchar(*n),
            _ => DataType::Text,
        }),
        "TEXT" | "CLOB" | "STRING" => Some(DataType::Text),
        "BLOB" | "BYTEA" | "BINARY" | "VARBINARY" => Some(DataType::Bytea),
        "DATE" => Some(DataType::Date),
        "DATETIME" | "TIMESTAMP" => Some(timestamp()),
        "TIMESTAMPTZ" | "TIMESTAMP WITH TIME ZONE" => Some(DataType::Timestamptz(None)),
        "TIME" => Some(DataType::Time(None)),
        "JSON" | "JSONB" => Some(if options.json_as_jsonb {
            DataType::Jsonb
        } else {
            DataType::Json
        }),
        "UUID" | "GUID" => Some(DataType::Uuid),
        _ => None,
    };
    if let Some(t) = named {
        return (t, Placement::Named);
    }
    // SQLite's affinity rules, in order.
    let t = if name.contains("INT") {
        DataType::Int8
    } else if name.contains("CHAR") || name.contains("CLOB") || name.contains("TEXT") {
        DataType::Text
    } else if name.contains("BLOB") {
        DataType::Bytea
    } else if name.contains("REAL") || name.contains("FLOA") || name.contains("DOUB") {
        DataType::Float8
    } else if options.unknown_as_text {
        DataType::Text
    } else {
        DataType::Numeric {
            precision: None,
            scale: None,
        }
    };
    (t, Placement::Affinity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(decl: &str) -> DataType {
        map_declared_type(decl, &MappingOptions::default()).0
    }

    #[test]
    fn named_and_affinity() {
        assert_eq!(map("INTEGER"), DataType::Int8);
        assert_eq!(map("int"), DataType::Int4);
        assert_eq!(map("NVARCHAR(40)"), DataType::Varchar(40));
        assert_eq!(map("character(20)"), DataType::Varchar(20));
        assert_eq!(
            map("NUMERIC(10,2)"),
            DataType::Numeric {
                precision: Some(10),
                scale: Some(2)
            }
        );
        assert_eq!(map("DATETIME"), DataType::Timestamp(None));
        assert_eq!(map("json"), DataType::Jsonb);
        assert_eq!(map(""), DataType::Text);
        // affinity: contains INT
        assert_eq!(map("BIGINTEGER"), DataType::Int8);
        assert_eq!(map("VARYINGTEXT"), DataType::Text);
        assert_eq!(map("LONGBLOB"), DataType::Bytea);
        assert_eq!(map("DOUBLEISH"), DataType::Float8);
        assert_eq!(
            map("MONEY"),
            DataType::Numeric {
                precision: None,
                scale: None
            }
        );
        let text = MappingOptions {
            unknown_as_text: true,
            ..MappingOptions::default()
        };
        assert_eq!(map_declared_type("MONEY", &text).0, DataType::Text);
        let tz = MappingOptions {
            datetime_as_timestamptz: true,
            ..MappingOptions::default()
        };
        assert_eq!(
            map_declared_type("timestamp", &tz).0,
            DataType::Timestamptz(None)
        );
    }
}
