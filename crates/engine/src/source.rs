//! The sources a run can read from, behind one enum so the engine stays source-neutral.

use crate::EngineError;
use barge_config::{Connection, Settings, SourceKind};
use barge_source_sqlite::{MappingOptions, SqliteSource};

#[derive(Debug, Clone)]
pub(crate) enum Source {
    Sqlite(SqliteSource),
}

impl Source {
    pub(crate) fn open(settings: &Settings) -> Result<Source, EngineError> {
        match (&settings.source.kind, &settings.source.connection) {
            (SourceKind::Sqlite, Connection::SqliteFile(path)) => {
                Ok(Source::Sqlite(SqliteSource::new(path)?))
            }
            (kind, _) => Err(EngineError::Setup(format!(
                "source type `{kind}` is not supported yet by this build of barge; supported: sqlite"
            ))),
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Source::Sqlite(s) => format!("sqlite {}", s.path().display()),
        }
    }

    pub(crate) fn introspect(
        &self,
        settings: &Settings,
    ) -> Result<barge_model::Schema, EngineError> {
        match self {
            Source::Sqlite(s) => {
                let tm = &settings.type_mapping;
                let options = MappingOptions {
                    unknown_as_text: tm.unknown_as_text,
                    json_as_jsonb: tm.json_as_jsonb,
                    datetime_as_timestamptz: tm.datetime_as_timestamptz,
                    preserve_defaults: settings.preserve_defaults,
                };
                Ok(s.introspect(&options)?)
            }
        }
    }
}
