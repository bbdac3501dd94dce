//! Password hashing on a small pool of dedicated threads, off the async runtime, behind a bounded
//! queue: a flood of sign-ins waits for (or is refused) a hashing slot instead of starving other
//! requests. Each worker keeps its argon2id memory while busy and gives it back after a second
//! without work, so an idle server stays small. A job carries the caller's span across to its
//! thread, where the hashing runs in a child span; queue depth and wait are measured.

use std::{
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};
use tokio::sync::oneshot;

use crate::{
    domain::{
        Error,
        error::Result,
        password::{self, Password, Workspace},
    },
    telemetry::metrics::Metrics,
};

/// How long a worker keeps its memory without work.
const KEEP_MEMORY: Duration = Duration::from_secs(1);

enum Work {
    Hash(Password, oneshot::Sender<anyhow::Result<String>>),
    Verify(Password, String, oneshot::Sender<anyhow::Result<bool>>),
}

/// Work with the span of the request it serves and the time it was queued.
struct Job {
    work: Work,
    parent: tracing::Span,
    queued: Instant,
}

/// Hands password work to the hashing threads. Cheap to clone; the threads stop when the last
/// clone is dropped.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    jobs: Sender<Job>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

fn work(jobs: Receiver<Job>, metrics: Arc<Metrics>) {
    let mut workspace = Workspace::default();
    loop {
        let job = match jobs.recv_timeout(KEEP_MEMORY) {
            Ok(job) => job,
            Err(RecvTimeoutError::Timeout) => {
                workspace.release();
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let waited = job.queued.elapsed();
        metrics.hash_dequeued(Some(waited));
        // A caller that went away (a reset stream, a closed connection) waits for no answer:
        // hashing for it would only delay the callers still waiting.
        let gone = match &job.work {
            Work::Hash(_, reply) => reply.is_closed(),
            Work::Verify(_, _, reply) => reply.is_closed(),
        };
        if gone {
            metrics.hash_skipped();
            continue;
        }
        let name = match job.work {
            Work::Hash(..) => "password.hash",
            Work::Verify(..) => "password.verify",
        };
        let span = tracing::info_span!(
            parent: &job.parent,
            "password",
            otel.name = name,
            queue.wait_ms = waited.as_secs_f64() * 1000.0,
        );
        let _entered = span.enter();
        match job.work {
            Work::Hash(password, reply) => {
                let _ = reply.send(password::hash_in(&password, &mut workspace));
            }
            Work::Verify(password, phc, reply) => {
                let _ = reply.send(password::verify_in(&password, &phc, &mut workspace));
            }
        }
    }
}

impl PasswordHasher {
    /// `workers` hashing threads with room for `queue` jobs waiting, measured into `metrics`.
    pub fn new(workers: usize, queue: usize, metrics: Arc<Metrics>) -> Self {
        let (jobs, receiver) = crossbeam_channel::bounded(queue);
        for n in 0..workers.max(1) {
            let receiver = receiver.clone();
            let metrics = metrics.clone();
            let spawned = thread::Builder::new()
                .name(format!("sigil-hasher-{n}"))
                .spawn(move || work(receiver, metrics));
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a password hashing thread");
            }
        }
        Self { jobs, metrics }
    }

    /// A hasher sized for this machine: one thread per core.
    pub fn for_this_machine(metrics: Arc<Metrics>) -> Self {
        let cores = thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores, cores * 64, metrics)
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: Password) -> Result<String> {
        let (reply, answer) = oneshot::channel();
        self.submit(Work::Hash(password, reply))?;
        answer.await.map_err(Error::internal)?.map_err(Error::Internal)
    }

    /// Checks a password against a stored hash.
    pub async fn verify(&self, password: Password, phc: String) -> Result<bool> {
        let (reply, answer) = oneshot::channel();
        self.submit(Work::Verify(password, phc, reply))?;
        answer.await.map_err(Error::internal)?.map_err(Error::Internal)
    }

    fn submit(&self, work: Work) -> Result<()> {
        let job = Job {
            work,
            parent: tracing::Span::current(),
            queued: Instant::now(),
        };
        // Counted before it is sent, so a thread taking it at once never counts below zero.
        self.metrics.hash_queued();
        self.jobs.try_send(job).map_err(|e| {
            self.metrics.hash_dequeued(None);
            match e {
                TrySendError::Full(_) => {
                    Error::Unavailable("too many password checks are waiting; retry shortly")
                }
                TrySendError::Disconnected(_) => {
                    Error::internal(anyhow::anyhow!("the hashing threads are gone"))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_whose_caller_left_are_skipped() {
        let metrics = Metrics::shared();
        let hasher = PasswordHasher::new(1, 8, metrics.clone());
        // The first keeps the only thread busy while the others queue and their callers leave.
        let (reply, first) = oneshot::channel();
        hasher
            .submit(Work::Hash(Password::new("some password"), reply))
            .unwrap();
        for _ in 0..4 {
            let (reply, answer) = oneshot::channel();
            hasher
                .submit(Work::Hash(Password::new("some password"), reply))
                .unwrap();
            drop(answer);
        }
        let (reply, last) = oneshot::channel();
        hasher
            .submit(Work::Hash(Password::new("some password"), reply))
            .unwrap();
        first.await.unwrap().unwrap();
        last.await.unwrap().unwrap();
        assert!(
            metrics.render().contains("sigil_password_hash_skipped_total 4"),
            "{}",
            metrics.render()
        );
    }

    #[tokio::test]
    async fn a_full_queue_refuses_instead_of_waiting() {
        // One worker and room for one waiting job: of three jobs handed in at once (far faster
        // than a hash takes), at least one finds no room.
        let hasher = PasswordHasher::new(1, 1, Metrics::shared());
        let mut answers = Vec::new();
        let mut refused = 0;
        for _ in 0..3 {
            let (reply, answer) = oneshot::channel();
            match hasher.submit(Work::Hash(Password::new("some password"), reply)) {
                Ok(()) => answers.push(answer),
                Err(error) => {
                    assert_eq!(error.reason(), "UNAVAILABLE");
                    refused += 1;
                }
            }
        }
        assert!(refused >= 1);
        for answer in answers {
            let hash = answer.await.unwrap().unwrap();
            assert!(hasher.verify(Password::new("some password"), hash).await.unwrap());
        }
    }
}
