//! `checksum_source = "database"` for MySQL-family sources: every value's canonical text
//! (see `barge_model::checksum`), its framing, the row's MD5 and the per-bucket sums are
//! computed by the server in SQL from its own values; only bucket sums cross the wire (and,
//! for differing buckets, keys with hashes, then the first differing rows). Nothing here goes
//! through barge's encoders (`encode.rs`), so a conversion defect there shows as a difference.
//!
//! Numbers are laid out by MariaDB's `JSON_NORMALIZE` (`1.5E0`), which the PostgreSQL side
//! reproduces, and jsonb is compared in `JSON_NORMALIZE`'s form: MariaDB 10.7 or later is
//! needed (MySQL has no `JSON_NORMALIZE`; its float and JSON texts differ from PostgreSQL's).

use crate::chunk::{base_type, chunk_key, collations};
use crate::types::is_spatial;
use crate::{quote_ident, MysqlError, MysqlSource};
use barge_config::{NulByteMode, ZeroDateMode};
use barge_model::checksum::{self, CanonicalTable, ChecksumAnswer, ChecksumAsk};
use barge_model::{Column, DataType, KeyRange, Table};
use mysql_async::prelude::Queryable;

/// A negative-zero number token in JSON text: jsonb has no `-0`, so such a value cannot be
/// loaded unchanged (`JSON_NORMALIZE` reads it as 0: it is marked instead).
const NEGATIVE_ZERO: &str =
    r"'(^|[[:space:],:\\[])-0(\\.0+)?([eE][-+]?[0-9]+)?([[:space:],}\\]]|$)'";

struct Rules {
    zero_null: bool,
    nul: Option<NulByteMode>,
    swap_uuid: bool,
}

/// The condition under which a non-NULL value of `col` compares as NULL (a zero date under
/// `zero_date_mode = "null"`).
fn null_when(col: &Column, rules: &Rules) -> Option<String> {
    let c = quote_ident(&col.name);
    (rules.zero_null
        && matches!(
            col.data_type,
            DataType::Date | DataType::Timestamp(_) | DataType::Timestamptz(_)
        ))
    .then(|| format!("MONTH({c}) = 0 OR DAYOFMONTH({c}) = 0"))
}

