//! MySQL and MariaDB column types to neutral types, under pgferry's `[type_mapping]` options.
//!
//! The mapping reads `information_schema.COLUMNS` (`DATA_TYPE` for the base type, `COLUMN_TYPE`
//! for `unsigned`, display widths, `enum(...)` lists and bit widths). Every column lands
//! somewhere; where the model has no type for an option value (PostgreSQL `bit`, `varbit`,
//! `interval`, `inet`, arrays, native enums), the column falls back to a lossless carrier and a
//! finding says so.
//!
//! Widths that a value can exceed once mapped (unsigned integers without widening) are not
//! widened silently: such a value is refused with its location when it is copied.

use barge_config::{BitMode, EnumMode, SetMode, SpatialMode, TimeMode, TypeMapping, ZeroDateMode};
use barge_model::{DataType, Finding, FindingKind};

/// What `information_schema.COLUMNS` says about a column's type.
#[derive(Debug, Clone, Default)]
pub struct ColumnTypeInfo {
    /// `DATA_TYPE`, lower-cased: `int`, `varchar`, `enum`, `uuid`, ...
    pub data_type: String,
    /// `COLUMN_TYPE`, as declared: `int(10) unsigned`, `enum('a','b')`, `bit(1)`.
    pub column_type: String,
    pub char_max_length: Option<u64>,
    pub numeric_precision: Option<u64>,
    pub numeric_scale: Option<u64>,
    pub datetime_precision: Option<u64>,
    /// A MariaDB `JSON` column: `longtext` with a `json_valid(col)` check.
    pub json_check: bool,
    /// MySQL 8's `SRS_ID` of a spatial column, when the column declares one.
    pub srid: Option<u32>,
    /// `COLLATION_NAME` of a text column.
    pub collation: Option<String>,
}

impl ColumnTypeInfo {
    pub fn unsigned(&self) -> bool {
        self.column_type.to_ascii_lowercase().contains("unsigned")
    }
}

/// A mapped type and what the user should hear about it.
#[derive(Debug, Clone)]
pub struct MappedType {
    pub data_type: DataType,
    pub findings: Vec<Finding>,
}

fn finding_for(f: Finding, table: &str, column: &str) -> Finding {
    f.on_table(table).on_column(column)
}

/// The values of an `enum('a','b')` or `set('a','b')` declaration, unescaped.
pub fn enum_values(column_type: &str) -> Vec<String> {
    let Some(open) = column_type.find('(') else {
        return Vec::new();
    };
    let body = &column_type[open + 1..];
    let mut values = Vec::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut v = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    v.push('\'');
                }
                '\'' => break,
                '\\' => match chars.next() {
                    Some('n') => v.push('\n'),
                    Some('t') => v.push('\t'),
                    Some('r') => v.push('\r'),
                    Some('0') => v.push('\0'),
                    Some(o) => v.push(o),
                    None => {}
                },
                o => v.push(o),
            }
        }
        values.push(v);
    }
    values
}

/// Width in bits of `bit(n)` (MySQL's default is 1).
pub fn bit_width(column_type: &str) -> u32 {
    column_type
        .find('(')
        .and_then(|i| {
            column_type[i + 1..]
                .trim_end_matches(')')
                .trim()
                .parse::<u32>()
                .ok()
        })
        .unwrap_or(1)
}

/// A MySQL spatial type name (lower case, no parameters).
pub(crate) fn is_spatial(data_type: &str) -> bool {
    matches!(
        data_type,
        "geometry"
            | "point"
            | "linestring"
            | "polygon"
            | "multipoint"
            | "multilinestring"
            | "multipolygon"
            | "geometrycollection"
            | "geomcollection"
    )
}

