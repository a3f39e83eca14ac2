//! What a resumed run must share with the run it continues: the options that shape the
//! output, the source schema, and the chunk plan. Each part is hashed separately so a refusal
//! can say which one changed.
//!
//! The options are compared first, and by name: a changed option (say `time_mode`) also
//! changes the mapped schema, and "the source schema changed" would send the user looking in
//! the wrong place. So the run keeps the options' values too ([`option_values`], in the
//! ledger and the checkpoint file) and a refusal names each option that differs, with both
//! values. A run recorded without them (an older barge) is refused with the general reason.

use crate::plan::MigrationPlan;
use barge_config::Settings;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub config: String,
    pub schema: String,
    pub plan: String,
    /// The values behind `config`, by option name (redacted connections, hook file hashes).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// The options behind [`config_part`], by their TOML names (`type_mapping.time_mode`), each
/// as TOML would spell its value. Connections are redacted; a hook file is its path and a
/// hash of its text.
pub fn option_values(s: &Settings) -> BTreeMap<String, String> {
    fn json(v: serde_json::Value) -> String {
        match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        }
    }
    fn value<T: Serialize>(v: &T) -> String {
        json(serde_json::to_value(v).unwrap_or(serde_json::Value::Null))
    }
    let mut out = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        out.insert(k.to_string(), v);
    };
    put("source", s.source.connection.redacted());
    put("target", s.target.connection.redacted());
    put("schema", s.schema.clone());
    put("identifier_case", value(&s.identifier_case));
    put("unlogged_tables", s.unlogged_tables.to_string());
    put("preserve_defaults", s.preserve_defaults.to_string());
    put("chunk_size", s.chunk_size.to_string());
    put("include_tables", format!("{:?}", s.include_tables));
    put("exclude_tables", format!("{:?}", s.exclude_tables));
    put("exclude_columns", format!("{:?}", s.exclude_columns));
    put("on_invalid_value", value(&s.on_invalid_value));
    put("schema_only", s.schema_only.to_string());
    put("data_only", s.data_only.to_string());
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(&s.type_mapping) {
        for (k, v) in fields {
            put(&format!("type_mapping.{k}"), json(v));
        }
    }
    let h = &s.hooks;
    for (point, files) in [
        ("before_data", &h.before_data),
        ("after_data", &h.after_data),
        ("before_fk", &h.before_fk),
        ("after_all", &h.after_all),
    ] {
        let listed: Vec<String> = files
            .iter()
            .map(|path| {
                let text = std::fs::read_to_string(path).unwrap_or_else(|_| "(unreadable)".into());
                format!("{} (text {})", path.display(), fnv(&text))
            })
            .collect();
        put(&format!("hooks.{point}"), format!("{listed:?}"));
    }
    out
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
/// An option added here belongs in [`option_values`] too, so that a refusal names it.
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
            options: option_values(settings),
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
            options: BTreeMap::new(),
        })
    }

    /// The options as stored in the ledger (JSON).
    pub fn options_json(&self) -> String {
        serde_json::to_string(&self.options).unwrap_or_default()
    }

    /// Options whose value differs from `recorded`'s: `(name, recorded, now)`; a missing
    /// value is `None`.
    pub fn changed_options(
        &self,
        recorded: &BTreeMap<String, String>,
    ) -> Vec<(String, Option<String>, Option<String>)> {
        let names: std::collections::BTreeSet<&String> =
            self.options.keys().chain(recorded.keys()).collect();
        names
            .into_iter()
            .filter_map(|k| {
                let (old, new) = (recorded.get(k), self.options.get(k));
                (old != new).then(|| (k.clone(), old.cloned(), new.cloned()))
            })
            .collect()
    }

    /// Why `self` (the new run) cannot continue `recorded`, if it cannot. Changed options
    /// come first and alone (the schema and plan follow from them), each named with its old
    /// and new value when `recorded` carries the values.
    pub fn mismatch(&self, recorded: &Fingerprint) -> Option<String> {
        let mut why = Vec::new();
        if self.config != recorded.config {
            let changed = if recorded.options.is_empty() {
                Vec::new()
            } else {
                self.changed_options(&recorded.options)
            };
            if changed.is_empty() {
                why.push("the configuration options that shape the result changed".to_string());
            } else {
                let shown = |v: &Option<String>| match v {
                    Some(v) => format!("`{v}`"),
                    None => "(not set)".to_string(),
                };
                let list: Vec<String> = changed
                    .iter()
                    .map(|(k, old, new)| format!("`{k}` {} -> {}", shown(old), shown(new)))
                    .collect();
                why.push(format!(
                    "{} changed: {}",
                    if list.len() == 1 { "option" } else { "options" },
                    list.join(", ")
                ));
            }
            return Some(why.join("; "));
        }
        if self.schema != recorded.schema {
            why.push("the source schema changed".to_string());
        }
        if self.plan != recorded.plan {
            why.push("the chunk plan changed (rows were added or removed in the source, or chunk_size changed)".to_string());
        }
        (!why.is_empty()).then(|| why.join("; "))
    }
}
