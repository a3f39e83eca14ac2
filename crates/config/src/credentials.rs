//! The credentials file, in MigratorXpress's format.
//!
//! A JSON object whose keys are auth ids:
//!
//! ```json
//! { "tgt": { "ds_type": "postgres", "auth_mode": "classic",
//!            "info": { "username": "app", "password": "$env{PGPASSWORD}",
//!                      "server": "db", "port": 5432, "database": "sales" } } }
//! ```
//!
//! Keeping credentials out of the TOML lets the migration file be committed while secrets stay
//! in one file (or in the environment through `$env{VAR}`). The file is read as untyped JSON and
//! checked by hand, so that no error ever quotes a value from it, and only the entries a run
//! uses are checked: a shared file may hold entries for databases barge does not handle.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::connection::{sqlite_file, Connection, DatabaseKind};
use crate::env::{substitute, Environment};
use crate::error::{ConfigError, Origin, Position};
use crate::secret::Secret;

/// A parsed credentials file. `Debug` lists the ids, never the entries.
pub struct Credentials {
    path: PathBuf,
    entries: BTreeMap<String, Value>,
}

/// One resolved credentials entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub id: String,
    pub kind: DatabaseKind,
    pub connection: Connection,
}

impl Credentials {
    /// Reads and parses the file at `path` (absolute, or relative to the process directory).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::ReadCredentials {
            path: path.to_path_buf(),
            cause,
        })?;
        Self::parse(&text, path)
    }

    /// Parses credentials JSON; `path` names the file in errors and anchors relative
    /// `filepath`s.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let value: Value =
            serde_json::from_str(text).map_err(|err| ConfigError::CredentialsSyntax {
                path: path.to_path_buf(),
                position: (err.line() > 0).then(|| Position {
                    line: err.line(),
                    column: err.column(),
                }),
                // serde_json's syntax messages describe the grammar, never the input; the
                // position is dropped from the text because it is in `position`.
                message: err
                    .to_string()
                    .split(" at line ")
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            })?;
        let Value::Object(map) = value else {
            return Err(ConfigError::CredentialsSyntax {
                path: path.to_path_buf(),
                position: None,
                message: "expected a JSON object whose keys are auth ids".to_owned(),
            });
        };
        Ok(Self {
            path: path.to_path_buf(),
            entries: map.into_iter().collect(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The auth ids in the file, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// Checks entry `id` and turns it into a connection, replacing `$env{VAR}` references.
    pub fn resolve(&self, id: &str, env: &Environment) -> Result<Credential, ConfigError> {
        let entry = self
            .entries
            .get(id)
            .ok_or_else(|| ConfigError::UnknownAuthId {
                id: id.to_owned(),
                path: self.path.clone(),
                available: self.entries.keys().cloned().collect(),
            })?;
        let reader = EntryReader {
            id,
            path: &self.path,
            env,
        };
        let entry = reader.object(entry, "")?;
        let ds_type = reader
            .string(entry, "ds_type")?
            .ok_or_else(|| reader.invalid("ds_type", "is missing"))?;
        let kind = DatabaseKind::from_ds_type(ds_type.trim()).ok_or_else(|| {
            ConfigError::UnsupportedDsType {
                id: id.to_owned(),
                path: self.path.clone(),
                ds_type: ds_type.trim().to_owned(),
            }
        })?;
        if let Some(mode) = reader.string(entry, "auth_mode")? {
            if mode.trim() != "classic" {
                return Err(reader.invalid(
                    "auth_mode",
                    "is not supported: barge reads `classic` entries (username and password)",
                ));
            }
        }
        let info = entry
            .get("info")
            .ok_or_else(|| reader.invalid("info", "is missing"))?;
        let info = reader.object(info, "info")?;

        let connection = if kind == DatabaseKind::Sqlite {
            let filepath = reader
                .string(info, "info.filepath")?
                .ok_or_else(|| reader.invalid("info.filepath", "is missing"))?;
            let dir = self.path.parent().unwrap_or(Path::new(""));
            let origin = Origin::File(self.path.clone());
            Connection::SqliteFile(sqlite_file(
                &filepath,
                dir,
                &format!("{id}.info.filepath"),
                &origin,
            )?)
        } else {
            let required = |key: &str| -> Result<String, ConfigError> {
                reader
                    .string(info, key)?
                    .filter(|v| !v.trim().is_empty())
                    .ok_or_else(|| reader.invalid(key, "is missing"))
            };
            Connection::Fields {
                server: required("info.server")?.trim().to_owned(),
                port: reader.port(info)?,
                username: required("info.username")?,
                password: Secret::new(reader.string(info, "info.password")?.unwrap_or_default()),
                database: required("info.database")?,
            }
        };
        Ok(Credential {
            id: id.to_owned(),
            kind,
            connection,
        })
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("path", &self.path)
            .field("ids", &self.entries.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Reads fields of one entry; every error names the entry and key, never the value.
struct EntryReader<'a> {
    id: &'a str,
    path: &'a Path,
    env: &'a Environment,
}

impl EntryReader<'_> {
    fn invalid(&self, field: &str, message: &str) -> ConfigError {
        ConfigError::InvalidCredential {
            id: self.id.to_owned(),
            path: self.path.to_path_buf(),
            field: field.to_owned(),
            message: message.to_owned(),
        }
    }

    fn object<'v>(
        &self,
        value: &'v Value,
        field: &str,
    ) -> Result<&'v serde_json::Map<String, Value>, ConfigError> {
        value.as_object().ok_or_else(|| {
            if field.is_empty() {
                ConfigError::InvalidCredential {
                    id: self.id.to_owned(),
                    path: self.path.to_path_buf(),
                    field: self.id.to_owned(),
                    message: "must be a JSON object".to_owned(),
                }
            } else {
                self.invalid(field, "must be a JSON object")
            }
        })
    }

    /// A string field (`info.` prefix included in `field`), `$env{}` replaced. Numbers are
    /// accepted as their decimal text, `null` as absent.
    fn string(
        &self,
        map: &serde_json::Map<String, Value>,
        field: &str,
    ) -> Result<Option<String>, ConfigError> {
        let key = field.rsplit('.').next().unwrap_or(field);
        let raw = match map.get(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => return Err(self.invalid(field, "must be a string")),
        };
        let origin = Origin::File(self.path.to_path_buf());
        substitute(&raw, &format!("{}.{field}", self.id), &origin, self.env).map(Some)
    }

    fn port(&self, info: &serde_json::Map<String, Value>) -> Result<Option<u16>, ConfigError> {
        let bad = || self.invalid("info.port", "must be a port number from 1 to 65535");
        match info.get("port") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .filter(|&p| p > 0)
                .map(Some)
                .ok_or_else(bad),
            Some(Value::String(_)) => {
                let text = self.string(info, "info.port")?.unwrap_or_default();
                let text = text.trim();
                if text.is_empty() {
                    return Ok(None);
                }
                text.parse::<u16>()
                    .ok()
                    .filter(|&p| p > 0)
                    .map(Some)
                    .ok_or_else(bad)
            }
            Some(_) => Err(bad()),
        }
    }
}
