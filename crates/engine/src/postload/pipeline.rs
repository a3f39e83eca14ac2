//! What follows each table's copy, started as soon as what it needs is done, while other
//! tables are still copying:
//!
//! 1. the table's primary key, unique keys and indexes, once its rows are in;
//! 2. with `early_constraints`, each foreign key once both of its tables have their keys:
//!    added `NOT VALID` one at a time (an addition locks both tables, and two additions
//!    could wait on each other), then validated, one validation per child table at a time;
//! 3. then the table's statistics (`ANALYZE`), once its own foreign keys are validated and
//!    every foreign key referencing it is added (`ANALYZE` and `VALIDATE` take the same lock).
//!
//! Nothing here decides anything the later phases do not decide again: every step is
//! recorded in the ledger, so the foreign-key and statistics phases after the copy skip what
//! was done early and do what was not. A foreign key that finds rows without a parent is left
//! `NOT VALID`; the foreign-key phase meets it again and cleans orphans or reports them as
//! configured.

use super::pool::FollowUp;
use super::{analyze_step, foreign_key_step_pair, table_key_and_index_steps, Step};
use crate::sync::lock;
use barge_model::Schema;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Clone, Copy)]
enum Tag {
    Key(usize),
    Add(usize),
    Validate(usize),
    Analyze,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FkState {
    Waiting,
    Adding,
    Added,
    Validating,
    Ended,
}

struct Fk {
    child: usize,
    parent: usize,
    add: Option<Step>,
    validate: Option<Step>,
    state: FkState,
}

struct State {
    /// Per table, its key and index steps until the table is copied, then its statistics
    /// step until that starts.
    keys: Vec<Option<Vec<Step>>>,
    analyze: Vec<Option<Step>>,
    tags: HashMap<String, Tag>,
    /// Key and index steps still running per table; `None` until the table is copied.
    keys_left: Vec<Option<usize>>,
    keys_failed: Vec<bool>,
    fks: Vec<Fk>,
    adding: bool,
}

/// The per-table graph of post-load steps, fed by the copy and driven by the step pool.
pub(crate) struct AfterCopy {
    early_constraints: bool,
    state: Mutex<State>,
}

impl AfterCopy {
    pub(crate) fn new(schema_name: &str, schema: &Schema, early_constraints: bool) -> AfterCopy {
        let tables = &schema.tables;
        let index = |name: &str| tables.iter().position(|t| t.name == name);
        let mut fks = Vec::new();
        for (child, t) in tables.iter().enumerate() {
            for fk in &t.foreign_keys {
                let Some(parent) = index(&fk.ref_table) else {
                    continue;
                };
                let (add, validate) = foreign_key_step_pair(schema_name, t, fk, &tables[parent]);
                fks.push(Fk {
                    child,
                    parent,
                    add: Some(add),
                    validate: Some(validate),
                    state: FkState::Waiting,
                });
            }
        }
        let n = tables.len();
        let state = State {
            keys: tables
                .iter()
                .map(|t| Some(table_key_and_index_steps(schema_name, t)))
                .collect(),
            analyze: tables
                .iter()
                .map(|t| Some(analyze_step(schema_name, t)))
                .collect(),
            tags: HashMap::new(),
            keys_left: vec![None; n],
            keys_failed: vec![false; n],
            fks,
            adding: false,
        };
        AfterCopy {
            early_constraints,
            state: Mutex::new(state),
        }
    }

    /// Table `i` is copied: its key and index steps, and whatever that alone releases.
    pub(crate) fn table_copied(&self, i: usize) -> Vec<Step> {
        let mut state = lock(&self.state);
        let steps = state.keys[i].take().unwrap_or_default();
        for s in &steps {
            state.tags.insert(s.what.clone(), Tag::Key(i));
        }
        state.keys_left[i] = Some(steps.len());
        let mut out = steps;
        out.extend(self.released(&mut state));
        out
    }

