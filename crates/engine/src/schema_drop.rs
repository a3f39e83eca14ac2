//! Dropping what barge owns, and nothing else: the target schema and its `<schema>_orphans`
//! quarantine, under `on_schema_exists = "recreate"` and `--restart`.
//!
//! Inside the transaction that drops, barge first locks the schemas' tables, then computes
//! what `DROP SCHEMA ... CASCADE` would remove (`barge_pg::cascade`): anything outside the
//! two schemas refuses the drop, naming each object; otherwise the inventory (tables with
//! their rows, other objects, lost grants) is reported as a warning, so it is printed and
//! recorded in the tracking database's event log, before the drop runs. A check without
//! the lock runs earlier too, so that a refused drop stops the run before it records
//! anything in the target.

use crate::EngineError;
use barge_pg::cascade::{self, DropPlan};

/// The schemas a drop of `schema` takes: it and its quarantine.
pub(crate) fn owned_schemas(schema: &str) -> [String; 2] {
    [
        schema.to_string(),
        barge_pg::orphans::quarantine_schema(schema),
    ]
}

/// What dropping `schema` and its quarantine would remove; refused (naming what lies
/// outside) when it would reach outside them. With `lock`, call it inside the transaction
/// that drops: the schemas' tables are locked first.
pub(crate) async fn check(
    client: &tokio_postgres::Client,
    schema: &str,
    what: &str,
    lock: bool,
) -> Result<DropPlan, EngineError> {
    let owned = owned_schemas(schema);
    let names: Vec<&str> = owned.iter().map(String::as_str).collect();
    if lock {
        if let Some(sql) = cascade::lock_tables_sql(client, &names).await? {
            barge_pg::target::batch(client, "locking the tables of the schema to drop", &sql)
                .await?;
        }
    }
    let plan = cascade::examine(client, &names).await?;
    match plan.refusal(what) {
        Some(refusal) => Err(EngineError::Setup(refusal)),
        None => Ok(plan),
    }
}

/// `DROP SCHEMA ... CASCADE` of every schema of `plan`.
pub(crate) fn drop_sql(plan: &DropPlan) -> String {
    plan.schemas
        .iter()
        .map(|s| format!("DROP SCHEMA {} CASCADE;\n", barge_pg::quote_ident(s)))
        .collect()
}
