//! What a run will do, computed from the source alone: the filtered, renamed schema, the DDL,
//! the chunk plan, and every finding. `barge plan` prints it; `migrate` executes it.
//!
//! `plan`, `migrate` and `validate` all start here, before anything touches the target, so
//! the refusals that protect a user from a silently smaller migration live here too: a
//! source the account cannot fully see (`check_visibility`), and nothing to migrate or a
//! filter entry that matches nothing (`check_selection`); both are configuration errors.

use crate::connect::pg_config;
use crate::source::Source;
use crate::EngineError;
use barge_config::{IdentifierCase, NameRules, PartialVisibility, Settings};
use barge_model::naming::{assign_target_names, Folding};
use barge_model::KeyRange;
use barge_model::{Finding, FindingKind, IndexPart, Schema};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct TablePlan {
    pub source_name: String,
    pub target_name: String,
    pub rows: u64,
    /// Rowid (or key) ranges the copy is split into; one range means one stream.
    #[serde(skip)]
    pub chunks: Vec<KeyRange>,
    pub chunk_count: usize,
}

/// Rows of a child table whose foreign key names no parent, counted on the source.
#[derive(Debug, Clone, Serialize)]
pub struct OrphanCount {
    /// Child table (source name).
    pub table: String,
    /// The constraint barge will create.
    pub foreign_key: String,
    /// Parent table (source name).
    pub parent: String,
    pub rows: u64,
}

/// Rows per second the copy estimate assumes: what this project measured on 2 cores
/// (about 1 M rows/s from SQLite, 0.6-0.8 M rows/s from MariaDB), rounded down. Scale it by
/// your hardware.
pub const ESTIMATE_ROWS_PER_SECOND: u64 = 500_000;

#[derive(Debug, Clone, Serialize)]
pub struct MigrationPlan {
    pub source: String,
    pub target: String,
    pub target_schema: String,
    pub schema: Schema,
    pub tables: Vec<TablePlan>,
    /// Every statement that creates objects, in execution order.
    pub ddl: Vec<String>,
    pub findings: Vec<Finding>,
    /// PostgreSQL extensions the target needs (`citext`, `postgis`).
    pub extensions: Vec<String>,
    /// Seconds the copy takes at [`ESTIMATE_ROWS_PER_SECOND`], from the source's row counts
    /// (estimates for MySQL, exact for SQLite); keys and indexes come on top.
    pub estimated_copy_seconds: f64,
    /// Orphan rows per foreign key, counted on the source by `barge plan` (empty in `migrate`,
    /// which handles them in PostgreSQL); only keys with orphans are listed.
    pub orphans: Vec<OrphanCount>,
    #[serde(skip)]
    pub(crate) source_handle: Option<Source>,
}

fn folding(case: IdentifierCase) -> Folding {
    match case {
        IdentifierCase::Snake => Folding::Snake,
        IdentifierCase::Lower => Folding::Lower,
        IdentifierCase::Preserve => Folding::Preserve,
    }
}

/// What the source holds but barge cannot see (hidden by the account's privileges, or
/// unreadable in an SQLite file) stops the run before anything is done, naming each hidden
/// object and what shows it; under `on_partial_visibility = "accept"` each becomes a
/// warning finding (plan, summary, tracking event log) and the run goes on with what is
/// visible.
fn check_visibility(
    settings: &Settings,
    source: &Source,
    schema: &mut Schema,
    findings: &mut Vec<Finding>,
) -> Result<(), EngineError> {
    let hidden = std::mem::take(&mut schema.hidden);
    if hidden.is_empty() {
        return Ok(());
    }
    if settings.on_partial_visibility == PartialVisibility::Accept {
        findings.extend(hidden.into_iter().map(|mut f| {
            f.severity = barge_model::Severity::Warning;
            f.message = format!(
                "not migrated, accepted by on_partial_visibility: {}",
                f.message
            );
            f
        }));
        return Ok(());
    }
    let lines: Vec<String> = hidden
        .iter()
        .map(|f| format!("  - {}", f.message))
        .collect();
    let fix = match &schema.visibility_fix {
        Some(grant) => {
            format!("{grant} (run by an administrator) makes what is hidden visible; or set ")
        }
        None => "set ".to_string(),
    };
    Err(EngineError::Config(format!(
        "{} is not fully visible to barge, so the migration would silently miss what is hidden:\n{}\nhint: {fix}`on_partial_visibility = \"accept\"` to migrate what is visible, each hidden object recorded as a finding",
        source.what(),
        lines.join("\n")
    )))
}