    /// Steps whose conditions now hold (see the module docs), marked as started.
    fn released(&self, state: &mut State) -> Vec<Step> {
        if !self.early_constraints {
            return Vec::new();
        }
        let mut out = Vec::new();
        let keyed: Vec<bool> = (0..state.keys_left.len())
            .map(|t| state.keys_left[t] == Some(0) && !state.keys_failed[t])
            .collect();
        let validating = |fks: &[Fk], table: usize| {
            fks.iter()
                .any(|g| g.state == FkState::Validating && g.child == table)
        };
        for f in 0..state.fks.len() {
            let (child, parent) = (state.fks[f].child, state.fks[f].parent);
            match state.fks[f].state {
                FkState::Waiting
                    if !state.adding
                        && keyed[child]
                        && keyed[parent]
                        && !validating(&state.fks, child)
                        && !validating(&state.fks, parent) =>
                {
                    if let Some(step) = state.fks[f].add.take() {
                        state.adding = true;
                        state.fks[f].state = FkState::Adding;
                        state.tags.insert(step.what.clone(), Tag::Add(f));
                        out.push(step);
                    }
                }
                FkState::Added if !validating(&state.fks, child) => {
                    if let Some(step) = state.fks[f].validate.take() {
                        state.fks[f].state = FkState::Validating;
                        state.tags.insert(step.what.clone(), Tag::Validate(f));
                        out.push(step);
                    }
                }
                _ => {}
            }
        }
        for (t, &keyed) in keyed.iter().enumerate() {
            let settled = state.fks.iter().all(|g| {
                (g.child != t || g.state == FkState::Ended)
                    && (g.parent != t || !matches!(g.state, FkState::Waiting | FkState::Adding))
            });
            if keyed && settled {
                if let Some(step) = state.analyze[t].take() {
                    state.tags.insert(step.what.clone(), Tag::Analyze);
                    out.push(step);
                }
            }
        }
        out
    }
}

impl FollowUp for AfterCopy {
    fn done(&self, what: &str, ok: bool) -> Vec<Step> {
        let mut state = lock(&self.state);
        let Some(tag) = state.tags.remove(what) else {
            return Vec::new();
        };
        match tag {
            Tag::Key(t) => {
                if let Some(left) = state.keys_left[t].as_mut() {
                    *left = left.saturating_sub(1);
                }
                state.keys_failed[t] |= !ok;
            }
            Tag::Add(f) => {
                state.adding = false;
                state.fks[f].state = if ok { FkState::Added } else { FkState::Ended };
            }
            Tag::Validate(f) => state.fks[f].state = FkState::Ended,
            Tag::Analyze => {}
        }
        self.released(&mut state)
    }

