//! Turns the raw TOML, the command-line overrides and the environment into [`Settings`].
//!
//! Precedence, highest first: command line, `BARGE_*_DSN` environment variables (connections
//! only), the TOML file, defaults. Connections are resolved first because the source kind
//! decides some defaults (`enum_mode`, `charset`) and which options are allowed at all.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::connection::{looks_like_postgres, sqlite_file, Connection, DatabaseKind, SourceKind};
use crate::credentials::Credentials;
use crate::env::{substitute, Environment};
use crate::error::{ConfigError, Origin};
use crate::filter::normalize_entries;
use crate::overrides::Overrides;
use crate::paths::join_clean;
use crate::raw::{RawConfig, RawHooks};
use crate::secret::Secret;
use crate::settings::ChecksumSource;
use crate::settings::{
    Binary16UuidMode, CleanOrphansMode, Hooks, IdentifierCase, InvalidValuePolicy, NulByteMode,
    OnSchemaExists, PostGis, RowReader, Settings, SnapshotMode, SourceSettings, SpatialMode,
    TargetSettings, TrackingMode, TrackingSettings, TypeMapping, Validation,
};

/// pgferry caps the default at 8: more parallel COPY streams rarely help one PostgreSQL server.
const MAX_DEFAULT_WORKERS: usize = 8;
const DEFAULT_CHUNK_SIZE: u64 = 100_000;
/// Enough for an index build over a few million rows to sort in memory rather than on disk
/// (PostgreSQL's own default is 64MB); with `index_workers` builds at once, the server may
/// use this much per build.
const DEFAULT_MAINTENANCE_WORK_MEM: &str = "256MB";
const DEFAULT_REJECT_FILE: &str = "barge_rejects.jsonl";
/// PostgreSQL truncates longer identifiers (NAMEDATALEN - 1).
const MAX_IDENTIFIER_BYTES: usize = 63;

