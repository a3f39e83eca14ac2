//! Table and column filters (`include_tables`, `exclude_tables`, `exclude_columns`).
//!
//! Filters compare names as the source database compares them ([`NameCase`]): SQLite
//! identifiers are case-insensitive for ASCII letters; MySQL/MariaDB column names are
//! case-insensitive, table names case-sensitive on a server with `lower_case_table_names = 0`
//! (the default on Linux, where `Users` and `users` are two tables) and case-insensitive
//! otherwise. Treating `Users` and `users` alike where the source does not would migrate a
//! table the user did not name, so exact entries match only what the source would.
//! `exact` mode (the default) refuses `*` and `?` so that a pattern is never silently taken
//! as a literal name; `table_filter_mode = "glob"` / `column_filter_mode = "glob"` enable
//! them, and globs follow the same case rule.
//!
//! An entry that matches nothing is almost always a typo, so callers refuse to run
//! ([`crate::Settings::unmatched_filters`]), with near matches ([`near_matches`]) as a hint.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::connection::SourceKind;
use crate::error::{ConfigError, Origin};

/// How filter entries match names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FilterMode {
    /// Whole names, compared as the source compares them.
    #[default]
    Exact,
    /// `*` (any run of characters) and `?` (one character), under the same case rule.
    Glob,
}

impl FilterMode {
    pub fn as_str(self) -> &'static str {
        match self {
            FilterMode::Exact => "exact",
            FilterMode::Glob => "glob",
        }
    }

    /// Whether filter entry `pattern` matches source name `name` under the source's `case`.
    pub fn matches(self, pattern: &str, name: &str, case: NameCase) -> bool {
        let pattern = case.fold(pattern);
        let name = case.fold(name);
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

/// How a source compares one kind of name (tables, or columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameCase {
    /// Byte for byte (MySQL/MariaDB table names with `lower_case_table_names = 0`).
    Sensitive,
    /// ASCII letters without case, other characters exactly (SQLite identifiers).
    AsciiInsensitive,
    /// Without case, Unicode lower-casing (MySQL column names; table names with
    /// `lower_case_table_names` 1 or 2; SQL Server's default collations).
    Insensitive,
}

impl NameCase {
    fn fold(self, text: &str) -> Vec<char> {
        match self {
            NameCase::Sensitive => text.chars().collect(),
            NameCase::AsciiInsensitive => text.chars().map(|c| c.to_ascii_lowercase()).collect(),
            NameCase::Insensitive => text.chars().flat_map(char::to_lowercase).collect(),
        }
    }

    /// Whether two names are the same name to the source.
    pub fn same(self, a: &str, b: &str) -> bool {
        self.fold(a) == self.fold(b)
    }

    /// Words for messages: `case-sensitively` or `case-insensitively`.
    pub fn describe(self) -> &'static str {
        match self {
            NameCase::Sensitive => "case-sensitively",
            NameCase::AsciiInsensitive | NameCase::Insensitive => "case-insensitively",
        }
    }
}

/// How a source compares table names and column names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NameRules {
    pub tables: NameCase,
    pub columns: NameCase,
}

impl NameRules {
    /// What is known before connecting: MySQL/MariaDB table names are taken as
    /// case-sensitive (the server's `lower_case_table_names` refines this once connected).
    pub fn for_source(kind: SourceKind) -> NameRules {
        match kind {
            SourceKind::Sqlite => NameRules {
                tables: NameCase::AsciiInsensitive,
                columns: NameCase::AsciiInsensitive,
            },
            SourceKind::Mysql | SourceKind::Mariadb => NameRules {
                tables: NameCase::Sensitive,
                columns: NameCase::Insensitive,
            },
            SourceKind::Mssql => NameRules {
                tables: NameCase::Insensitive,
                columns: NameCase::Insensitive,
            },
        }
    }
}

/// Names among `candidates` the user may have meant by `entry`, which matched none of them:
/// first those that differ only in case (when the source tells case apart), then those a
/// typo or two away; at most three.
pub fn near_matches(
    entry: &str,
    mode: FilterMode,
    candidates: &[&str],
    case: NameCase,
) -> Vec<String> {
    let mut found: Vec<(usize, String)> = Vec::new();
    let mut push = |rank: usize, name: &str| {
        if !found.iter().any(|(_, n)| n == name) {
            found.push((rank, name.to_string()));
        }
    };
    for name in candidates {
        if mode.matches(entry, name, NameCase::Insensitive) && !mode.matches(entry, name, case) {
            push(0, name);
        }
    }
    if mode == FilterMode::Exact {
        let entry_folded: Vec<char> = NameCase::Insensitive.fold(entry);
        let limit = (entry_folded.len() / 4).clamp(1, 3);
        for name in candidates {
            let distance = edit_distance(&entry_folded, &NameCase::Insensitive.fold(name));
            if distance > 0 && distance <= limit {
                push(distance, name);
            }
        }
    }
    found.sort_by_key(|(rank, _)| *rank);
    found.into_iter().take(3).map(|(_, n)| n).collect()
}

