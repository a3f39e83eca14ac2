//! The process environment as an explicit value.
//!
//! Settings depend on environment variables (`$env{VAR}` in DSNs, `BARGE_SOURCE_DSN`,
//! `BARGE_TARGET_DSN`), on the working directory (relative command-line paths) and on the CPU
//! count (default `workers`). Passing them in as one [`Environment`] lets tests run in parallel
//! without touching the real process environment.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{ConfigError, Origin};

type VarLookup = dyn Fn(&str) -> Option<String> + Send + Sync;

/// Environment variables, working directory and CPU count used while building settings.
pub struct Environment {
    vars: Box<VarLookup>,
    cwd: PathBuf,
    cpus: usize,
}

impl Environment {
    /// The real process environment and working directory.
    pub fn from_process() -> Result<Self, ConfigError> {
        let cwd = std::env::current_dir().map_err(|cause| ConfigError::CurrentDir { cause })?;
        Ok(Self::new(cwd, |name| std::env::var(name).ok()))
    }

    /// An environment whose variables come from `vars` (tests pass a closure over a map).
    pub fn new(
        cwd: impl Into<PathBuf>,
        vars: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            vars: Box::new(vars),
            cwd: cwd.into(),
            cpus,
        }
    }

    /// An environment holding exactly these variables.
    pub fn from_vars<K, V>(cwd: impl Into<PathBuf>, vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let map: HashMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self::new(cwd, move |name| map.get(name).cloned())
    }

    /// Overrides the CPU count used for the default `workers`.
    #[must_use]
    pub fn with_cpus(mut self, cpus: usize) -> Self {
        self.cpus = cpus.max(1);
        self
    }

    pub fn var(&self, name: &str) -> Option<String> {
        (self.vars)(name)
    }

    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    pub fn cpus(&self) -> usize {
        self.cpus
    }
}

impl fmt::Debug for Environment {
    // Variable values may be secrets: never print them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environment")
            .field("cwd", &self.cwd)
            .field("cpus", &self.cpus)
            .finish_non_exhaustive()
    }
}

/// Replaces every `$env{VAR}` in `text` by the value of `VAR`.
///
/// Errors name the variable and the key (`field`) but never quote `text`, which is usually a
/// DSN with a password in it.
pub(crate) fn substitute(
    text: &str,
    field: &str,
    origin: &Origin,
    env: &Environment,
) -> Result<String, ConfigError> {
    const OPEN: &str = "$env{";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        let syntax = |message: &str| ConfigError::EnvReference {
            field: field.to_owned(),
            origin: origin.clone(),
            message: message.to_owned(),
        };
        let end = after
            .find('}')
            .ok_or_else(|| syntax("`$env{` has no closing `}`"))?;
        let name = after[..end].trim();
        if !is_var_name(name) {
            return Err(syntax(
                "a variable name is made of letters, digits and `_`, as in `$env{PGPASSWORD}`",
            ));
        }
        let value = env.var(name).ok_or_else(|| ConfigError::MissingEnvVar {
            var: name.to_owned(),
            field: field.to_owned(),
            origin: origin.clone(),
        })?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Environment {
        Environment::from_vars(
            "/work",
            [("PGUSER", "app"), ("PGPASS", "s3cret"), ("EMPTY", "")],
        )
    }

    #[test]
    fn replaces_every_reference() {
        let out = substitute(
            "postgres://$env{PGUSER}:$env{PGPASS}@db/x$env{EMPTY}",
            "target.dsn",
            &Origin::CommandLine,
            &env(),
        )
        .unwrap();
        assert_eq!(out, "postgres://app:s3cret@db/x");
    }

    #[test]
    fn text_without_reference_is_unchanged() {
        let out = substitute("a$env", "f", &Origin::CommandLine, &env()).unwrap();
        assert_eq!(out, "a$env");
    }

    #[test]
    fn unterminated_reference_is_an_error_without_the_text() {
        let err = substitute(
            "postgres://u:topsecret@h/$env{X",
            "target.dsn",
            &Origin::CommandLine,
            &env(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("`target.dsn`"), "{err}");
        assert!(!err.contains("topsecret"), "{err}");
    }

    #[test]
    fn bad_variable_name_is_not_echoed() {
        let err = substitute("$env{pass word}", "f", &Origin::CommandLine, &env())
            .unwrap_err()
            .to_string();
        assert!(!err.contains("pass word"), "{err}");
    }
}