pub(crate) fn build(
    mut raw: RawConfig,
    config_file: Option<PathBuf>,
    overrides: &Overrides,
    env: &Environment,
) -> Result<Settings, ConfigError> {
    let base_dir = config_file
        .as_deref()
        .and_then(Path::parent)
        .map_or_else(|| env.cwd().to_path_buf(), Path::to_path_buf);
    let mut ctx = Ctx {
        config_file,
        base_dir,
        cli: BTreeSet::new(),
        env,
    };
    ctx.apply_overrides(&mut raw, overrides);

    // Connections.
    let auth_file = ctx.auth_file(raw.auth_file.take(), overrides.auth_file.as_deref());
    let raw_source = raw.source.take().unwrap_or_default();
    let raw_target = raw.target.take().unwrap_or_default();
    let mut raw_tracking = raw.tracking.take().unwrap_or_default();
    let tracking_mode = overrides.migration_db_mode.or(raw_tracking.mode.take());
    let tracking_project = overrides
        .project
        .clone()
        .or(raw_tracking.project.take())
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty());
    let source_spec = ctx.pick(
        Role::Source,
        overrides.source_auth_id.as_deref(),
        overrides.source_dsn.as_ref(),
        raw_source.auth_id.clone(),
        raw_source.dsn.clone(),
    )?;
    let target_spec = ctx.pick(
        Role::Target,
        overrides.target_auth_id.as_deref(),
        overrides.target_dsn.as_ref(),
        raw_target.auth_id,
        raw_target.dsn,
    )?;
    let tracking_spec = ctx.pick(
        Role::Tracking,
        overrides.migration_db_auth_id.as_deref(),
        None,
        raw_tracking.auth_id,
        raw_tracking.dsn,
    )?;
    let credentials = ctx.credentials(
        auth_file.as_ref(),
        [&source_spec, &target_spec, &tracking_spec],
    )?;
    let declared_kind = overrides
        .source_type
        .map(|kind| (kind, Origin::CommandLine))
        .or_else(|| raw_source.kind.map(|kind| (kind, ctx.file_origin())));
    let (kind, source_connection, source_auth_id) = ctx.source(
        source_spec.ok_or_else(|| ctx.missing_connection(Role::Source))?,
        declared_kind,
        credentials.as_ref(),
    )?;
    let (target_connection, target_auth_id) = ctx.target(
        target_spec.ok_or_else(|| ctx.missing_connection(Role::Target))?,
        credentials.as_ref(),
    )?;
    let tracking = tracking_spec
        .map(|spec| ctx.tracking(spec, credentials.as_ref()))
        .transpose()?
        .map(|t| TrackingSettings {
            mode: tracking_mode.unwrap_or(TrackingMode::Preserve),
            project: tracking_project.clone(),
            ..t
        });
    if tracking.is_none() {
        // Tracking options without a tracking database would be silently ignored.
        let given = [
            ("migration_db_mode", tracking_mode.is_some()),
            ("project", tracking_project.is_some()),
        ];
        if let Some((key, _)) = given.into_iter().find(|(_, set)| *set) {
            return Err(ConfigError::Invalid {
                key: key.to_owned(),
                origin: ctx.file_origin(),
                message: "it applies to the tracking database, and none is configured".to_owned(),
                hint_text: Some(
                    "add `--migration_db_auth_id ID` (or `[tracking] auth_id`), or remove it"
                        .to_owned(),
                ),
            });
        }
    }

    let source = SourceSettings {
        kind,
        connection: source_connection,
        auth_id: source_auth_id,
        charset: ctx.charset(kind, raw_source.charset)?,
        source_schema: ctx.source_schema(kind, raw_source.source_schema)?,
        row_reader: match raw_source.row_reader {
            Some(_) if !kind.is_mysql_family() => {
                return Err(ctx.source_only("source.row_reader", "MySQL and MariaDB", kind))
            }
            reader => reader.unwrap_or(RowReader::Auto),
        },
    };

    // Scalars.
    let schema = ctx.schema(raw.schema.take())?;
    let schema_only = raw.schema_only.unwrap_or(false);
    let data_only = raw.data_only.unwrap_or(false);
    let truncate_before_copy = raw.truncate_before_copy.unwrap_or(false);
    let resume = raw.resume.unwrap_or(false);
    let unlogged_tables = raw.unlogged_tables.unwrap_or(false);
    let on_schema_exists = raw.on_schema_exists.unwrap_or(OnSchemaExists::Error);
    let allow_recreate_public = raw.allow_recreate_public.unwrap_or(false);
    ctx.target_schema_allowed(&schema, on_schema_exists, allow_recreate_public)?;
    let source_snapshot_mode = raw.source_snapshot_mode.unwrap_or(SnapshotMode::None);
    if source_snapshot_mode == SnapshotMode::SingleTx && kind == SourceKind::Sqlite {
        return Err(ctx.invalid(
            "source_snapshot_mode",
            "`single_tx` is not supported for SQLite sources",
            Some("use `none` (the default)".to_owned()),
        ));
    }
    let identifier_case = ctx.identifier_case(&raw)?;
    let workers = ctx.workers(raw.workers)?;
    let index_workers = match raw.index_workers {
        None | Some(0) => workers,
        Some(n) => ctx.count("index_workers", n)?,
    };
    let maintenance_work_mem =
        ctx.memory("maintenance_work_mem", raw.maintenance_work_mem.take())?;
    let chunk_size = match raw.chunk_size {
        None => DEFAULT_CHUNK_SIZE,
        Some(n) => u64::try_from(n).ok().filter(|&n| n > 0).ok_or_else(|| {
            ctx.invalid(
                "chunk_size",
                &format!("must be greater than 0, got `{n}`"),
                Some(format!(
                    "omit `chunk_size` to use the default of {DEFAULT_CHUNK_SIZE}"
                )),
            )
        })?,
    };
    let clean_orphans_max_rows = match raw.clean_orphans_max_rows {
        None | Some(0) => None,
        Some(n) => Some(u64::try_from(n).map_err(|_| {
            ctx.invalid(
                "clean_orphans_max_rows",
                &format!("must be 0 (no cap) or more, got `{n}`"),
                None,
            )
        })?),
    };

    let checks = [
        (
            schema_only && data_only,
            "schema_only",
            "data_only",
            "choose one, or neither for a full migration",
        ),
        (
            schema_only && truncate_before_copy,
            "schema_only",
            "truncate_before_copy",
            "a schema-only run copies no data",
        ),
        (
            resume && truncate_before_copy,
            "resume",
            "truncate_before_copy",
            "a resumed run would truncate rows its checkpoint skips",
        ),
        (
            resume && unlogged_tables,
            "resume",
            "unlogged_tables",
            "a crash empties UNLOGGED tables while the checkpoint counts their rows as copied",
        ),
    ];
    if let Some(&(_, first, second, reason)) = checks.iter().find(|c| c.0) {
        return Err(ctx.conflict(first, second, reason));
    }

    // Filters.
    let table_filter_mode = raw.table_filter_mode.unwrap_or_default();
    let column_filter_mode = raw.column_filter_mode.unwrap_or_default();
    let name_rules = crate::filter::NameRules::for_source(kind);
    let filter = |key: &'static str, entries: Option<Vec<String>>, mode, columns| {
        normalize_entries(
            key,
            mode,
            entries.unwrap_or_default(),
            columns,
            name_rules,
            &ctx.origin(key),
        )
    };
    let include_tables = filter(
        "include_tables",
        raw.include_tables.take(),
        table_filter_mode,
        false,
    )?;
    let exclude_tables = filter(
        "exclude_tables",
        raw.exclude_tables.take(),
        table_filter_mode,
        false,
    )?;
    let exclude_columns = filter(
        "exclude_columns",
        raw.exclude_columns.take(),
        column_filter_mode,
        true,
    )?;

    let type_mapping = ctx.type_mapping(kind, raw.type_mapping.take().unwrap_or_default())?;
    let postgis = ctx.postgis(kind, &raw, &type_mapping)?;
    let hooks = ctx.hooks(raw.hooks.take().unwrap_or_default())?;
    let reject_file = ctx.reject_file(raw.reject_file.take(), overrides.reject_file.as_deref())?;

    Ok(Settings {
        config_file: ctx.config_file.clone(),
        base_dir: ctx.base_dir.clone(),
        auth_file: auth_file.map(|(path, _)| path),
        source,
        target: TargetSettings {
            connection: target_connection,
            auth_id: target_auth_id,
        },
        tracking,
        schema,
        on_schema_exists,
        allow_recreate_public,
        schema_only,
        data_only,
        truncate_before_copy,
        source_snapshot_mode,
        identifier_case,
        unlogged_tables,
        preserve_defaults: raw.preserve_defaults.unwrap_or(true),
        add_unsigned_checks: raw.add_unsigned_checks.unwrap_or(false),
        clean_orphans: raw.clean_orphans.unwrap_or(true),
        clean_orphans_mode: raw.clean_orphans_mode.unwrap_or(CleanOrphansMode::Apply),
        clean_orphans_max_rows,
        replicate_on_update_current_timestamp: raw
            .replicate_on_update_current_timestamp
            .unwrap_or(false),
        workers,
        index_workers,
        maintenance_work_mem,
        chunk_size,
        copy_risk_analysis: raw.copy_risk_analysis.unwrap_or(true),
        resume,
        validation: raw.validation.unwrap_or(Validation::None),
        checksum_source: raw.checksum_source.unwrap_or(ChecksumSource::Barge),
        table_filter_mode,
        include_tables,
        exclude_tables,
        column_filter_mode,
        exclude_columns,
        type_mapping,
        postgis,
        hooks,
        on_invalid_value: raw.on_invalid_value.unwrap_or(InvalidValuePolicy::Error),
        on_partial_visibility: raw
            .on_partial_visibility
            .unwrap_or(crate::settings::PartialVisibility::Error),
        reject_file,
        nul_byte_mode: raw.nul_byte_mode.unwrap_or(NulByteMode::Error),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Source,
    Target,
    Tracking,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Source => "source",
            Role::Target => "target",
            Role::Tracking => "tracking",
        }
    }

    fn env_var(self) -> Option<&'static str> {
        match self {
            Role::Source => Some("BARGE_SOURCE_DSN"),
            Role::Target => Some("BARGE_TARGET_DSN"),
            Role::Tracking => None,
        }
    }

    /// pgferry's variable for the same thing, named in hints for users coming from it.
    fn pgferry_env_var(self) -> Option<&'static str> {
        match self {
            Role::Source => Some("PGFERRY_SOURCE_DSN"),
            Role::Target => Some("PGFERRY_TARGET_DSN"),
            Role::Tracking => None,
        }
    }

    /// The `Overrides` field that names this connection's auth id.
    fn cli_auth_field(self) -> &'static str {
        match self {
            Role::Source => "source_auth_id",
            Role::Target => "target_auth_id",
            Role::Tracking => "migration_db_auth_id",
        }
    }
}