/// The SQL of the canonical text of column `col` (NULL where the server gives it none), and
/// the policy it applies, if any.
fn column_sql(col: &Column, rules: &Rules) -> Option<(String, Option<String>)> {
    use DataType as T;
    let c = quote_ident(&col.name);
    let base = base_type(&col.source_type);
    let unsigned = col.source_type.to_ascii_lowercase().contains("unsigned");
    let utf8 = |e: &str| format!("CONVERT({e} USING utf8mb4)");
    let zero = |e: String| -> (String, Option<String>) {
        let zero = format!("(MONTH({c}) = 0 OR DAYOFMONTH({c}) = 0)");
        if rules.zero_null {
            (
                format!("IF({zero}, NULL, {e})"),
                Some(format!(
                    "column `{}`: zero dates compared as NULL (zero_date_mode = \"null\")",
                    col.name
                )),
            )
        } else {
            (format!("IF({zero}, NULL, {e})"), None)
        }
    };
    let ewkb = || {
        let w = format!("SUBSTR(HEX({c}), 9)");
        format!(
            "LOWER(IF(ST_SRID({c}) = 0, {w}, CONCAT(SUBSTR({w}, 1, 8), '20', SUBSTR(HEX({c}), 1, 8), SUBSTR({w}, 11))))"
        )
    };
    Some(match &col.data_type {
        T::Bool => (
            format!("CASE ({c} + 0) WHEN 0 THEN 'f' WHEN 1 THEN 't' END"),
            Some(format!(
                "column `{}`: {} read as boolean (0 false, 1 true; any other value differs)",
                col.name, col.source_type
            )),
        ),
        T::Int2 | T::Int4 | T::Int8 => (
            format!("CAST({c} + 0 AS CHAR)"),
            (unsigned || base == "year" || base == "bit").then(|| {
                format!(
                    "column `{}`: {} compared as its integer value ({})",
                    col.name, col.source_type, col.data_type
                )
            }),
        ),
        T::Numeric { .. } => (
            format!("JSON_NORMALIZE(CAST({c} AS CHAR))"),
            unsigned.then(|| {
                format!(
                    "column `{}`: {} widened to {}",
                    col.name, col.source_type, col.data_type
                )
            }),
        ),
        T::Float4 | T::Float8 => (
            format!("JSON_NORMALIZE(CAST({c} + 0e0 AS CHAR))"),
            None,
        ),
        T::Text | T::Varchar(_) | T::Char(_) | T::Citext if is_spatial(&base) => (
            utf8(&format!(
                "IF(ST_SRID({c}) = 0, ST_AsText({c}), CONCAT('SRID=', ST_SRID({c}), ';', ST_AsText({c})))"
            )),
            Some(format!(
                "column `{}`: geometry compared as WKT, with `SRID=n;` before it when its SRID is not 0",
                col.name
            )),
        ),
        T::Text | T::Varchar(_) | T::Char(_) | T::Citext | T::Enum { .. } | T::Json => {
            let text = utf8(&c);
            match rules.nul {
                Some(NulByteMode::Strip) => (
                    format!("REPLACE({text}, _utf8mb4 X'00', '')"),
                    Some(format!("column `{}`: NUL bytes removed (nul_byte_mode = \"strip\")", col.name)),
                ),
                Some(NulByteMode::Replace) => (
                    format!("REPLACE({text}, _utf8mb4 X'00', _utf8mb4 X'EFBFBD')"),
                    Some(format!(
                        "column `{}`: NUL bytes replaced by U+FFFD (nul_byte_mode = \"replace\")",
                        col.name
                    )),
                ),
                _ => (text, None),
            }
        }
        T::Jsonb => (
            format!(
                "IF({c} REGEXP {NEGATIVE_ZERO}, CONCAT(JSON_NORMALIZE({c}), ' (-0)'), JSON_NORMALIZE({c}))"
            ),
            Some(format!(
                "column `{}`: JSON compared as JSON_NORMALIZE writes it (keys sorted, duplicates kept, numbers as 1.5E0); a -0 differs (jsonb has none)",
                col.name
            )),
        ),
        T::TextArray => (
            format!(
                "IF({c} = '', '0:', CONCAT(LENGTH({c}) - LENGTH(REPLACE({c}, ',', '')) + 1, ':', {}))",
                utf8(&c)
            ),
            None,
        ),
        T::Bytea | T::Geometry { .. } if is_spatial(&base) => (
            ewkb(),
            None,
        ),
        T::Bytea if base == "bit" => {
            // BIT(n) as bytea: its ceil(n / 8) bytes, right-aligned as the server stores them.
            let bits: u32 = col
                .source_type
                .split(['(', ')'])
                .nth(1)
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or(1);
            (
                format!("LOWER(LPAD(HEX({c} + 0), {}, '0'))", 2 * bits.div_ceil(8)),
                None,
            )
        }
        T::Bytea => (format!("LOWER(HEX({c}))"), None),
        T::Date => zero(format!("DATE_FORMAT({c}, '%Y-%m-%d')")),
        T::Timestamp(_) | T::Timestamptz(_) => {
            let (sql, zero_policy) = zero(format!("DATE_FORMAT({c}, '%Y-%m-%d %H:%i:%s.%f')"));
            let utc = (matches!(col.data_type, T::Timestamptz(_)) && base == "datetime").then(|| {
                format!(
                    "column `{}`: DATETIME read as UTC (datetime_as_timestamptz)",
                    col.name
                )
            });
            (sql, zero_policy.or(utc))
        }
        T::Time(_) => (
            format!("CONCAT(TIME_FORMAT({c}, '%H:%i:%s'), '.', LPAD(MICROSECOND({c}), 6, '0'))"),
            None,
        ),
        T::Interval => (
            format!(
                "CONCAT(IF({c} < TIME'00:00:00', '-', ''), ((HOUR({c}) * 60 + MINUTE({c})) * 60 + SECOND({c})) * 1000000 + MICROSECOND({c}))"
            ),
            None,
        ),
        T::Bit(width) | T::Varbit(width) => {
            (format!("LPAD(BIN({c} + 0), {width}, '0')"), None)
        }
        T::Inet => (format!("CAST({c} AS CHAR)"), None),
        T::Uuid if base == "uuid" => (format!("CAST({c} AS CHAR)"), None),
        T::Uuid if base == "binary" => {
            let h = format!("LOWER(HEX({c}))");
            let parts = if rules.swap_uuid {
                format!("SUBSTR({h}, 9, 8), SUBSTR({h}, 5, 4), SUBSTR({h}, 1, 4)")
            } else {
                format!("SUBSTR({h}, 1, 8), SUBSTR({h}, 9, 4), SUBSTR({h}, 13, 4)")
            };
            (
                format!("CONCAT_WS('-', {parts}, SUBSTR({h}, 17, 4), SUBSTR({h}, 21))"),
                Some(format!(
                    "column `{}`: 16 bytes read as a UUID{}",
                    col.name,
                    if rules.swap_uuid { " stored by UUID_TO_BIN(u, 1)" } else { "" }
                )),
            )
        }
        T::Uuid => (
            format!(
                "IF({c} REGEXP '^[0-9a-fA-F]{{8}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{12}}$', LOWER({}), NULL)",
                utf8(&c)
            ),
            Some(format!(
                "column `{}`: UUID text compared in lower case; any other spelling differs",
                col.name
            )),
        ),
        T::Geometry { .. } => return None,
    })
}