/// Map one column's type.
pub fn map_column_type(
    info: &ColumnTypeInfo,
    options: &TypeMapping,
    postgis: bool,
    table: &str,
    column: &str,
) -> MappedType {
    let mut findings = Vec::new();
    let dt = info.data_type.to_ascii_lowercase();
    let ct = info.column_type.to_ascii_lowercase();
    let unsigned = info.unsigned();
    let widen = options.widen_unsigned_integers;
    let mut narrow_unsigned = |pg: &str, max: &str| {
        findings.push(finding_for(
            Finding::warning(
                FindingKind::LossyType,
                format!(
                    "`{ct}` is loaded as {pg} (widen_unsigned_integers = false); values above {max} are refused when copied"
                ),
            )
            .with_hint("set `widen_unsigned_integers = true` under [type_mapping] to carry every value"),
            table,
            column,
        ));
    };
    let timestamp = |p: Option<u8>| {
        if options.datetime_as_timestamptz {
            DataType::Timestamptz(p)
        } else {
            DataType::Timestamp(p)
        }
    };
    let precision = info.datetime_precision.map(|p| p.min(6) as u8);
    let data_type = match dt.as_str() {
        "tinyint" if options.tinyint1_as_boolean && ct.starts_with("tinyint(1)") => {
            findings.push(finding_for(
                Finding::info(
                    FindingKind::TypeMapped,
                    "`tinyint(1)` is loaded as boolean (tinyint1_as_boolean); values other than 0 and 1 are refused when copied",
                ),
                table,
                column,
            ));
            DataType::Bool
        }
        "tinyint" => DataType::Int2,
        "smallint" if unsigned && widen => DataType::Int4,
        "smallint" if unsigned => {
            narrow_unsigned("smallint", "32767");
            DataType::Int2
        }
        "smallint" => DataType::Int2,
        "mediumint" => DataType::Int4,
        "int" | "integer" if unsigned && widen => DataType::Int8,
        "int" | "integer" if unsigned => {
            narrow_unsigned("integer", "2147483647");
            DataType::Int4
        }
        "int" | "integer" => DataType::Int4,
        "bigint" if unsigned && widen => DataType::Numeric {
            precision: Some(20),
            scale: Some(0),
        },
        "bigint" if unsigned => {
            narrow_unsigned("bigint", "9223372036854775807");
            DataType::Int8
        }
        "bigint" => DataType::Int8,
        "decimal" | "numeric" | "fixed" | "dec" => DataType::Numeric {
            precision: info.numeric_precision.map(|p| p as u32),
            scale: Some(info.numeric_scale.unwrap_or(0) as u32),
        },
        "float" => DataType::Float4,
        "double" | "real" | "double precision" => DataType::Float8,
        "year" => DataType::Int2,
        "bit" => match options.bit_mode {
            BitMode::Bytea => DataType::Bytea,
            BitMode::Bit => DataType::Bit(bit_width(&ct)),
            BitMode::Varbit => DataType::Varbit(bit_width(&ct)),
        },
        "char" if options.string_uuid_as_uuid && info.char_max_length == Some(36) => {
            findings.push(finding_for(
                Finding::info(
                    FindingKind::TypeMapped,
                    "`char(36)` is loaded as uuid (string_uuid_as_uuid); values that are not UUIDs are refused when copied",
                ),
                table,
                column,
            ));
            DataType::Uuid
        }
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext"
            if options.ci_as_citext && !info.json_check && is_ci(info.collation.as_deref()) =>
        {
            findings.push(finding_for(
                Finding::info(
                    FindingKind::TypeMapped,
                    format!(
                        "`{ct}` with collation `{}` is loaded as citext (ci_as_citext): compared, keyed and unique case-insensitively as in the source{}",
                        info.collation.as_deref().unwrap_or(""),
                        if dt.ends_with("char") { "; the length limit is not enforced" } else { "" }
                    ),
                ),
                table,
                column,
            ));
            DataType::Citext
        }
        "char" | "varchar" => match info.char_max_length {
            _ if options.varchar_as_text && dt == "varchar" => DataType::Text,
            Some(n) if (1..=10_485_760).contains(&n) => {
                if dt == "char" {
                    DataType::Char(n as u32)
                } else {
                    DataType::Varchar(n as u32)
                }
            }
            _ => DataType::Text,
        },
        "tinytext" | "text" | "mediumtext" | "longtext" if info.json_check => {
            findings.push(finding_for(
                Finding::info(
                    FindingKind::TypeMapped,
                    "MariaDB JSON column (longtext with a json_valid check) is loaded as JSON",
                ),
                table,
                column,
            ));
            json(options)
        }
        "tinytext" | "text" | "mediumtext" | "longtext" | "long" | "long varchar" => DataType::Text,
        "binary" if options.binary16_as_uuid && info.char_max_length == Some(16) => DataType::Uuid,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob"
        | "long varbinary" => DataType::Bytea,
        "date" => DataType::Date,
        "datetime" => timestamp(precision),
        // TIMESTAMP is stored in UTC and read with the session at +00:00.
        "timestamp" => DataType::Timestamptz(precision),
        "time" => match options.time_mode {
            TimeMode::Time => DataType::Time(precision),
            TimeMode::Text => DataType::Text,
            TimeMode::Interval => DataType::Interval,
        },
        "json" => json(options),
        "enum" => match options.enum_mode {
            EnumMode::Text | EnumMode::Check => DataType::Text,
            // Named `<table>_<column>` once target names are known (naming).
            EnumMode::Native => DataType::Enum {
                name: format!("{table}_{column}"),
                labels: enum_values(&info.column_type),
            },
        },
        "set" => match options.set_mode {
            SetMode::Text => DataType::Text,
            SetMode::TextArray | SetMode::TextArrayCheck => DataType::TextArray,
        },
        "uuid" => DataType::Uuid,
        "inet4" | "inet6" => DataType::Inet,
        d if is_spatial(d) && postgis => DataType::Geometry {
            kind: postgis_kind(d).to_string(),
            srid: info.srid,
        },
        d if is_spatial(d) => {
            match options.spatial_mode {
                SpatialMode::WkbBytea => {
                    findings.push(finding_for(
                    Finding::info(
                        FindingKind::TypeMapped,
                        format!("spatial `{dt}` is loaded as EWKB in bytea (standard WKB with the value's SRID)"),
                    ),
                    table,
                    column,
                ));
                    DataType::Bytea
                }
                SpatialMode::WktText => DataType::Text,
                SpatialMode::Off => {
                    findings.push(finding_for(
                    Finding::error(
                        FindingKind::UnknownType,
                        format!("spatial `{dt}` column has no mapping while spatial_mode = \"off\""),
                    )
                    .with_hint("set `spatial_mode = \"wkb_bytea\"` or `\"wkt_text\"` under [type_mapping]"),
                    table,
                    column,
                ));
                    DataType::Bytea
                }
            }
        }
        _ => {
            if options.unknown_as_text {
                findings.push(finding_for(
                    Finding::warning(
                        FindingKind::UnknownType,
                        format!(
                            "type `{ct}` is not known to barge; loaded as text (unknown_as_text)"
                        ),
                    ),
                    table,
                    column,
                ));
            } else {
                findings.push(finding_for(
                    Finding::error(
                        FindingKind::UnknownType,
                        format!("type `{ct}` is not known to barge"),
                    )
                    .with_hint(
                        "set `unknown_as_text = true` under [type_mapping] to load it as text",
                    ),
                    table,
                    column,
                ));
            }
            DataType::Text
        }
    };
    MappedType {
        data_type,
        findings,
    }
}