/// Where one connection comes from, before it is resolved.
enum Spec {
    AuthId {
        id: String,
        origin: Origin,
    },
    Dsn {
        text: String,
        key: String,
        origin: Origin,
        /// Folder relative SQLite paths resolve against.
        base: PathBuf,
    },
}

struct Ctx<'a> {
    config_file: Option<PathBuf>,
    base_dir: PathBuf,
    /// Keys whose value came from the command line.
    cli: BTreeSet<&'static str>,
    env: &'a Environment,
}

impl Ctx<'_> {
    fn apply_overrides(&mut self, raw: &mut RawConfig, o: &Overrides) {
        fn count(n: usize) -> i64 {
            i64::try_from(n).unwrap_or(i64::MAX)
        }
        macro_rules! take {
            ($($key:ident = $value:expr;)+) => {
                $(
                    if let Some(value) = $value {
                        raw.$key = Some(value);
                        self.cli.insert(stringify!($key));
                    }
                )+
            };
        }
        take! {
            schema = o.target_schema_name.clone();
            on_schema_exists = o.on_schema_exists;
            schema_only = o.schema_only;
            data_only = o.data_only;
            resume = o.resume;
            workers = o.workers.map(count);
            index_workers = o.index_workers.map(count);
            chunk_size = o.chunk_size.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
            include_tables = o.include_tables.clone();
            exclude_tables = o.exclude_tables.clone();
            validation = o.validation;
            checksum_source = o.checksum_source;
            unlogged_tables = o.unlogged_tables;
            on_invalid_value = o.on_invalid_value;
            nul_byte_mode = o.nul_byte_mode;
        }
        if o.source_type.is_some() {
            self.cli.insert("source.type");
        }
        if o.reject_file.is_some() {
            self.cli.insert("reject_file");
        }
    }

    fn file_origin(&self) -> Origin {
        match &self.config_file {
            Some(path) => Origin::File(path.clone()),
            None => Origin::CommandLine,
        }
    }

    fn origin(&self, key: &str) -> Origin {
        if self.cli.contains(key) {
            Origin::CommandLine
        } else {
            self.file_origin()
        }
    }

    fn invalid(&self, key: &str, message: &str, hint_text: Option<String>) -> ConfigError {
        ConfigError::Invalid {
            key: key.to_owned(),
            origin: self.origin(key),
            message: message.to_owned(),
            hint_text,
        }
    }

    fn conflict(&self, first: &str, second: &str, reason: &str) -> ConfigError {
        ConfigError::Conflict {
            first: first.to_owned(),
            second: second.to_owned(),
            origin: self.origin(first).and(self.origin(second)),
            reason: reason.to_owned(),
        }
    }

    fn auth_file(
        &self,
        from_file: Option<String>,
        from_cli: Option<&Path>,
    ) -> Option<(PathBuf, Origin)> {
        if let Some(path) = from_cli {
            return Some((join_clean(self.env.cwd(), path), Origin::CommandLine));
        }
        from_file.filter(|p| !p.trim().is_empty()).map(|p| {
            (
                join_clean(&self.base_dir, Path::new(p.trim())),
                self.file_origin(),
            )
        })
    }

    fn pick(
        &self,
        role: Role,
        cli_auth_id: Option<&str>,
        cli_dsn: Option<&Secret>,
        file_auth_id: Option<String>,
        file_dsn: Option<String>,
    ) -> Result<Option<Spec>, ConfigError> {
        let name = role.name();
        let dsn_key = format!("{name}.dsn");
        if let Some(id) = cli_auth_id.map(str::trim).filter(|id| !id.is_empty()) {
            return Ok(Some(Spec::AuthId {
                id: id.to_owned(),
                origin: Origin::CommandLine,
            }));
        }
        if let Some(dsn) = cli_dsn.filter(|dsn| !dsn.expose().trim().is_empty()) {
            let text = substitute(
                dsn.expose().trim(),
                &dsn_key,
                &Origin::CommandLine,
                self.env,
            )?;
            return Ok(Some(Spec::Dsn {
                text,
                key: dsn_key,
                origin: Origin::CommandLine,
                base: self.env.cwd().to_path_buf(),
            }));
        }
        // Like pgferry's PGFERRY_*_DSN: an empty variable does not override the file.
        let from_env = role
            .env_var()
            .and_then(|var| Some((var, self.env.var(var)?)))
            .filter(|(_, value)| !value.trim().is_empty());
        if let Some((var, value)) = from_env {
            return Ok(Some(Spec::Dsn {
                text: value.trim().to_owned(),
                key: dsn_key,
                origin: Origin::EnvVar(var.to_owned()),
                base: self.env.cwd().to_path_buf(),
            }));
        }
        let file_auth_id = file_auth_id.filter(|id| !id.trim().is_empty());
        let file_dsn = file_dsn.filter(|dsn| !dsn.trim().is_empty());
        match (file_auth_id, file_dsn) {
            (Some(_), Some(_)) => Err(ConfigError::Conflict {
                first: dsn_key,
                second: format!("{name}.auth_id"),
                origin: self.file_origin(),
                reason: "give the connection one way: a DSN, or an entry of the credentials file"
                    .to_owned(),
            }),
            (Some(id), None) => Ok(Some(Spec::AuthId {
                id: id.trim().to_owned(),
                origin: self.file_origin(),
            })),
            (None, Some(dsn)) => {
                let origin = self.file_origin();
                let text = substitute(dsn.trim(), &dsn_key, &origin, self.env)?;
                Ok(Some(Spec::Dsn {
                    text,
                    key: dsn_key,
                    origin,
                    base: self.base_dir.clone(),
                }))
            }
            (None, None) => Ok(None),
        }
    }

    /// Loads the credentials file when some connection names an auth id.
    fn credentials(
        &self,
        auth_file: Option<&(PathBuf, Origin)>,
        specs: [&Option<Spec>; 3],
    ) -> Result<Option<Credentials>, ConfigError> {
        let first_auth = specs
            .iter()
            .zip([Role::Source, Role::Target, Role::Tracking])
            .find_map(|(spec, role)| match spec {
                Some(Spec::AuthId { origin, .. }) => Some((role, origin)),
                _ => None,
            });
        let Some((role, origin)) = first_auth else {
            return Ok(None);
        };
        match auth_file {
            Some((path, _)) => Credentials::load(path).map(Some),
            None => {
                let key = if *origin == Origin::CommandLine {
                    role.cli_auth_field().to_owned()
                } else {
                    format!("{}.auth_id", role.name())
                };
                Err(ConfigError::Missing {
                    key: "auth_file".to_owned(),
                    origin: origin.clone(),
                    hint_text: format!(
                        "`{key}` names an entry of a credentials file: set `auth_file = \"credentials.json\"` in the config file or pass the credentials file on the command line"
                    ),
                })
            }
        }
    }

    fn missing_connection(&self, role: Role) -> ConfigError {
        let name = role.name();
        let var = role.env_var().unwrap_or_default();
        let (key, mut hint_text) = if self.config_file.is_some() {
            (
                format!("{name}.dsn"),
                format!(
                    "set `dsn` (or `auth_id` with `auth_file`) in `[{name}]`, or export `{var}`"
                ),
            )
        } else {
            (
                role.cli_auth_field().to_owned(),
                format!("pass the {name} auth id and a credentials file, or export `{var}`"),
            )
        };
        if let Some(pgferry_var) = role.pgferry_env_var() {
            if self.env.var(pgferry_var).is_some() {
                hint_text.push_str(&format!(
                    "; `{pgferry_var}` is set, but barge reads `{var}`"
                ));
            }
        }
        ConfigError::Missing {
            key,
            origin: self.file_origin(),
            hint_text,
        }
    }

    fn source(
        &self,
        spec: Spec,
        declared: Option<(SourceKind, Origin)>,
        credentials: Option<&Credentials>,
    ) -> Result<(SourceKind, Connection, Option<String>), ConfigError> {
        match spec {
            Spec::AuthId { id, .. } => {
                let credentials = loaded(credentials)?;
                let credential = credentials.resolve(&id, self.env)?;
                let from_credential =
                    credential
                        .kind
                        .as_source()
                        .ok_or_else(|| ConfigError::WrongDatabaseKind {
                            id: id.clone(),
                            path: credentials.path().to_path_buf(),
                            role: "source".to_owned(),
                            ds_type: credential.kind.as_str().to_owned(),
                            expected: "`sqlite`, `mysql`, `mariadb` or `mssql`".to_owned(),
                        })?;
                let kind = match declared {
                    None => from_credential,
                    Some((kind, _))
                        if kind == from_credential
                            || kind.is_mysql_family() && from_credential.is_mysql_family() =>
                    {
                        kind
                    }
                    Some((kind, origin)) => {
                        return Err(ConfigError::Invalid {
                            key: "source.type".to_owned(),
                            origin,
                            message: format!(
                                "`{kind}` does not match auth id `{id}`, a `{from_credential}` database"
                            ),
                            hint_text: Some(
                                "drop `type` from `[source]`, or fix `ds_type` in the credentials file"
                                    .to_owned(),
                            ),
                        })
                    }
                };
                Ok((kind, credential.connection, Some(id)))
            }
            Spec::Dsn {
                text,
                key,
                origin,
                base,
            } => {
                let (kind, _) = declared.ok_or_else(|| ConfigError::Missing {
                    key: "source.type".to_owned(),
                    origin: self.file_origin(),
                    hint_text: if self.config_file.is_some() {
                        "set `type = \"sqlite\"` (or `mysql`, `mariadb`, `mssql`) in `[source]`"
                            .to_owned()
                    } else {
                        "pass the source type on the command line".to_owned()
                    },
                })?;
                let connection = if kind == SourceKind::Sqlite {
                    Connection::SqliteFile(sqlite_file(&text, &base, &key, &origin)?)
                } else {
                    if let Some(c) = crate::connection::unencoded_in_password(&text) {
                        return Err(crate::connection::password_error(&key, &origin, &text, c));
                    }
                    Connection::Url(Secret::new(text))
                };
                Ok((kind, connection, None))
            }
        }
    }

    fn target(
        &self,
        spec: Spec,
        credentials: Option<&Credentials>,
    ) -> Result<(Connection, Option<String>), ConfigError> {
        match spec {
            Spec::AuthId { id, .. } => {
                let credentials = loaded(credentials)?;
                let credential = credentials.resolve(&id, self.env)?;
                if credential.kind != DatabaseKind::Postgres {
                    return Err(ConfigError::WrongDatabaseKind {
                        id,
                        path: credentials.path().to_path_buf(),
                        role: "target".to_owned(),
                        ds_type: credential.kind.as_str().to_owned(),
                        expected: "`postgres`".to_owned(),
                    });
                }
                Ok((credential.connection, Some(id)))
            }
            Spec::Dsn {
                text, key, origin, ..
            } => {
                postgres_dsn(&text, &key, &origin)?;
                Ok((Connection::Url(Secret::new(text)), None))
            }
        }
    }

    fn tracking(
        &self,
        spec: Spec,
        credentials: Option<&Credentials>,
    ) -> Result<TrackingSettings, ConfigError> {
        match spec {
            Spec::AuthId { id, .. } => {
                let credentials = loaded(credentials)?;
                let credential = credentials.resolve(&id, self.env)?;
                if !matches!(
                    credential.kind,
                    DatabaseKind::Postgres | DatabaseKind::Mssql
                ) {
                    return Err(ConfigError::WrongDatabaseKind {
                        id,
                        path: credentials.path().to_path_buf(),
                        role: "tracking database".to_owned(),
                        ds_type: credential.kind.as_str().to_owned(),
                        expected: "`postgres` or `mssql`".to_owned(),
                    });
                }
                Ok(TrackingSettings {
                    kind: credential.kind,
                    connection: credential.connection,
                    auth_id: Some(id),
                    mode: TrackingMode::Preserve,
                    project: None,
                })
            }
            Spec::Dsn {
                text, key, origin, ..
            } => {
                postgres_dsn(&text, &key, &origin)?;
                Ok(TrackingSettings {
                    kind: DatabaseKind::Postgres,
                    connection: Connection::Url(Secret::new(text)),
                    auth_id: None,
                    mode: TrackingMode::Preserve,
                    project: None,
                })
            }
        }
    }

    fn charset(
        &self,
        kind: SourceKind,
        charset: Option<String>,
    ) -> Result<Option<String>, ConfigError> {
        let charset = charset
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        if kind.is_mysql_family() {
            return Ok(Some(charset.unwrap_or_else(|| "utf8mb4".to_owned())));
        }
        match charset {
            // pgferry accepts its default spelled out for any source.
            Some(c) if c != "utf8mb4" => {
                Err(self.source_only("source.charset", "MySQL and MariaDB", kind))
            }
            _ => Ok(None),
        }
    }

    fn source_schema(
        &self,
        kind: SourceKind,
        schema: Option<String>,
    ) -> Result<Option<String>, ConfigError> {
        let schema = schema
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        match (kind, schema) {
            (SourceKind::Mssql, schema) => Ok(Some(schema.unwrap_or_else(|| "dbo".to_owned()))),
            (_, Some(_)) => Err(self.source_only("source.source_schema", "MSSQL", kind)),
            (_, None) => Ok(None),
        }
    }

    fn source_only(&self, key: &str, family: &str, kind: SourceKind) -> ConfigError {
        self.invalid(
            key,
            &format!("applies only to {family} sources, and the source is `{kind}`"),
            Some(format!(
                "remove `{}`",
                key.rsplit('.').next().unwrap_or(key)
            )),
        )
    }

    fn schema(&self, schema: Option<String>) -> Result<String, ConfigError> {
        let schema = schema
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        let Some(schema) = schema else {
            return Err(if self.config_file.is_some() {
                ConfigError::Missing {
                    key: "schema".to_owned(),
                    origin: self.file_origin(),
                    hint_text: "set `schema = \"app\"` to name the target PostgreSQL schema, or pass the target schema name on the command line".to_owned(),
                }
            } else {
                ConfigError::Missing {
                    key: "target_schema_name".to_owned(),
                    origin: Origin::CommandLine,
                    hint_text: "without a config file, the target schema name must be given on the command line".to_owned(),
                }
            });
        };
        // `$env{VAR}` works here as in DSNs, so one config can target per-environment schemas.
        let schema = crate::env::substitute(&schema, "schema", &self.file_origin(), self.env)?;
        if schema.len() > MAX_IDENTIFIER_BYTES {
            return Err(self.invalid(
                "schema",
                &format!(
                    "`{schema}` is {} bytes long, and PostgreSQL names are at most {MAX_IDENTIFIER_BYTES}",
                    schema.len()
                ),
                None,
            ));
        }
        Ok(schema)
    }

    /// Refuse a target schema barge may not own (see `schema_name`): system schemas, the
    /// ledger's, and `public` under `recreate` unless `allow_recreate_public` says so.
    fn target_schema_allowed(
        &self,
        schema: &str,
        on_schema_exists: OnSchemaExists,
        allow_recreate_public: bool,
    ) -> Result<(), ConfigError> {
        if let Some(why) = crate::schema_name::reserved_schema(schema) {
            return Err(self.invalid(
                "schema",
                &format!("barge cannot migrate into schema `{schema}`: {why}"),
                Some("name a schema of your own, such as `app`".to_owned()),
            ));
        }
        if schema == "public"
            && on_schema_exists == OnSchemaExists::Recreate
            && !allow_recreate_public
        {
            return Err(self.invalid(
                "on_schema_exists",
                "`recreate` would drop schema `public` with everything in it (extensions, grants, other tables)",
                Some("migrate into a schema of your own (`schema = \"app\"`), use `on_schema_exists = \"use\"` for an empty `public`, or set `allow_recreate_public = true` if dropping `public` is really meant".to_owned()),
            ));
        }
        Ok(())
    }

    fn identifier_case(&self, raw: &RawConfig) -> Result<IdentifierCase, ConfigError> {
        match (raw.identifier_case, raw.snake_case_identifiers) {
            (Some(case), Some(snake)) if (case == IdentifierCase::Snake) != snake => Err(self.conflict(
                "identifier_case",
                "snake_case_identifiers",
                "they disagree; `snake_case_identifiers` is pgferry's older spelling of `identifier_case`, keep only `identifier_case`",
            )),
            (Some(case), _) => Ok(case),
            (None, Some(true)) | (None, None) => Ok(IdentifierCase::Snake),
            // pgferry: "When disabled, source names are lowercased".
            (None, Some(false)) => Ok(IdentifierCase::Lower),
        }
    }

    fn count(&self, key: &str, n: i64) -> Result<usize, ConfigError> {
        usize::try_from(n).map_err(|_| {
            self.invalid(
                key,
                &format!("must be 0 (automatic) or more, got `{n}`"),
                None,
            )
        })
    }

    /// A PostgreSQL memory setting: a whole number with an optional unit (`kB`, `MB`, `GB`,
    /// `TB`), or `"server"` for the server's own value; absent means
    /// [`DEFAULT_MAINTENANCE_WORK_MEM`].
    fn memory(&self, key: &str, value: Option<String>) -> Result<Option<String>, ConfigError> {
        let Some(value) = value else {
            return Ok(Some(DEFAULT_MAINTENANCE_WORK_MEM.to_owned()));
        };
        if value == "server" {
            return Ok(None);
        }
        let digits = value.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let unit = &value[digits.len()..];
        let number_ok = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        // In kB, PostgreSQL's unit for it; it takes 1MB to 2147483647kB.
        let scale = match unit {
            "" | "kB" => Some(1u128),
            "MB" => Some(1 << 10),
            "GB" => Some(1 << 20),
            "TB" => Some(1 << 30),
            _ => None,
        };
        let kb = scale
            .filter(|_| number_ok)
            .and_then(|scale| digits.parse::<u128>().ok()?.checked_mul(scale));
        match kb {
            Some(kb) if (1024..=2_147_483_647).contains(&kb) => Ok(Some(value)),
            _ => Err(self.invalid(
                key,
                &format!(
                    "must be a size from 1MB to 2TB such as `256MB` (units kB, MB, GB, TB) or `server`, got `{value}`"
                ),
                Some("`server` keeps the PostgreSQL server's own setting".to_owned()),
            )),
        }
    }

    fn workers(&self, workers: Option<i64>) -> Result<usize, ConfigError> {
        match workers {
            None | Some(0) => Ok(self.env.cpus().clamp(1, MAX_DEFAULT_WORKERS)),
            Some(n) => self.count("workers", n),
        }
    }

    fn type_mapping(
        &self,
        kind: SourceKind,
        raw: crate::raw::RawTypeMapping,
    ) -> Result<TypeMapping, ConfigError> {
        let defaults = TypeMapping::defaults_for(kind);
        let mut tm = defaults.clone();
        macro_rules! set {
            ($($field:ident),+ $(,)?) => {
                $( if let Some(value) = raw.$field { tm.$field = value; } )+
            };
        }
        set!(
            unknown_as_text,
            json_as_jsonb,
            datetime_as_timestamptz,
            sanitize_json_null_bytes,
            tinyint1_as_boolean,
            binary16_as_uuid,
            binary16_uuid_mode,
            string_uuid_as_uuid,
            varchar_as_text,
            widen_unsigned_integers,
            enum_mode,
            set_mode,
            bit_mode,
            time_mode,
            zero_date_mode,
            spatial_mode,
            collation_mode,
            collation_map,
            ci_as_citext,
            nvarchar_as_text,
            money_as_numeric,
            xml_as_text,
        );

        // An option the source cannot use is refused rather than ignored (pgferry does the
        // same); its default value spelled out is fine.
        let mut misplaced: Option<(&str, &str)> = None;
        macro_rules! only_for {
            ($allowed:expr, $family:literal: $($field:ident),+ $(,)?) => {
                if !$allowed {
                    $(
                        if misplaced.is_none() && tm.$field != defaults.$field {
                            misplaced = Some((stringify!($field), $family));
                        }
                    )+
                }
            };
        }
        only_for!(kind.is_mysql_family(), "MySQL and MariaDB":
            tinyint1_as_boolean,
            binary16_as_uuid,
            binary16_uuid_mode,
            string_uuid_as_uuid,
            varchar_as_text,
            widen_unsigned_integers,
            enum_mode,
            set_mode,
            bit_mode,
            time_mode,
            zero_date_mode,
            collation_mode,
            collation_map,
            ci_as_citext,
        );
        only_for!(kind.is_mysql_family() || kind == SourceKind::Mssql, "MySQL, MariaDB and MSSQL": spatial_mode);
        only_for!(kind == SourceKind::Mssql, "MSSQL": nvarchar_as_text, money_as_numeric, xml_as_text);
        if let Some((field, family)) = misplaced {
            return Err(self.source_only(&format!("type_mapping.{field}"), family, kind));
        }
        if tm.binary16_uuid_mode != Binary16UuidMode::Rfc4122 && !tm.binary16_as_uuid {
            return Err(self.invalid(
                "type_mapping.binary16_uuid_mode",
                "has no effect unless `binary16_as_uuid = true`",
                Some("set `binary16_as_uuid = true` in `[type_mapping]`".to_owned()),
            ));
        }
        Ok(tm)
    }

    fn postgis(
        &self,
        kind: SourceKind,
        raw: &RawConfig,
        type_mapping: &TypeMapping,
    ) -> Result<PostGis, ConfigError> {
        let raw = raw.postgis.as_ref();
        let postgis = PostGis {
            enabled: raw.and_then(|p| p.enabled).unwrap_or(false),
            create_extension: raw.and_then(|p| p.create_extension).unwrap_or(false),
        };
        if postgis.create_extension && !postgis.enabled {
            return Err(self.invalid(
                "postgis.create_extension",
                "has no effect unless `enabled = true`",
                Some("set `enabled = true` in `[postgis]`".to_owned()),
            ));
        }
        if postgis.enabled && !kind.is_mysql_family() {
            return Err(self.invalid(
                "postgis.enabled",
                &format!("PostGIS columns are supported for MySQL and MariaDB sources only, and the source is `{kind}`"),
                None,
            ));
        }
        if postgis.enabled && type_mapping.spatial_mode != SpatialMode::Off {
            return Err(self.conflict(
                "postgis.enabled",
                "type_mapping.spatial_mode",
                "native PostGIS columns replace the fallback spatial modes; set `spatial_mode = \"off\"`",
            ));
        }
        Ok(postgis)
    }

    fn hooks(&self, raw: RawHooks) -> Result<Hooks, ConfigError> {
        let resolve = |key: &str, files: Option<Vec<String>>| {
            files
                .unwrap_or_default()
                .into_iter()
                .map(|file| {
                    let file = file.trim();
                    if file.is_empty() {
                        return Err(self.invalid(key, "entries must not be empty", None));
                    }
                    Ok(join_clean(&self.base_dir, Path::new(file)))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Hooks {
            before_data: resolve("hooks.before_data", raw.before_data)?,
            after_data: resolve("hooks.after_data", raw.after_data)?,
            before_fk: resolve("hooks.before_fk", raw.before_fk)?,
            after_all: resolve("hooks.after_all", raw.after_all)?,
        })
    }

    fn reject_file(
        &self,
        from_file: Option<String>,
        from_cli: Option<&Path>,
    ) -> Result<PathBuf, ConfigError> {
        if let Some(path) = from_cli {
            if path.as_os_str().is_empty() {
                return Err(self.invalid("reject_file", "must not be empty", None));
            }
            return Ok(join_clean(self.env.cwd(), path));
        }
        match from_file {
            Some(path) if path.trim().is_empty() => {
                Err(self.invalid("reject_file", "must not be empty", None))
            }
            Some(path) => Ok(join_clean(&self.base_dir, Path::new(path.trim()))),
            None => Ok(self.base_dir.join(DEFAULT_REJECT_FILE)),
        }
    }
}

fn loaded(credentials: Option<&Credentials>) -> Result<&Credentials, ConfigError> {
    // `Ctx::credentials` loads the file whenever a spec names an auth id, so this only fails
    // if that invariant is broken; report it as a missing file rather than panicking.
    credentials.ok_or_else(|| ConfigError::Missing {
        key: "auth_file".to_owned(),
        origin: Origin::CommandLine,
        hint_text: "an auth id needs a credentials file".to_owned(),
    })
}

fn postgres_dsn(text: &str, key: &str, origin: &Origin) -> Result<(), ConfigError> {
    if let Some(c) = crate::connection::unencoded_in_password(text) {
        return Err(crate::connection::password_error(key, origin, text, c));
    }
    if looks_like_postgres(text) {
        return Ok(());
    }
    Err(ConfigError::Invalid {
        key: key.to_owned(),
        origin: origin.clone(),
        message: "is not a PostgreSQL connection string".to_owned(),
        hint_text: Some(
            "write it as `postgres://user@host:5432/database` or `host=... dbname=...`".to_owned(),
        ),
    })
}
