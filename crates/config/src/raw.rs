//! The TOML file as written, before defaults and validation.
//!
//! Every field is optional so that "not set" can be told from "set to the default" (needed for
//! precedence and for keys pgferry renamed), and every table denies unknown fields. TOML errors
//! are turned into [`ConfigError`]s that carry the key, line and column but never the text of
//! the line, which may hold a password.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::connection::SourceKind;
use crate::error::{ConfigError, Position};
use crate::filter::FilterMode;
use crate::settings::ChecksumSource;
use crate::settings::{
    Binary16UuidMode, BitMode, CleanOrphansMode, CollationMode, EnumMode, IdentifierCase,
    InvalidValuePolicy, NulByteMode, OnSchemaExists, PartialVisibility, RowReader, SetMode,
    SnapshotMode, SpatialMode, TimeMode, TrackingMode, Validation, ZeroDateMode,
};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub schema: Option<String>,
    pub on_schema_exists: Option<OnSchemaExists>,
    pub allow_recreate_public: Option<bool>,
    pub schema_only: Option<bool>,
    pub data_only: Option<bool>,
    pub truncate_before_copy: Option<bool>,
    pub source_snapshot_mode: Option<SnapshotMode>,
    pub identifier_case: Option<IdentifierCase>,
    /// pgferry's older spelling of `identifier_case` (`true` = snake, `false` = lower).
    pub snake_case_identifiers: Option<bool>,
    pub unlogged_tables: Option<bool>,
    pub preserve_defaults: Option<bool>,
    pub add_unsigned_checks: Option<bool>,
    pub clean_orphans: Option<bool>,
    pub clean_orphans_mode: Option<CleanOrphansMode>,
    pub clean_orphans_max_rows: Option<i64>,
    pub replicate_on_update_current_timestamp: Option<bool>,
    pub workers: Option<i64>,
    pub index_workers: Option<i64>,
    pub maintenance_work_mem: Option<String>,
    pub chunk_size: Option<i64>,
    pub copy_risk_analysis: Option<bool>,
    pub resume: Option<bool>,
    pub validation: Option<Validation>,
    pub checksum_source: Option<ChecksumSource>,
    pub table_filter_mode: Option<FilterMode>,
    pub column_filter_mode: Option<FilterMode>,
    pub include_tables: Option<Vec<String>>,
    pub exclude_tables: Option<Vec<String>>,
    pub exclude_columns: Option<Vec<String>>,
    // barge's own keys.
    pub on_invalid_value: Option<InvalidValuePolicy>,
    pub on_partial_visibility: Option<PartialVisibility>,
    pub reject_file: Option<String>,
    pub nul_byte_mode: Option<NulByteMode>,
    pub auth_file: Option<String>,
    // Tables.
    pub source: Option<RawSource>,
    pub target: Option<RawTarget>,
    pub tracking: Option<RawTracking>,
    pub type_mapping: Option<RawTypeMapping>,
    pub hooks: Option<RawHooks>,
    pub postgis: Option<RawPostGis>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSource {
    #[serde(rename = "type")]
    pub kind: Option<SourceKind>,
    pub dsn: Option<String>,
    pub auth_id: Option<String>,
    pub charset: Option<String>,
    pub source_schema: Option<String>,
    pub row_reader: Option<RowReader>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTarget {
    pub dsn: Option<String>,
    pub auth_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTracking {
    pub dsn: Option<String>,
    pub auth_id: Option<String>,
    pub mode: Option<TrackingMode>,
    pub project: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTypeMapping {
    pub unknown_as_text: Option<bool>,
    pub json_as_jsonb: Option<bool>,
    pub datetime_as_timestamptz: Option<bool>,
    pub sanitize_json_null_bytes: Option<bool>,
    pub tinyint1_as_boolean: Option<bool>,
    pub binary16_as_uuid: Option<bool>,
    pub binary16_uuid_mode: Option<Binary16UuidMode>,
    pub string_uuid_as_uuid: Option<bool>,
    pub varchar_as_text: Option<bool>,
    pub widen_unsigned_integers: Option<bool>,
    pub enum_mode: Option<EnumMode>,
    pub set_mode: Option<SetMode>,
    pub bit_mode: Option<BitMode>,
    pub time_mode: Option<TimeMode>,
    pub zero_date_mode: Option<ZeroDateMode>,
    pub spatial_mode: Option<SpatialMode>,
    pub collation_mode: Option<CollationMode>,
    pub collation_map: Option<BTreeMap<String, String>>,
    pub ci_as_citext: Option<bool>,
    pub nvarchar_as_text: Option<bool>,
    pub money_as_numeric: Option<bool>,
    pub xml_as_text: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHooks {
    pub before_data: Option<Vec<String>>,
    pub after_data: Option<Vec<String>>,
    pub before_fk: Option<Vec<String>>,
    pub after_all: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPostGis {
    pub enabled: Option<bool>,
    pub create_extension: Option<bool>,
}

/// Parses the TOML text of the file at `path`.
pub(crate) fn parse(text: &str, path: &Path) -> Result<RawConfig, ConfigError> {
    toml::from_str(text).map_err(|err| convert_error(&err, text, path))
}

fn convert_error(err: &toml::de::Error, text: &str, path: &Path) -> ConfigError {
    // `message()` is the bare message; `Display` would add the offending source line.
    let message = err.message().trim().replace('\n', "; ");
    let offset = err.span().map(|span| span.start);
    let position = offset.map(|o| Position::of_offset(text, o));
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let expected: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
        let key = offset.map_or_else(|| name.to_owned(), |o| qualified_key(text, o, name));
        return ConfigError::UnknownKey {
            key,
            path: path.to_path_buf(),
            position,
            suggestion: closest(name, &expected).map(str::to_owned),
        };
    }
    let is_value_error = [
        "invalid type",
        "invalid value",
        "unknown variant",
        "invalid length",
    ]
    .iter()
    .any(|p| message.starts_with(p));
    if is_value_error {
        // Name TOML types, not Rust ones.
        let message = ["i64", "u64", "usize"].iter().fold(message, |m, t| {
            m.replace(&format!("expected {t}"), "expected an integer")
        });
        return ConfigError::InvalidValue {
            key: offset.and_then(|o| key_of_value(text, o)),
            path: path.to_path_buf(),
            position,
            message,
        };
    }
    ConfigError::Syntax {
        path: path.to_path_buf(),
        position,
        message,
    }
}

/// The dotted name of the table header (`[a.b]` or `[[a.b]]`) on `line`, if it is one.
fn header_of(line: &str) -> Option<String> {
    let line = line.split('#').next().unwrap_or_default().trim();
    let inner = line
        .strip_prefix("[[")
        .and_then(|l| l.strip_suffix("]]"))
        .or_else(|| line.strip_prefix('[').and_then(|l| l.strip_suffix(']')))?;
    let plain = inner
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ' ' | '"' | '\''));
    plain.then(|| {
        inner
            .split('.')
            .map(|part| part.trim().trim_matches(['"', '\'']))
            .collect::<Vec<_>>()
            .join(".")
    })
}

/// The line of `text` holding byte `offset`, and the lines before it.
fn split_at_line(text: &str, offset: usize) -> (&str, &str) {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    (&text[..start], &text[start..end])
}

/// The table header in force at the start of `line_start`.
fn enclosing_table(before: &str) -> Option<String> {
    before.lines().rev().find_map(header_of)
}

fn join_key(table: Option<String>, key: &str) -> String {
    match table {
        Some(table) if !table.is_empty() => format!("{table}.{key}"),
        _ => key.to_owned(),
    }
}

/// Full dotted name of unknown key `name` whose span starts at `offset`.
fn qualified_key(text: &str, offset: usize, name: &str) -> String {
    let (before, line) = split_at_line(text, offset);
    if let Some(header) = header_of(line) {
        // The unknown key is a table: its header already spells the full name.
        return header;
    }
    let written = line
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| {
            k.rsplit('.')
                .next()
                .map(|last| last.trim().trim_matches(['"', '\'']))
                == Some(name)
        })
        .map(|k| {
            k.split('.')
                .map(|p| p.trim().trim_matches(['"', '\'']))
                .collect::<Vec<_>>()
                .join(".")
        })
        .unwrap_or_else(|| {
            // Inside an inline table (`source = { dsnn = "x" }`): prefix the outer key.
            let column = offset - before.len();
            let head = line.get(..column).unwrap_or_default();
            match head.split_once('=') {
                Some((outer, rest)) if rest.contains('{') => {
                    format!("{}.{name}", outer.trim().trim_matches(['"', '\'']))
                }
                _ => name.to_owned(),
            }
        });
    join_key(enclosing_table(before), &written)
}

/// Full dotted name of the key whose value starts at `offset`, when it is on the same line.
fn key_of_value(text: &str, offset: usize) -> Option<String> {
    let (before, line) = split_at_line(text, offset);
    let column = offset - before.len();
    let (key, _) = line.get(..column)?.split_once('=')?;
    let key = key.trim();
    if key.is_empty() || key.starts_with('#') {
        return None;
    }
    let key = key
        .split('.')
        .map(|p| p.trim().trim_matches(['"', '\'']))
        .collect::<Vec<_>>()
        .join(".");
    Some(join_key(enclosing_table(before), &key))
}

/// The expected key closest to a misspelt one, if any is close enough to be a likely typo.
fn closest<'a>(name: &str, expected: &[&'a str]) -> Option<&'a str> {
    let squash = |s: &str| s.replace(['_', '-'], "").to_lowercase();
    expected
        .iter()
        .map(|&candidate| {
            let distance = if squash(candidate) == squash(name) {
                0
            } else {
                levenshtein(name, candidate)
            };
            (distance, candidate)
        })
        .filter(|&(distance, candidate)| distance <= (candidate.chars().count() / 3).max(1))
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| candidate)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == cb {
                previous
            } else {
                1 + previous.min(row[j]).min(row[j + 1])
            };
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert_eq!(header_of("[type_mapping]").as_deref(), Some("type_mapping"));
        assert_eq!(
            header_of(" [ type_mapping . \"collation_map\" ] # x").as_deref(),
            Some("type_mapping.collation_map")
        );
        assert_eq!(header_of("[\"a\", \"b\"],"), None);
    }

    #[test]
    fn suggestions() {
        let keys = ["chunk_size", "schema", "workers"];
        assert_eq!(closest("chunksize", &keys), Some("chunk_size"));
        assert_eq!(closest("worker", &keys), Some("workers"));
        assert_eq!(closest("colour", &keys), None);
    }
}
