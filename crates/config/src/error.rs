//! Errors of this crate.
//!
//! Each message says what is wrong, where (key, line and column, file) and, where it helps, a
//! `hint:` line saying what to do. No message ever quotes a DSN, a password or a line of the
//! config file: only key names, positions and file paths. Errors are one `Display` string so the
//! command layer can print them as they are.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Where a setting came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The TOML config file.
    File(PathBuf),
    /// The command line (the binary's flags, passed in [`crate::Overrides`]).
    CommandLine,
    /// An environment variable such as `BARGE_SOURCE_DSN`.
    EnvVar(String),
    /// Two settings that clash, one from the config file and one from the command line.
    FileAndCommandLine(PathBuf),
}

impl Origin {
    /// The origin of a pair of settings.
    pub(crate) fn and(self, other: Origin) -> Origin {
        match (self, other) {
            (a, b) if a == b => a,
            (Origin::File(path), _) | (_, Origin::File(path)) => Origin::FileAndCommandLine(path),
            (a, _) => a,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "in {}", path.display()),
            Origin::CommandLine => f.write_str("on the command line"),
            Origin::EnvVar(name) => write!(f, "in environment variable `{name}`"),
            Origin::FileAndCommandLine(path) => {
                write!(f, "in {} and on the command line", path.display())
            }
        }
    }
}

/// A 1-based line and column in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` in `text`; the column counts characters, not bytes.
    pub(crate) fn of_offset(text: &str, offset: usize) -> Self {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Self {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read the current directory: {cause}")]
    CurrentDir { cause: io::Error },

    #[error("cannot read config file `{}`: {cause}", path.display())]
    ReadConfig { path: PathBuf, cause: io::Error },

    #[error("invalid TOML {}: {message}", at(path, *position))]
    Syntax {
        path: PathBuf,
        position: Option<Position>,
        message: String,
    },

    #[error("unknown key `{key}` {}{}", at(path, *position), hint(suggestion.as_ref().map(|s| format!("did you mean `{s}`?"))))]
    UnknownKey {
        key: String,
        path: PathBuf,
        position: Option<Position>,
        suggestion: Option<String>,
    },

    #[error("invalid value{} {}: {message}", key.as_ref().map(|k| format!(" for `{k}`")).unwrap_or_default(), at(path, *position))]
    InvalidValue {
        key: Option<String>,
        path: PathBuf,
        position: Option<Position>,
        message: String,
    },

    #[error("missing `{key}` {origin}{}", hint(Some(hint_text)))]
    Missing {
        key: String,
        origin: Origin,
        hint_text: String,
    },

    #[error("`{first}` and `{second}` cannot be used together {origin}: {reason}")]
    Conflict {
        first: String,
        second: String,
        origin: Origin,
        reason: String,
    },

    #[error("invalid `{key}` {origin}: {message}{}", hint(hint_text.as_ref()))]
    Invalid {
        key: String,
        origin: Origin,
        message: String,
        hint_text: Option<String>,
    },

    #[error("invalid `$env{{..}}` reference in `{field}` {origin}: {message}")]
    EnvReference {
        field: String,
        origin: Origin,
        message: String,
    },

    #[error("environment variable `{var}` is not set: `{field}` {origin} refers to it{}", hint(Some(format!("export `{var}`, or remove `$env{{{var}}}` from `{field}`"))))]
    MissingEnvVar {
        var: String,
        field: String,
        origin: Origin,
    },

    #[error("`{field}` {origin} names an in-memory SQLite database: there is nothing to migrate from it{}", hint(Some("give the path of the SQLite database file, e.g. `dsn = \"./app.db\"`".to_owned())))]
    SqliteInMemory { field: String, origin: Origin },

    #[error("cannot read credentials file `{}`: {cause}", path.display())]
    ReadCredentials { path: PathBuf, cause: io::Error },

    #[error("invalid credentials file {}: {message}", at(path, *position))]
    CredentialsSyntax {
        path: PathBuf,
        position: Option<Position>,
        message: String,
    },

    #[error("auth id `{id}` is not in credentials file {}{}", path.display(), hint(Some(available_ids(available))))]
    UnknownAuthId {
        id: String,
        path: PathBuf,
        available: Vec<String>,
    },

    #[error("auth id `{id}` in {}: `ds_type` {} is not supported{}", path.display(), shown_word(ds_type), hint(Some(format!("accepted `ds_type` values: {}", crate::DatabaseKind::accepted_ds_types()))))]
    UnsupportedDsType {
        id: String,
        path: PathBuf,
        ds_type: String,
    },

    #[error("auth id `{id}` in {}: `{field}` {message}", path.display())]
    InvalidCredential {
        id: String,
        path: PathBuf,
        field: String,
        message: String,
    },

    #[error("auth id `{id}` in {} is a `{ds_type}` database: the {role} must be {expected}", path.display())]
    WrongDatabaseKind {
        id: String,
        path: PathBuf,
        role: String,
        ds_type: String,
        expected: String,
    },
}

fn at(path: &Path, position: Option<Position>) -> String {
    match position {
        Some(p) => format!(
            "at line {}, column {} of {}",
            p.line,
            p.column,
            path.display()
        ),
        None => format!("in {}", path.display()),
    }
}

fn hint<S: AsRef<str>>(text: Option<S>) -> String {
    text.map(|t| format!("\nhint: {}", t.as_ref()))
        .unwrap_or_default()
}

fn available_ids(ids: &[String]) -> String {
    if ids.is_empty() {
        return "the credentials file has no entries".to_owned();
    }
    let list: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
    format!("available ids: {}", list.join(", "))
}

/// Quotes a value the user typed only when it is a plain word, so that a misplaced secret
/// (say, an `$env{}` reference to the wrong variable) is never echoed.
fn shown_word(value: &str) -> String {
    let plain = !value.is_empty()
        && value.len() <= 32
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        format!("`{value}`")
    } else {
        "value".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::Position;

    #[test]
    fn position_is_one_based_and_counts_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(
            Position::of_offset(text, 0),
            Position { line: 1, column: 1 }
        );
        let offset = text.find("= 2").unwrap();
        assert_eq!(
            Position::of_offset(text, offset),
            Position { line: 2, column: 4 }
        );
    }
}