    fn tolerated(&self, what: &str, error: &tokio_postgres::Error) -> bool {
        matches!(lock(&self.state).tags.get(what), Some(Tag::Validate(_)))
            && error.code() == Some(&tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use barge_model::{FkAction, ForeignKey, Key, Table};

    fn table(name: &str, parents: &[&str]) -> Table {
        let mut t = Table::new(name);
        t.primary_key = Some(Key {
            name: None,
            columns: vec!["id".into()],
        });
        for p in parents {
            t.foreign_keys.push(ForeignKey {
                name: None,
                columns: vec![format!("{p}_id")],
                ref_table: (*p).into(),
                ref_columns: vec!["id".into()],
                on_delete: FkAction::NoAction,
                on_update: FkAction::NoAction,
            });
        }
        t
    }

    /// employees <- salaries, titles; departments <- dept_emp -> employees.
    fn schema() -> Schema {
        Schema {
            tables: vec![
                table("salaries", &["employees"]),
                table("titles", &["employees"]),
                table("dept_emp", &["employees", "departments"]),
                table("employees", &[]),
                table("departments", &[]),
            ],
            ..Schema::default()
        }
    }

    fn names(steps: &[Step]) -> Vec<&str> {
        steps.iter().map(|s| s.what.as_str()).collect()
    }

    /// Finish every step in `steps` (successfully), collecting what they release.
    fn finish_all(a: &AfterCopy, steps: Vec<Step>) -> Vec<Step> {
        steps.iter().flat_map(|s| a.done(&s.what, true)).collect()
    }

    #[test]
    fn a_foreign_key_waits_for_the_keys_of_both_tables_then_validates_and_analyzes() {
        let a = AfterCopy::new("s", &schema(), true);
        // salaries is copied first: its key only; no foreign key before employees has its key.
        let keys = a.table_copied(0);
        assert_eq!(names(&keys), ["primary key of `salaries`"]);
        assert!(finish_all(&a, keys).is_empty());
        let keys = a.table_copied(3);
        assert_eq!(names(&keys), ["primary key of `employees`"]);
        let next = finish_all(&a, keys);
        assert_eq!(
            names(&next),
            ["foreign key `salaries_employees_id_fkey` of `salaries`"]
        );
        let next = finish_all(&a, next);
        assert_eq!(
            names(&next),
            ["validating foreign key `salaries_employees_id_fkey` of `salaries`"]
        );
        let next = finish_all(&a, next);
        // salaries is settled; employees still waits for titles and dept_emp to add theirs.
        assert_eq!(names(&next), ["analyzing `salaries`"]);
        assert!(finish_all(&a, next).is_empty());
    }

    #[test]
    fn additions_run_one_at_a_time_and_a_parent_is_analyzed_after_every_addition() {
        let a = AfterCopy::new("s", &schema(), true);
        let mut ready = Vec::new();
        for t in [3, 4, 0, 1, 2] {
            ready.extend(a.table_copied(t));
        }
        let mut order = Vec::new();
        // Run one step at a time, first in, first out, as a single worker would.
        while !ready.is_empty() {
            let step = ready.remove(0);
            // No second addition is released while one is queued.
            let adding = ready
                .iter()
                .filter(|s| s.what.starts_with("foreign key"))
                .count();
            assert!(adding <= 1, "{:?}", names(&ready));
            ready.extend(a.done(&step.what, true));
            order.push(step.what);
        }
        let at = |what: &str| {
            order
                .iter()
                .position(|w| w == what)
                .unwrap_or_else(|| panic!("`{what}` never ran: {order:?}"))
        };
        assert_eq!(order.len(), 5 + 2 * 4 + 5, "{order:?}");
        let last_add = [
            "foreign key `salaries_employees_id_fkey` of `salaries`",
            "foreign key `titles_employees_id_fkey` of `titles`",
            "foreign key `dept_emp_employees_id_fkey` of `dept_emp`",
        ]
        .map(at)
        .into_iter()
        .max();
        assert!(at("analyzing `employees`") > last_add.unwrap_or(usize::MAX));
        // dept_emp's two validations do not overlap, and it is analyzed after both.
        let v1 = at("validating foreign key `dept_emp_employees_id_fkey` of `dept_emp`");
        let v2 = at("validating foreign key `dept_emp_departments_id_fkey` of `dept_emp`");
        assert!(at("analyzing `dept_emp`") > v1.max(v2));
    }

    #[test]
    fn a_failed_key_holds_back_its_foreign_keys_and_a_tolerated_validation_ends_them() {
        let a = AfterCopy::new("s", &schema(), true);
        let _ = a.table_copied(3);
        let _ = a.table_copied(0);
        // employees' key fails (duplicates): nothing that needs it is released.
        assert!(a.done("primary key of `employees`", false).is_empty());
        assert!(a.done("primary key of `salaries`", true).is_empty());

        let b = AfterCopy::new("s", &schema(), true);
        let _ = b.table_copied(3);
        let _ = b.table_copied(0);
        let _ = b.done("primary key of `employees`", true);
        let add = b.done("primary key of `salaries`", true);
        let validate = finish_all(&b, add);
        // The validation found orphans (failed): the key is over for now, statistics follow.
        assert_eq!(
            names(&b.done(&validate[0].what, false)),
            ["analyzing `salaries`"]
        );
    }

    #[test]
    fn without_early_constraints_only_keys_follow_the_copy() {
        let a = AfterCopy::new("s", &schema(), false);
        let keys = a.table_copied(3);
        assert_eq!(names(&keys), ["primary key of `employees`"]);
        let keys2 = a.table_copied(0);
        assert!(finish_all(&a, keys).is_empty());
        assert!(finish_all(&a, keys2).is_empty());
    }
}
