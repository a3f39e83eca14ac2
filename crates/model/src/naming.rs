//! Target identifiers: snake_case folding, the 63-byte limit, and collision detection.
//!
//! PostgreSQL truncates identifiers longer than 63 bytes silently, which can merge two distinct
//! source names. barge instead shortens them itself, keeping a prefix and appending a hash of the
//! whole name so the result is deterministic across runs, and then refuses to start when two
//! source names still land on one target name, listing every collision at once.

use crate::DataType;
use crate::{Finding, FindingKind, Schema};
use std::collections::HashMap;
use std::fmt;

/// PostgreSQL's NAMEDATALEN - 1.
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// Fold a name to snake_case: `AlbumId` -> `album_id`, `HTMLParser` -> `html_parser`.
///
/// Word breaks are placed before an upper-case letter that follows a lower-case letter or a
/// digit, and before the last capital of an acronym that starts a new word. Anything that is not
/// a letter or digit becomes `_`; runs of `_` collapse. Works on any alphabet with case.
pub fn snake_case(name: &str) -> String {
    // An upper-case letter that has a lower-case form (mathematical capitals have none).
    let upper = |c: char| c.is_uppercase() && c.to_lowercase().ne(std::iter::once(c));
    // Word characters: everything but white space, controls and ASCII punctuation, so marks
    // and symbols of other scripts stay inside their word and folding twice changes nothing.
    let separator = |c: char| {
        c.is_whitespace() || c.is_control() || (c.is_ascii() && !c.is_ascii_alphanumeric())
    };
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if !separator(c) {
            if upper(c) && i > 0 {
                let prev = chars[i - 1];
                let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
                let boundary =
                    prev.is_lowercase() || prev.is_numeric() || (upper(prev) && next_lower);
                if boundary && !out.ends_with('_') && !out.is_empty() {
                    out.push('_');
                }
            }
            out.extend(c.to_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        // Nothing alphanumeric to keep: the original, quoted, is the only faithful name.
        return name.to_string();
    }
    out
}

/// 64-bit FNV-1a: tiny, stable across versions and platforms, good enough to tell names apart.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Shorten a name to at most 63 bytes: a prefix cut on a character boundary, `_`, and eight hex
/// digits of a hash of the full name. Names that fit are returned unchanged.
pub fn fit_identifier(name: &str) -> String {
    if name.len() <= MAX_IDENTIFIER_BYTES {
        return name.to_string();
    }
    let suffix = format!("_{:08x}", fnv1a(name.as_bytes()) as u32);
    let mut cut = MAX_IDENTIFIER_BYTES - suffix.len();
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    // No `_` right before the suffix: folding the result again must give the result.
    format!("{}{}", name[..cut].trim_end_matches('_'), suffix)
}

/// How source names are folded into target names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folding {
    /// `OrderItems` -> `order_items`.
    Snake,
    /// `OrderItems` -> `orderitems`.
    Lower,
    /// Kept as is (always quoted).
    Preserve,
}

impl Folding {
    pub fn fold(self, source: &str) -> String {
        match self {
            Folding::Snake => snake_case(source),
            Folding::Lower => source.to_lowercase(),
            Folding::Preserve => source.to_string(),
        }
    }
}

/// The target name for a source name under the chosen folding.
pub fn target_identifier(source: &str, folding: Folding) -> String {
    fit_identifier(&folding.fold(source))
}

/// The primary-key constraint name: PostgreSQL's own pattern, fixed up front so a source
/// index can never take it first.
pub fn primary_key_name(table: &crate::Table) -> String {
    fit_identifier(&format!("{}_pkey", table.target_name))
}

/// A unique constraint's name: `<table>_<columns>_key`, as PostgreSQL would choose.
pub fn unique_key_name(table: &crate::Table, key: &crate::Key) -> String {
    let cols: Vec<&str> = key.columns.iter().map(|c| table.target_column(c)).collect();
    fit_identifier(&format!("{}_{}_key", table.target_name, cols.join("_")))
}

