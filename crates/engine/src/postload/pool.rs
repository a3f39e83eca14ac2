//! A pool of connections running post-load steps, each in its own transaction together with
//! its ledger record, so a step is done once and never twice.
//!
//! Steps can be queued while the pool runs (a table's keys start as soon as its copy is done,
//! while other tables still copy), and a finished step can release others through a
//! [`FollowUp`]: the pool then runs a dependency graph without knowing its shape.

use super::{test_hook_step_delay, Step};
use crate::ledger::{item, Ledger};
use crate::progress::{ProgressEvent, ProgressSink};
use crate::sync::lock;
use crate::EngineError;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Notify;

/// Steps that depend on others: told when each step ends, it names the steps that may start.
pub(crate) trait FollowUp: Send + Sync {
    /// `what` ended: committed, or found done in the ledger (`ok`), or failed (`!ok`).
    fn done(&self, what: &str, ok: bool) -> Vec<Step>;
    /// A failure a later phase deals with (a foreign key that finds orphans before orphan
    /// cleanup): not an error of the pool.
    fn tolerated(&self, what: &str, error: &tokio_postgres::Error) -> bool;
}

struct Queue {
    steps: VecDeque<Step>,
    /// Queued or running steps; the pool is drained when this is 0 after `finish`.
    pending: usize,
    closed: bool,
}

impl Queue {
    /// The queued step of the largest weight, the earliest queued among equals.
    fn take_heaviest(&mut self) -> Option<Step> {
        let mut best: Option<(usize, u64)> = None;
        for (i, step) in self.steps.iter().enumerate() {
            if best.is_none_or(|(_, w)| step.weight > w) {
                best = Some((i, step.weight));
            }
        }
        self.steps.remove(best?.0)
    }
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Notify,
    errors: Mutex<Vec<String>>,
    follow_up: Option<Arc<dyn FollowUp>>,
    /// The copy still runs: steps that start now build without parallel workers.
    copy_running: AtomicBool,
}

impl Shared {
    fn push(&self, steps: Vec<Step>) {
        if steps.is_empty() {
            return;
        }
        let mut q = lock(&self.queue);
        q.pending += steps.len();
        q.steps.extend(steps);
        drop(q);
        self.wake.notify_waiters();
    }

    /// The next step, or `None` once the pool is closed and nothing is left to come.
    async fn next(&self) -> Option<Step> {
        loop {
            // Registered before looking, so a push in between is not missed.
            let woken = self.wake.notified();
            {
                let mut q = lock(&self.queue);
                if let Some(step) = q.take_heaviest() {
                    return Some(step);
                }
                if q.closed && q.pending == 0 {
                    return None;
                }
            }
            woken.await;
        }
    }

    /// A step ended: queue what it releases before it stops counting as pending, so the pool
    /// cannot look drained in between.
    fn ended(&self, what: &str, ok: bool) {
        if let Some(f) = &self.follow_up {
            self.push(f.done(what, ok));
        }
        lock(&self.queue).pending -= 1;
        self.wake.notify_waiters();
    }
}

/// Statements on up to `workers` connections. Every failure is reported, not just the first.
pub(crate) struct StepPool {
    shared: Arc<Shared>,
    handles: Vec<tokio::task::JoinHandle<()>>,
    run: Arc<super::PostLoadRun>,
}

impl StepPool {
    pub(crate) fn start(
        pg: &super::StepTarget,
        workers: usize,
        sink: &Arc<dyn ProgressSink>,
        ledger: &Arc<Ledger>,
    ) -> StepPool {
        StepPool::with_follow_up(pg, workers, sink, ledger, None)
    }