/// `part` of a framed value (see `barge_model::checksum`) for column `c` with canonical text
/// `v`.
fn framed(c: &str, v: &str, null_when: Option<String>) -> String {
    let null = match null_when {
        Some(w) => format!("{c} IS NULL OR {w}"),
        None => format!("{c} IS NULL"),
    };
    format!(
        "IF({null}, '\\\\N', IFNULL(CONCAT(LENGTH({v}), ':', {v}), CONCAT('!', LENGTH(HEX({c})) + 3, ':', 'x''', HEX({c}), '''')))"
    )
}

impl MysqlSource {
    /// How this server renders `table` canonically; an error when it cannot
    /// (`JSON_NORMALIZE` is MariaDB 10.7's).
    pub fn canonical_table(&self, table: &Table) -> Result<CanonicalTable, String> {
        let version: Vec<u32> = self
            .server_version()
            .split(['.', '-'])
            .take(2)
            .map(|p| p.parse().unwrap_or(0))
            .collect();
        if self.flavor() != crate::Flavor::Mariadb || version < vec![10, 7] {
            return Err(format!(
                "checksum_source = \"database\" needs MariaDB 10.7 or later (JSON_NORMALIZE), and the source is {}",
                self.server_version()
            ));
        }
        let rules = {
            let state = self.lock_state();
            Rules {
                zero_null: state.zero_date_mode == Some(ZeroDateMode::Null),
                nul: state.nul_byte_mode,
                swap_uuid: state.binary16_swap,
            }
        };
        let mut out = CanonicalTable::default();
        for (i, col) in table.columns.iter().enumerate() {
            match column_sql(col, &rules) {
                Some((sql, policy)) => {
                    out.compared.push(i);
                    out.exprs.push(framed(
                        &quote_ident(&col.name),
                        &sql,
                        null_when(col, &rules),
                    ));
                    out.policies.extend(policy);
                }
                None => out.not_compared.push(format!(
                    "column `{}` ({}): no canonical form in MariaDB's SQL",
                    col.name, col.data_type
                )),
            }
        }
        out.key = checksum::locating_key(table, &out.compared);
        Ok(out)
    }