/// Refuse a run that would migrate nothing, or whose filters name what the source does not
/// have, before anything touches the target: an empty source (a zero-byte SQLite file is
/// refused when opened), a filter entry that matches nothing (a typo, or another case where
/// the source tells case apart), and filters that leave no table.
fn check_selection(
    settings: &Settings,
    source: &Source,
    schema: &Schema,
    rules: NameRules,
) -> Result<(), EngineError> {
    let listed = |names: Vec<&str>| {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let others: Vec<(&str, &str)> = schema
        .views
        .iter()
        .map(|v| ("view", v.name.as_str()))
        .chain(
            schema
                .sequences
                .iter()
                .map(|q| ("sequence", q.name.as_str())),
        )
        .collect();
    if schema.tables.is_empty() {
        let holds = if others.is_empty() {
            String::new()
        } else {
            let what: Vec<String> = others.iter().map(|(k, n)| format!("{k} `{n}`")).collect();
            format!(
                " (it holds only {}, which barge does not migrate as tables)",
                what.join(", ")
            )
        };
        return Err(EngineError::Config(format!(
            "{} has no tables to migrate{holds}\nhint: check that the source names the database you mean",
            source.what()
        )));
    }
    let source_tables: Vec<(&str, Vec<&str>)> = schema
        .tables
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                t.columns.iter().map(|c| c.name.as_str()).collect(),
            )
        })
        .collect();
    let unmatched = settings.unmatched_filters(&source_tables, rules);
    if !unmatched.is_empty() {
        let lines: Vec<String> = unmatched
            .iter()
            .map(|u| {
                let mut line = u.to_string();
                if u.key != "exclude_columns" {
                    let named: Vec<String> = others
                        .iter()
                        .filter(|(_, n)| {
                            settings.table_filter_mode.matches(&u.entry, n, rules.tables)
                        })
                        .map(|(k, n)| format!("{k} `{n}`"))
                        .collect();
                    if !named.is_empty() {
                        line.push_str(&format!(
                            " (it names {}: filters select tables, and views and sequences are not migrated as tables)",
                            named.join(", ")
                        ));
                    }
                }
                line
            })
            .collect();
        let head = match lines.as_slice() {
            [one] => one.clone(),
            many => format!(
                "{} filter entries match nothing in the source:\n{}",
                many.len(),
                many.iter()
                    .map(|l| format!("  - {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        };
        let which = if lines.len() == 1 {
            "the entry"
        } else {
            "these entries"
        };
        return Err(EngineError::Config(format!(
            "{head}\nhint: correct or remove {which}; filters compare table names {} and column names {}, as the source does",
            rules.tables.describe(),
            rules.columns.describe()
        )));
    }
    let selected = schema
        .tables
        .iter()
        .filter(|t| settings.table_selected(&t.name, rules))
        .count();
    if selected == 0 {
        return Err(EngineError::Config(format!(
            "the table filters leave no table to migrate: `include_tables` = [{}], `exclude_tables` = [{}]; the source has {}\nhint: an entry in both lists is excluded",
            listed(settings.include_tables.iter().map(String::as_str).collect()),
            listed(settings.exclude_tables.iter().map(String::as_str).collect()),
            listed(schema.tables.iter().map(|t| t.name.as_str()).collect()),
        )));
    }
    Ok(())
}

/// Remove what the settings exclude, recording each removal that changes the result.
fn apply_filters(
    settings: &Settings,
    schema: &mut Schema,
    findings: &mut Vec<Finding>,
    rules: NameRules,
) {
    schema.tables.retain(|t| {
        let keep = settings.table_selected(&t.name, rules);
        if !keep {
            findings.push(
                Finding::info(
                    FindingKind::TableExcluded,
                    "table is excluded by the table filters",
                )
                .on_table(&t.name),
            );
        }
        keep
    });
    let kept: Vec<String> = schema.tables.iter().map(|t| t.name.clone()).collect();
    for table in &mut schema.tables {
        let excluded: Vec<String> = table
            .columns
            .iter()
            .filter(|c| settings.column_excluded(&table.name, &c.name, rules))
            .map(|c| c.name.clone())
            .collect();
        if !excluded.is_empty() {
            let uses = |cols: &[String]| cols.iter().any(|c| excluded.contains(c));
            table.columns.retain(|c| !excluded.contains(&c.name));
            for c in &excluded {
                findings.push(
                    Finding::info(
                        FindingKind::TableExcluded,
                        "column is excluded by `exclude_columns`",
                    )
                    .on_table(&table.name)
                    .on_column(c),
                );
            }
            if table.primary_key.as_ref().is_some_and(|k| uses(&k.columns)) {
                table.primary_key = None;
                findings.push(
                    Finding::warning(
                        FindingKind::IndexSkipped,
                        "primary key uses an excluded column and is not created",
                    )
                    .on_table(&table.name),
                );
            }
            table.unique_keys.retain(|k| !uses(&k.columns));
            table.indexes.retain(|i| {
                let cols: Vec<String> = i
                    .parts
                    .iter()
                    .flat_map(|p| match p {
                        IndexPart::Column { name, .. } => vec![name.clone()],
                        IndexPart::Expr { expr, .. } => {
                            expr.columns().into_iter().map(String::from).collect()
                        }
                    })
                    .chain(
                        i.predicate
                            .iter()
                            .flat_map(|p| p.columns().into_iter().map(String::from)),
                    )
                    .collect();
                !uses(&cols)
            });
            table.foreign_keys.retain(|fk| !uses(&fk.columns));
        }
        let table_name = table.name.clone();
        table.foreign_keys.retain(|fk| {
            let keep = kept.contains(&fk.ref_table);
            if !keep {
                findings.push(
                    Finding::warning(
                        FindingKind::ForeignKeySkipped,
                        format!(
                            "foreign key to `{}` is not created: that table is not migrated",
                            fk.ref_table
                        ),
                    )
                    .on_table(&table_name),
                );
            }
            keep
        });
    }
}

/// Read the source and work out everything the run will do, without touching the target.
pub async fn build_plan(settings: &Settings) -> Result<MigrationPlan, EngineError> {
    crate::support::check_supported(settings)?;
    let source = Source::open(settings).await?;
    let mut schema = source.introspect(settings).await?;
    let mut findings = std::mem::take(&mut schema.findings);
    check_visibility(settings, &source, &mut schema, &mut findings)?;
    let rules = source.name_rules();
    check_selection(settings, &source, &schema, rules)?;
    apply_filters(settings, &mut schema, &mut findings, rules);
    findings.extend(assign_target_names(
        &mut schema,
        folding(settings.identifier_case),
    )?);
    // Chunk boundaries are read from each table's key; tables are planned side by side.
    let chunk_plans: Vec<Vec<KeyRange>> = {
        use futures_util::stream::{self, StreamExt, TryStreamExt};
        stream::iter(schema.tables.iter())
            .map(|t| source.plan_chunks(t, settings.chunk_size))
            .buffered(settings.workers.max(1))
            .try_collect()
            .await?
    };
    let mut tables = Vec::new();
    for (t, chunks) in schema.tables.iter().zip(chunk_plans) {
        tables.push(TablePlan {
            source_name: t.name.clone(),
            target_name: t.target_name.clone(),
            rows: t.row_count.unwrap_or(0),
            chunk_count: chunks.len(),
            chunks,
        });
    }
    let ddl = barge_pg::ddl::schema_script(&settings.schema, &schema, settings.unlogged_tables);
    let target = pg_config(&settings.target.connection)
        .map(|c| barge_pg::target::describe(&c))
        .unwrap_or_else(|_| settings.target.connection.redacted());
    let total_rows: u64 = tables.iter().map(|t| t.rows).sum();
    Ok(MigrationPlan {
        source: source.describe(),
        target,
        target_schema: settings.schema.clone(),
        extensions: barge_pg::ddl::required_extensions(&schema)
            .into_iter()
            .map(String::from)
            .collect(),
        estimated_copy_seconds: total_rows as f64 / ESTIMATE_ROWS_PER_SECOND as f64,
        orphans: Vec::new(),
        schema,
        tables,
        ddl,
        findings,
        source_handle: Some(source),
    })
}

/// The plan `barge plan` reports: [`build_plan`] plus the orphan rows of every foreign key,
/// counted on the source (one anti-join per key, several at once).
pub async fn build_report(settings: &Settings) -> Result<MigrationPlan, EngineError> {
    use futures_util::stream::{self, StreamExt, TryStreamExt};
    let mut plan = build_plan(settings).await?;
    let source = plan
        .source_handle
        .clone()
        .ok_or_else(|| EngineError::Setup("the plan has no source".into()))?;
    let schema = &plan.schema;
    let keys: Vec<_> = schema
        .tables
        .iter()
        .flat_map(|t| t.foreign_keys.iter().map(move |fk| (t, fk)))
        .filter_map(|(t, fk)| schema.table(&fk.ref_table).map(|p| (t, fk, p)))
        .collect();
    let counts: Vec<u64> = stream::iter(keys.iter())
        .map(|(child, fk, parent)| source.count_orphans(child, fk, parent))
        .buffered(settings.workers.max(1))
        .try_collect()
        .await?;
    plan.orphans = keys
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|((child, fk, parent), rows)| OrphanCount {
            table: child.name.clone(),
            foreign_key: barge_pg::ddl::foreign_key_name(child, fk),
            parent: parent.name.clone(),
            rows,
        })
        .collect();
    Ok(plan)
}