/// Two or more source objects that would share one target name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameCollision {
    /// Where the names live: `schema` or `table "orders"`.
    pub scope: String,
    pub target: String,
    pub sources: Vec<String>,
}

impl fmt::Display for NameCollision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sources: Vec<String> = self.sources.iter().map(|s| format!("`{s}`")).collect();
        write!(
            f,
            "{}: {} all map to `{}`",
            self.scope,
            sources.join(", "),
            self.target
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NamingError {
    #[error("{} target name collision(s):\n{}", .0.len(), .0.iter().map(|c| format!("  - {c}")).collect::<Vec<_>>().join("\n"))]
    Collisions(Vec<NameCollision>),
}

/// Collects names per scope and reports every target name reached from more than one source.
#[derive(Default)]
struct Scope {
    by_target: HashMap<String, Vec<String>>,
    order: Vec<String>,
}

impl Scope {
    fn add(&mut self, target: &str, source: &str) {
        let entry = self.by_target.entry(target.to_string()).or_insert_with(|| {
            self.order.push(target.to_string());
            Vec::new()
        });
        entry.push(source.to_string());
    }

    fn collisions(self, scope: &str, out: &mut Vec<NameCollision>) {
        for target in self.order {
            let sources = &self.by_target[&target];
            if sources.len() > 1 {
                out.push(NameCollision {
                    scope: scope.to_string(),
                    target,
                    sources: sources.clone(),
                });
            }
        }
    }
}

/// Fill every `target_name` in the schema, returning findings for shortened names, or every
/// collision when two source names map to one target name.
///
/// Tables and indexes share PostgreSQL's relation namespace, so they are checked together.
pub fn assign_target_names(
    schema: &mut Schema,
    folding: Folding,
) -> Result<Vec<Finding>, NamingError> {
    let mut findings = Vec::new();
    let mut collisions = Vec::new();
    let mut relations = Scope::default();
    // A finding when the 63-byte limit changed a name.
    let shortened = |table: &str, column: Option<&str>, source: &str, target: &str, what: &str| {
        (folding.fold(source) != target).then(|| {
            let f = Finding::info(
                FindingKind::NameShortened,
                format!("{what} name `{source}` is longer than 63 bytes; shortened to `{target}`"),
            )
            .on_table(table);
            match column {
                Some(c) => f.on_column(c),
                None => f,
            }
        })
    };
    for table in &mut schema.tables {
        table.target_name = target_identifier(&table.name, folding);
        findings.extend(shortened(
            &table.name,
            None,
            &table.name,
            &table.target_name,
            "table",
        ));
        relations.add(&table.target_name, &format!("table {}", table.name));
        let mut columns = Scope::default();
        for column in &mut table.columns {
            column.target_name = target_identifier(&column.name, folding);
            findings.extend(shortened(
                &table.name,
                Some(&column.name),
                &column.name,
                &column.target_name,
                "column",
            ));
            columns.add(&column.target_name, &column.name);
        }
        columns.collisions(&format!("table `{}`", table.name), &mut collisions);
        // A native enum type is named `<table>_<column>`; types share the namespace of
        // tables (each table has a row type of its name).
        let table_target = table.target_name.clone();
        for column in &mut table.columns {
            if let DataType::Enum { name, .. } = &mut column.data_type {
                *name = fit_identifier(&format!("{table_target}_{}", column.target_name));
                relations.add(
                    name,
                    &format!("enum type of {}.{}", table.name, column.name),
                );
            }
        }
    }
    for seq in &mut schema.sequences {
        seq.target_name = target_identifier(&seq.name, folding);
        relations.add(&seq.target_name, &format!("sequence {}", seq.name));
    }
    // Key constraints own an index of the same name: reserve those names, and move a source
    // index that lands on one to `<name>_idx`, so neither fails at build time. (A source index
    // named like a source table is a collision between two source names, reported below.)
    let mut reserved: Vec<String> = Vec::new();
    for table in &schema.tables {
        if table.primary_key.is_some() {
            reserved.push(primary_key_name(table));
        }
        reserved.extend(table.unique_keys.iter().map(|k| unique_key_name(table, k)));
    }
    let per_table = schema.index_names_per_table;
    for table in &mut schema.tables {
        for index in &mut table.indexes {
            let folded = if per_table {
                format!("{}_{}", table.target_name, folding.fold(&index.name))
            } else {
                folding.fold(&index.name)
            };
            let mut name = fit_identifier(&folded);
            if name != folded {
                findings.push(
                    Finding::info(
                        FindingKind::NameShortened,
                        format!(
                            "index name `{folded}` is longer than 63 bytes; shortened to `{name}`"
                        ),
                    )
                    .on_table(&table.name),
                );
            }
            if reserved.contains(&name) {
                let moved = fit_identifier(&format!("{name}_idx"));
                findings.push(
                    Finding::info(
                        FindingKind::NameChanged,
                        format!(
                            "index `{}` is renamed `{moved}`: `{name}` is the name barge gives a key constraint",
                            index.name
                        ),
                    )
                    .on_table(&table.name),
                );
                name = moved;
            }
            index.target_name = name;
            relations.add(&index.target_name, &format!("index {}", index.name));
        }
    }
    relations.collisions("schema", &mut collisions);
    if collisions.is_empty() {
        Ok(findings)
    } else {
        Err(NamingError::Collisions(collisions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Column, DataType, Table};

    #[test]
    fn snake_case_examples() {
        assert_eq!(snake_case("AlbumId"), "album_id");
        assert_eq!(snake_case("InvoiceLine"), "invoice_line");
        assert_eq!(snake_case("HTMLParser"), "html_parser");
        assert_eq!(snake_case("already_snake"), "already_snake");
        assert_eq!(snake_case("Address2Line"), "address2_line");
        assert_eq!(snake_case("Order Details"), "order_details");
        assert_eq!(snake_case("ÄrgerZähler"), "ärger_zähler");
        assert_eq!(snake_case("ΣίγμαΤιμή"), "σίγμα_τιμή");
        assert_eq!(snake_case("userID"), "user_id");
        assert_eq!(snake_case("__x__"), "x");
        assert_eq!(snake_case("###"), "###");
        assert_eq!(snake_case("Ὑ𝒞"), "ὑ𝒞");
    }

    #[test]
    fn long_names_are_shortened_deterministically_and_distinctly() {
        let a = format!("{}a", "x".repeat(63));
        let b = format!("{}b", "x".repeat(63));
        let fa = fit_identifier(&a);
        let fb = fit_identifier(&b);
        assert_eq!(fa.len(), 63);
        assert_eq!(fb.len(), 63);
        assert_ne!(fa, fb);
        assert_eq!(fa, fit_identifier(&a));
        // multi-byte characters are never split
        let wide = "é".repeat(40);
        let f = fit_identifier(&wide);
        assert!(f.len() <= 63);
        assert!(f.starts_with("éé"));
    }

    #[test]
    fn collisions_are_all_listed() {
        let mut t = Table::new("Orders");
        t.columns
            .push(Column::new("OrderId", "INTEGER", DataType::Int8));
        t.columns
            .push(Column::new("order_id", "INTEGER", DataType::Int8));
        let mut schema = Schema {
            tables: vec![t, Table::new("orders")],
            ..Schema::default()
        };
        let err = assign_target_names(&mut schema, Folding::Snake).unwrap_err();
        let NamingError::Collisions(list) = &err;
        assert_eq!(list.len(), 2, "{err}");
        let text = err.to_string();
        assert!(
            text.contains("`OrderId`, `order_id` all map to `order_id`"),
            "{text}"
        );
        assert!(
            text.contains("`table Orders`, `table orders` all map to `orders`"),
            "{text}"
        );
    }
}
