//! What a resumed run must share with the run it continues: the options that shape the
//! output, the source schema, and the chunk plan. Each part is hashed separately so a refusal
//! can say which one changed.

use crate::plan::MigrationPlan;
use barge_config::Settings;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub config: String,
    pub schema: String,
    pub plan: String,
}

fn fnv(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The options that change what lands in PostgreSQL (not workers, verbosity or resume flags).
pub fn config_part(s: &Settings) -> String {
    let text = format!(
        "source={} target={} schema={} case={:?} unlogged={} defaults={} chunk={} include={:?} exclude={:?} columns={:?} types={:?} invalid={:?} schema_only={} data_only={}",
        s.source.connection.redacted(),
        s.target.connection.redacted(),
        s.schema,
        s.identifier_case,
        s.unlogged_tables,
        s.preserve_defaults,
        s.chunk_size,
        s.include_tables,
        s.exclude_tables,
        s.exclude_columns,
        s.type_mapping,
        s.on_invalid_value,
        s.schema_only,
        s.data_only,
    );
    // Accepting a partial view of the source shapes the result; the default adds nothing,
    // so fingerprints of runs before this option existed stay the same.
    let text = match s.on_partial_visibility {
        barge_config::PartialVisibility::Error => text,
        other => format!("{text} partial_visibility={other}"),
    };
    // Hook files are part of what a run does: their text counts, read fresh.
    let h = &s.hooks;
    let mut hooks = String::new();
    for path in h
        .before_data
        .iter()
        .chain(&h.after_data)
        .chain(&h.before_fk)
        .chain(&h.after_all)
    {
        hooks.push_str(&path.display().to_string());
        hooks.push('\0');
        hooks.push_str(&std::fs::read_to_string(path).unwrap_or_else(|_| "(unreadable)".into()));
        hooks.push('\0');
    }
    fnv(&format!("{text}\0hooks\0{hooks}"))
}

impl Fingerprint {
    pub(crate) fn of(settings: &Settings, plan: &MigrationPlan) -> Fingerprint {
        // Row counts may be estimates that drift between runs; the chunk plan carries what
        // matters about the data.
        let mut tables = plan.schema.tables.clone();
        for t in &mut tables {
            t.row_count = None;
        }
        let schema = serde_json::to_string(&tables).unwrap_or_default();
        let chunks: Vec<_> = plan
            .tables
            .iter()
            .map(|t| (&t.source_name, &t.chunks))
            .collect();
        let plan_text = serde_json::to_string(&chunks).unwrap_or_default();
        Fingerprint {
            config: config_part(settings),
            schema: fnv(&schema),
            plan: fnv(&plan_text),
        }
    }

    /// `config=...;schema=...;plan=...`, as stored in the ledger.
    pub fn encode(&self) -> String {
        format!(
            "config={};schema={};plan={}",
            self.config, self.schema, self.plan
        )
    }

    pub fn decode(text: &str) -> Option<Fingerprint> {
        let mut parts = text
            .split(';')
            .map(|p| p.split_once('=').map(|(_, v)| v.to_string()));
        Some(Fingerprint {
            config: parts.next()??,
            schema: parts.next()??,
            plan: parts.next()??,
        })
    }

    /// Why `self` (the new run) cannot continue `recorded`, if it cannot.
    pub fn mismatch(&self, recorded: &Fingerprint) -> Option<String> {
        let mut why = Vec::new();
        if self.config != recorded.config {
            why.push("the configuration options that shape the result changed");
        }
        if self.schema != recorded.schema {
            why.push("the source schema changed");
        }
        if self.plan != recorded.plan {
            why.push("the chunk plan changed (rows were added or removed in the source, or chunk_size changed)");
        }
        (!why.is_empty()).then(|| why.join("; "))
    }
}