    pub(crate) fn with_follow_up(
        pg: &super::StepTarget,
        workers: usize,
        sink: &Arc<dyn ProgressSink>,
        ledger: &Arc<Ledger>,
        follow_up: Option<Arc<dyn FollowUp>>,
    ) -> StepPool {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                steps: VecDeque::new(),
                pending: 0,
                closed: false,
            }),
            wake: Notify::new(),
            errors: Mutex::new(Vec::new()),
            follow_up,
            copy_running: AtomicBool::new(false),
        });
        let handles = (0..workers.max(1))
            .map(|_| {
                let worker = Worker {
                    shared: shared.clone(),
                    pg: pg.clone(),
                    sink: sink.clone(),
                    ledger: ledger.clone(),
                };
                tokio::spawn(worker.run())
            })
            .collect();
        StepPool {
            shared,
            handles,
            run: pg.run.clone(),
        }
    }

    pub(crate) fn push(&self, steps: Vec<Step>) {
        self.shared.push(steps);
    }

    /// Whether the copy is running. An index build that starts while it is gets no parallel
    /// workers (`max_parallel_maintenance_workers = 0` for its transaction): the server's
    /// cores are busy with the COPY streams then, and on the employees benchmark (2 cores)
    /// the workers only added coordination, about 0.07 s of a 2.7 s run. Builds that start
    /// after the copy keep the server's setting.
    pub(crate) fn copy_running(&self, running: bool) {
        self.shared.copy_running.store(running, Ordering::SeqCst);
    }

    /// Wait for every queued step and every step they release; all failures together.
    pub(crate) async fn finish(self) -> Result<(), EngineError> {
        lock(&self.shared.queue).closed = true;
        self.shared.wake.notify_waiters();
        for h in self.handles {
            if let Err(e) = h.await {
                lock(&self.shared.errors).push(format!("a post-load worker failed: {e}"));
            }
        }
        let errors = std::mem::take(&mut *lock(&self.shared.errors));
        if errors.is_empty() && self.run.cancelled() {
            Err(EngineError::Interrupted)
        } else if errors.is_empty() {
            Ok(())
        } else {
            Err(EngineError::Copy {
                count: errors.len(),
                errors,
            })
        }
    }
}

struct Worker {
    shared: Arc<Shared>,
    pg: super::StepTarget,
    sink: Arc<dyn ProgressSink>,
    ledger: Arc<Ledger>,
}

impl Worker {
    async fn run(self) {
        let mut client: Option<tokio_postgres::Client> = None;
        while let Some(step) = self.shared.next().await {
            let what = step.what.clone();
            let ok = self.run_step(&mut client, step).await;
            self.shared.ended(&what, ok);
        }
    }

    /// Run one step; `true` when it is done (now or by an earlier run).
    async fn run_step(&self, client: &mut Option<tokio_postgres::Client>, step: Step) -> bool {
        let key = item::step(&step.what);
        let progress = &self.pg.run;
        if self.ledger.is_done(&key) {
            progress.ended(&step.what);
            return true;
        }
        // An interrupt stops the run between steps: queued steps do not start.
        if progress.cancelled() {
            return false;
        }
        // Connect on the first step only: an idle pool costs no connection.
        if client.is_none() {
            match self.pg.connect().await {
                Ok(c) => *client = Some(c),
                Err(e) => {
                    lock(&self.shared.errors).push(e.to_string());
                    return false;
                }
            }
        }
        let Some(c) = client.as_ref() else {
            return false;
        };
        progress.started(&step.what);
        test_hook_step_delay().await;
        if progress.cancelled() {
            progress.stopped(&step.what);
            return false;
        }
        let started = Instant::now();
        let serial = if self.shared.copy_running.load(Ordering::SeqCst) {
            "SET LOCAL max_parallel_maintenance_workers = 0;\n"
        } else {
            ""
        };
        let sql = format!(
            "BEGIN;\n{serial}{};\n{};\nCOMMIT",
            step.sql,
            self.ledger.record_sql(&key, 0)
        );
        let result = c.batch_execute(&sql).await;
        progress.ended(&step.what);
        let Err(e) = result else {
            self.ledger.mark_done(&key);
            self.sink.event(ProgressEvent::Step {
                what: step.what,
                seconds: started.elapsed().as_secs_f64(),
            });
            return true;
        };
        let _ = c.batch_execute("ROLLBACK").await;
        let tolerated = self
            .shared
            .follow_up
            .as_ref()
            .is_some_and(|f| f.tolerated(&step.what, &e));
        if !tolerated {
            let error = barge_pg::PgError::Statement {
                what: step.what,
                message: barge_pg::target::db_message(&e),
                statement: step.sql,
            };
            lock(&self.shared.errors).push(error.to_string());
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heaviest_step_goes_first_and_equals_keep_their_order() {
        let step = |what: &str, weight| Step {
            what: what.into(),
            sql: String::new(),
            weight,
        };
        let mut q = Queue {
            steps: VecDeque::from([
                step("small key", 24),
                step("titles key", 443_308),
                step("salaries key", 2_844_047),
                step("sequence a", 0),
                step("sequence b", 0),
            ]),
            pending: 5,
            closed: false,
        };
        let order: Vec<String> = std::iter::from_fn(|| q.take_heaviest())
            .map(|s| s.what)
            .collect();
        assert_eq!(
            order,
            [
                "salaries key",
                "titles key",
                "small key",
                "sequence a",
                "sequence b"
            ]
        );
    }
}