/// Levenshtein distance.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            current[j + 1] = (previous[j] + cost)
                .min(previous[j + 1] + 1)
                .min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
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

/// Checks filter entries: trimmed, non-empty, no duplicates (as the source compares names:
/// `Users` and `users` are two entries for a MySQL source), wildcards only in glob mode.
/// `columns` adds the `Column` / `Table.Column` shape check.
pub(crate) fn normalize_entries(
    key: &str,
    mode: FilterMode,
    entries: Vec<String>,
    columns: bool,
    rules: NameRules,
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
        let folded: String = match (columns, name.split_once('.')) {
            (true, Some((t, c))) => {
                let mut f: String = rules.tables.fold(t).into_iter().collect();
                f.push('.');
                f.extend(rules.columns.fold(c));
                f
            }
            (true, None) => rules.columns.fold(&name).into_iter().collect(),
            (false, _) => rules.tables.fold(&name).into_iter().collect(),
        };
        if let Some(previous) = seen.get(&folded) {
            let how = if previous == &name {
                String::new()
            } else {
                format!(
                    " (the source compares these names {})",
                    if columns { rules.columns } else { rules.tables }.describe()
                )
            };
            return Err(invalid(
                format!("entry `{name}` repeats `{previous}`{how}"),
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

    const CI: NameCase = NameCase::AsciiInsensitive;

    fn sqlite() -> NameRules {
        NameRules::for_source(SourceKind::Sqlite)
    }

    #[test]
    fn glob_wildcards() {
        let glob = FilterMode::Glob;
        assert!(glob.matches("tmp_*", "TMP_orders", CI));
        assert!(!glob.matches("tmp_*", "TMP_orders", NameCase::Sensitive));
        assert!(glob.matches("*_log", "audit_log", CI));
        assert!(glob.matches("a*b*c", "axxbyyc", CI));
        assert!(glob.matches("user?", "users", CI));
        assert!(!glob.matches("user?", "user", CI));
        assert!(!glob.matches("a*b", "acd", CI));
        assert!(glob.matches("*", "", CI));
    }

    #[test]
    fn exact_follows_the_source_case_rule() {
        assert!(FilterMode::Exact.matches("Orders", "orders", CI));
        assert!(!FilterMode::Exact.matches("order", "orders", CI));
        assert!(!FilterMode::Exact.matches("Users", "users", NameCase::Sensitive));
        assert!(FilterMode::Exact.matches("Users", "Users", NameCase::Sensitive));
        // SQLite folds ASCII only; MySQL column names fold Unicode.
        assert!(!FilterMode::Exact.matches("É", "é", CI));
        assert!(FilterMode::Exact.matches("É", "é", NameCase::Insensitive));
    }

    #[test]
    fn near_matches_show_other_cases_then_typos() {
        let names = ["Users", "users", "orders", "customers"];
        assert_eq!(
            near_matches("USERS", FilterMode::Exact, &names, NameCase::Sensitive),
            ["Users", "users"]
        );
        assert_eq!(
            near_matches("custmers", FilterMode::Exact, &names, CI),
            ["customers"]
        );
        assert!(near_matches("zzz", FilterMode::Exact, &names, CI).is_empty());
        assert_eq!(
            near_matches("User*", FilterMode::Glob, &names, NameCase::Sensitive),
            ["users"]
        );
    }

    #[test]
    fn entries_are_checked() {
        let origin = Origin::CommandLine;
        let ok = normalize_entries(
            "include_tables",
            FilterMode::Exact,
            vec![" a ".into(), "b".into()],
            false,
            sqlite(),
            &origin,
        )
        .unwrap();
        assert_eq!(ok, ["a", "b"]);
        let err = normalize_entries(
            "include_tables",
            FilterMode::Exact,
            vec!["tmp_*".into()],
            false,
            sqlite(),
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
            sqlite(),
            &origin
        )
        .is_err());
        // Two tables on MySQL, one column.
        let mysql = NameRules::for_source(SourceKind::Mysql);
        assert!(normalize_entries(
            "include_tables",
            FilterMode::Exact,
            vec!["Users".into(), "users".into()],
            false,
            mysql,
            &origin
        )
        .is_ok());
        assert!(normalize_entries(
            "exclude_columns",
            FilterMode::Exact,
            vec!["Users.Note".into(), "Users.note".into()],
            true,
            mysql,
            &origin
        )
        .is_err());
        assert!(normalize_entries(
            "exclude_columns",
            FilterMode::Exact,
            vec!["a.b.c".into()],
            true,
            sqlite(),
            &origin
        )
        .is_err());
    }
}
