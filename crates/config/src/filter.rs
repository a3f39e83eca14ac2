//! Table and column filters (`include_tables`, `exclude_tables`, `exclude_columns`).
//!
//! Filters match source names, case-insensitively, as pgferry does. `exact` mode (the default)
//! refuses `*` and `?` so that a pattern is never silently taken as a literal name;
//! `table_filter_mode = "glob"` / `column_filter_mode = "glob"` enable them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, Origin};

/// How filter entries match names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FilterMode {
    /// Whole names, case-insensitive.
    #[default]
    Exact,
    /// `*` (any run of characters) and `?` (one character), case-insensitive.
    Glob,
}

impl FilterMode {
    pub fn as_str(self) -> &'static str {
        match self {
            FilterMode::Exact => "exact",
            FilterMode::Glob => "glob",
        }
    }

    /// Whether filter entry `pattern` matches source name `name`.
    pub fn matches(self, pattern: &str, name: &str) -> bool {
        let pattern: Vec<char> = pattern.chars().flat_map(char::to_lowercase).collect();
        let name: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
        match self {
            FilterMode::Exact => pattern == name,
            FilterMode::Glob => glob_match(&pattern, &name),
        }
    }
}

impl fmt::Display for FilterMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Linear-time wildcard match with backtracking to the last `*`.
fn glob_match(pattern: &[char], name: &[char]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((sp, sn)) = star {
            p = sp + 1;
            n = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Checks filter entries: trimmed, non-empty, no duplicates, wildcards only in glob mode.
/// `columns` adds the `Column` / `Table.Column` shape check.
pub(crate) fn normalize_entries(
    key: &str,
    mode: FilterMode,
    entries: Vec<String>,
    columns: bool,
    origin: &Origin,
) -> Result<Vec<String>, ConfigError> {
    let invalid = |message: String, hint_text: Option<String>| ConfigError::Invalid {
        key: key.to_owned(),
        origin: origin.clone(),
        message,
        hint_text,
    };
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut out = Vec::with_capacity(entries.len());
    for raw in entries {
        let name = raw.trim().to_owned();
        if name.is_empty() {
            return Err(invalid("entries must not be empty".to_owned(), None));
        }
        if columns
            && (name.starts_with('.') || name.ends_with('.') || name.matches('.').count() > 1)
        {
            return Err(invalid(
                format!("entry `{name}` is not `Column` or `Table.Column`"),
                None,
            ));
        }
        match mode {
            FilterMode::Exact if name.contains(['*', '?', '[', ']']) => {
                let mode_key = if columns {
                    "column_filter_mode"
                } else {
                    "table_filter_mode"
                };
                return Err(invalid(
                    format!("entry `{name}` is a pattern, but `{mode_key}` is `exact`"),
                    Some(format!("set `{mode_key} = \"glob\"` to use `*` and `?`")),
                ));
            }
            FilterMode::Glob if name.contains(['[', ']', '\\']) => {
                return Err(invalid(
                    format!(
                        "entry `{name}` is not a supported pattern: only `*` and `?` are wildcards"
                    ),
                    None,
                ));
            }
            _ => {}
        }
        let folded = name.to_lowercase();
        if let Some(previous) = seen.get(&folded) {
            return Err(invalid(
                format!(
                    "entry `{name}` repeats `{previous}` (names are compared case-insensitively)"
                ),
                None,
            ));
        }
        seen.insert(folded, name.clone());
        out.push(name);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_wildcards() {
        let glob = FilterMode::Glob;
        assert!(glob.matches("tmp_*", "TMP_orders"));
        assert!(glob.matches("*_log", "audit_log"));
        assert!(glob.matches("a*b*c", "axxbyyc"));
        assert!(glob.matches("user?", "users"));
        assert!(!glob.matches("user?", "user"));
        assert!(!glob.matches("a*b", "acd"));
        assert!(glob.matches("*", ""));
    }

    #[test]
    fn exact_is_case_insensitive_and_literal() {
        assert!(FilterMode::Exact.matches("Orders", "orders"));
        assert!(!FilterMode::Exact.matches("order", "orders"));
    }

    #[test]
    fn entries_are_checked() {
        let origin = Origin::CommandLine;
        let ok = normalize_entries(
            "include_tables",
            FilterMode::Exact,
            vec![" a ".into(), "b".into()],
            false,
            &origin,
        )
        .unwrap();
        assert_eq!(ok, ["a", "b"]);
        let err = normalize_entries(
            "include_tables",
            FilterMode::Exact,
            vec!["tmp_*".into()],
            false,
            &origin,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "invalid `include_tables` on the command line: entry `tmp_*` is a pattern, but `table_filter_mode` is `exact`\nhint: set `table_filter_mode = \"glob\"` to use `*` and `?`"
        );
        assert!(normalize_entries(
            "exclude_tables",
            FilterMode::Glob,
            vec!["A".into(), "a".into()],
            false,
            &origin
        )
        .is_err());
        assert!(normalize_entries(
            "exclude_columns",
            FilterMode::Exact,
            vec!["a.b.c".into()],
            true,
            &origin
        )
        .is_err());
    }
}