    /// Answer one checksum question about `table`, within `range` (the whole table when it is
    /// whole), in the server's SQL.
    pub async fn checksum(
        &self,
        table: &Table,
        canon: &CanonicalTable,
        range: &KeyRange,
        ask: &ChecksumAsk,
    ) -> Result<ChecksumAnswer, MysqlError> {
        let row = if canon.exprs.is_empty() {
            "''".to_string()
        } else {
            format!("CONCAT_WS('|', {})", canon.exprs.join(", "))
        };
        let key = if canon.key.is_empty() {
            row.clone()
        } else {
            let parts: Vec<&str> = canon.key.iter().map(|k| canon.exprs[*k].as_str()).collect();
            format!("CONCAT_WS('|', {})", parts.join(", "))
        };
        let (buckets, of) = match ask {
            ChecksumAsk::Buckets(n) => (*n, None),
            ChecksumAsk::Hashes { buckets, of } | ChecksumAsk::Rows { buckets, of } => {
                (*buckets, Some(of))
            }
        };
        let bucket = if buckets <= 1 {
            "0".to_string()
        } else {
            format!("CONV(LEFT(MD5(k), 8), 16, 10) % {buckets}")
        };
        let hash = "CAST(CONV(LEFT(MD5(r), 16), 16, 10) AS UNSIGNED)";
        let mut from = format!("{} ", quote_ident(&table.name));
        if !range.is_whole() {
            let collations = collations(self, &table.name).await?;
            let ck = chunk_key(table, Some(&collations)).ok_or_else(|| MysqlError::BadRange {
                table: table.name.clone(),
                why: "the table has no key to bound a chunk by".into(),
            })?;
            from.push_str(&ck.where_clause(range).map_err(|why| MysqlError::BadRange {
                table: table.name.clone(),
                why,
            })?);
        }
        let inner = format!("SELECT {key} AS k, {row} AS r FROM {from}");
        let filter = match of {
            Some(of) if buckets > 1 => format!(
                " WHERE {bucket} IN ({})",
                of.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
            ),
            _ => String::new(),
        };
        let sql = match ask {
            ChecksumAsk::Buckets(1) => format!(
                "SELECT 0, COUNT(*), CAST(IFNULL(SUM({hash}), 0) AS CHAR) FROM ({inner}) s"
            ),
            ChecksumAsk::Buckets(_) => format!(
                "SELECT {bucket} AS b, COUNT(*), CAST(SUM({hash}) AS CHAR) FROM ({inner}) s GROUP BY b"
            ),
            ChecksumAsk::Hashes { .. } => {
                format!("SELECT k, CAST({hash} AS CHAR) FROM ({inner}) s{filter}")
            }
            ChecksumAsk::Rows { .. } => format!("SELECT k, r FROM ({inner}) s{filter}"),
        };
        let mut conn = self.conn_for_table(&table.name).await?;
        let err = |source| MysqlError::Read {
            table: table.name.clone(),
            source,
        };
        let rows: Vec<mysql_async::Row> = conn.query(&sql).await.map_err(err)?;
        let bytes = |r: &mysql_async::Row, i: usize| -> Vec<u8> {
            match r.as_ref(i) {
                Some(mysql_async::Value::Bytes(b)) => b.clone(),
                Some(mysql_async::Value::Int(n)) => n.to_string().into_bytes(),
                Some(mysql_async::Value::UInt(n)) => n.to_string().into_bytes(),
                _ => Vec::new(),
            }
        };
        let number = |r: &mysql_async::Row, i: usize| -> u64 {
            String::from_utf8_lossy(&bytes(r, i))
                .parse::<u128>()
                .map_or(0, |n| n as u64)
        };
        let mut answer = ChecksumAnswer::default();
        for r in &rows {
            match ask {
                ChecksumAsk::Buckets(_) => {
                    answer
                        .buckets
                        .push((number(r, 0), number(r, 1), number(r, 2)))
                }
                ChecksumAsk::Hashes { .. } => answer.hashes.push((bytes(r, 0), number(r, 1))),
                ChecksumAsk::Rows { .. } => answer.rows.push((bytes(r, 0), bytes(r, 1))),
            }
        }
        Ok(answer)
    }
}
