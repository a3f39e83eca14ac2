//! User SQL hooks: files of statements run at four points of a run (`before_data`,
//! `after_data`, `before_fk`, `after_all`), with `{{schema}}` replaced by the quoted target
//! schema.
//!
//! Each statement commits with its ledger record, so a resumed run never runs one twice. A
//! statement PostgreSQL refuses inside a transaction block (`VACUUM`, `CREATE INDEX
//! CONCURRENTLY`) runs on its own and is recorded right after. A failing statement stops the
//! run, naming file, line and statement.

use crate::ledger::{item, Ledger};
use crate::EngineError;
use barge_config::Settings;
use barge_pg::script::{split_statements, Statement};
use std::path::{Path, PathBuf};

/// The hook points, in run order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HookPoint {
    BeforeData,
    AfterData,
    BeforeFk,
    AfterAll,
}

impl HookPoint {
    pub(crate) fn name(self) -> &'static str {
        match self {
            HookPoint::BeforeData => "before_data",
            HookPoint::AfterData => "after_data",
            HookPoint::BeforeFk => "before_fk",
            HookPoint::AfterAll => "after_all",
        }
    }

    fn files(self, settings: &Settings) -> &[PathBuf] {
        let h = &settings.hooks;
        match self {
            HookPoint::BeforeData => &h.before_data,
            HookPoint::AfterData => &h.after_data,
            HookPoint::BeforeFk => &h.before_fk,
            HookPoint::AfterAll => &h.after_all,
        }
    }
}

/// One hook file, read and split.
#[derive(Debug, Clone)]
pub(crate) struct HookFile {
    pub path: PathBuf,
    pub statements: Vec<Statement>,
}

/// Read every hook file of the run up front, so a missing one stops the run before any work.
pub(crate) fn load(settings: &Settings) -> Result<Vec<(HookPoint, HookFile)>, EngineError> {
    let mut out = Vec::new();
    for point in [
        HookPoint::BeforeData,
        HookPoint::AfterData,
        HookPoint::BeforeFk,
        HookPoint::AfterAll,
    ] {
        for path in point.files(settings) {
            let text = std::fs::read_to_string(path).map_err(|e| {
                EngineError::Setup(format!(
                    "hook file `{}` ({}) cannot be read: {e}",
                    path.display(),
                    point.name()
                ))
            })?;
            let statements = split_statements(&text);
            out.push((
                point,
                HookFile {
                    path: path.clone(),
                    statements,
                },
            ));
        }
    }
    Ok(out)
}

fn file_name(path: &Path) -> String {
    path.display().to_string()
}

/// Whether any hook file is attached to `point`.
pub(crate) fn any(point: HookPoint, hooks: &[(HookPoint, HookFile)]) -> bool {
    hooks.iter().any(|(p, _)| *p == point)
}

/// Run the hooks of one point, skipping statements the ledger records as done.
pub(crate) async fn run(
    client: &tokio_postgres::Client,
    point: HookPoint,
    hooks: &[(HookPoint, HookFile)],
    schema: &str,
    ledger: &Ledger,
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<(), EngineError> {
    let quoted = barge_pg::ddl::quote_ident(schema);
    for (_, file) in hooks.iter().filter(|(p, _)| *p == point) {
        for (n, statement) in file.statements.iter().enumerate() {
            let key = item::step(&format!(
                "hook {} {} #{}",
                point.name(),
                file_name(&file.path),
                n + 1
            ));
            if ledger.is_done(&key) {
                continue;
            }
            // An interrupt stops the run between statements.
            if cancel.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(EngineError::Interrupted);
            }
            let sql = statement.sql.replace("{{schema}}", &quoted);
            let record = ledger.record_sql(&key, 0);
            let fail = |e: &tokio_postgres::Error| {
                EngineError::Setup(format!(
                    "hook `{}` ({}), line {}: {}\n  statement: {}",
                    file_name(&file.path),
                    point.name(),
                    statement.line,
                    barge_pg::target::db_message(e),
                    statement.sql
                ))
            };
            let tx = format!("BEGIN;\n{sql};\n{record};\nCOMMIT");
            if let Err(e) = client.batch_execute(&tx).await {
                let _ = client.batch_execute("ROLLBACK").await;
                // 25001: the statement cannot run inside a transaction block.
                if e.code().map(|c| c.code()) == Some("25001") {
                    client.batch_execute(&sql).await.map_err(|e| fail(&e))?;
                    client.batch_execute(&record).await.map_err(|e| fail(&e))?;
                } else {
                    return Err(fail(&e));
                }
            }
        }
    }
    Ok(())
}