/// Is a MySQL collation case-insensitive (`utf8mb4_general_ci`, `utf8mb4_0900_ai_ci`)?
pub fn is_ci(collation: Option<&str>) -> bool {
    collation.is_some_and(|c| c.to_ascii_lowercase().ends_with("_ci"))
}

/// PostGIS's name for a MySQL spatial type, for `geometry(<kind>)`.
fn postgis_kind(data_type: &str) -> &'static str {
    match data_type {
        "point" => "Point",
        "linestring" => "LineString",
        "polygon" => "Polygon",
        "multipoint" => "MultiPoint",
        "multilinestring" => "MultiLineString",
        "multipolygon" => "MultiPolygon",
        "geometrycollection" | "geomcollection" => "GeometryCollection",
        _ => "Geometry",
    }
}

fn json(options: &TypeMapping) -> DataType {
    if options.json_as_jsonb {
        DataType::Jsonb
    } else {
        DataType::Json
    }
}

/// Does a zero date (`0000-00-00`, zero month or day) have a meaning in this column's type?
pub fn holds_zero_dates(data_type: &str) -> bool {
    matches!(data_type, "date" | "datetime" | "timestamp")
}

/// The zero-date policy in words, for findings.
pub fn zero_date_words(mode: ZeroDateMode) -> &'static str {
    match mode {
        ZeroDateMode::Null => "null",
        ZeroDateMode::Error => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use barge_config::SourceKind;

    fn info(dt: &str, ct: &str) -> ColumnTypeInfo {
        ColumnTypeInfo {
            data_type: dt.into(),
            column_type: ct.into(),
            ..Default::default()
        }
    }

    #[test]
    fn enum_values_unescape() {
        assert_eq!(
            enum_values("enum('a','it''s','x,y','b\\\\c')"),
            vec!["a", "it's", "x,y", "b\\c"]
        );
        assert_eq!(enum_values("set('')"), vec![""]);
        assert_eq!(bit_width("bit(10)"), 10);
        assert_eq!(bit_width("bit"), 1);
    }

    #[test]
    fn unsigned_widening() {
        let mut o = TypeMapping::defaults_for(SourceKind::Mariadb);
        let t =
            |o: &TypeMapping, dt, ct| map_column_type(&info(dt, ct), o, false, "t", "c").data_type;
        assert_eq!(
            t(&o, "bigint", "bigint(20) unsigned"),
            DataType::Numeric {
                precision: Some(20),
                scale: Some(0)
            }
        );
        assert_eq!(t(&o, "int", "int(10) unsigned"), DataType::Int8);
        assert_eq!(t(&o, "smallint", "smallint(5) unsigned"), DataType::Int4);
        assert_eq!(t(&o, "tinyint", "tinyint(3) unsigned"), DataType::Int2);
        o.widen_unsigned_integers = false;
        assert_eq!(t(&o, "int", "int(10) unsigned"), DataType::Int4);
        assert_eq!(t(&o, "bigint", "bigint(20) unsigned"), DataType::Int8);
        let m = map_column_type(&info("int", "int unsigned"), &o, false, "t", "c");
        assert_eq!(m.findings[0].kind, FindingKind::LossyType);
    }
}
