//! Password hashing on a small pool of dedicated threads, off the async runtime, behind a bounded
//! queue: a flood of sign-ins waits for (or is refused) a hashing slot instead of starving other
//! requests. Each worker keeps its argon2id memory while busy and gives it back after a second
//! without work, so an idle server stays small.

use std::{thread, time::Duration};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};
use tokio::sync::oneshot;

use crate::domain::{
    Error,
    error::Result,
    password::{self, Password, Workspace},
};

/// How long a worker keeps its memory without work.
const KEEP_MEMORY: Duration = Duration::from_secs(1);

enum Job {
    Hash(Password, oneshot::Sender<anyhow::Result<String>>),
    Verify(Password, String, oneshot::Sender<anyhow::Result<bool>>),
}

/// Hands password work to the hashing threads. Cheap to clone; the threads stop when the last
/// clone is dropped.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    jobs: Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

fn work(jobs: Receiver<Job>) {
    let mut workspace = Workspace::default();
    loop {
        match jobs.recv_timeout(KEEP_MEMORY) {
            Ok(Job::Hash(password, reply)) => {
                let _ = reply.send(password::hash_in(&password, &mut workspace));
            }
            Ok(Job::Verify(password, phc, reply)) => {
                let _ = reply.send(password::verify_in(&password, &phc, &mut workspace));
            }
            Err(RecvTimeoutError::Timeout) => workspace.release(),
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

impl PasswordHasher {
    /// `workers` hashing threads with room for `queue` jobs waiting.
    pub fn new(workers: usize, queue: usize) -> Self {
        let (jobs, receiver) = crossbeam_channel::bounded(queue);
        for n in 0..workers.max(1) {
            let receiver = receiver.clone();
            let spawned = thread::Builder::new()
                .name(format!("sigil-hasher-{n}"))
                .spawn(move || work(receiver));
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a password hashing thread");
            }
        }
        Self { jobs }
    }

    /// A hasher sized for this machine: one thread per core.
    pub fn for_this_machine() -> Self {
        let cores = thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores, cores * 64)
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: Password) -> Result<String> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash(password, reply))?;
        answer.await.map_err(Error::internal)?.map_err(Error::Internal)
    }

    /// Checks a password against a stored hash.
    pub async fn verify(&self, password: Password, phc: String) -> Result<bool> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Verify(password, phc, reply))?;
        answer.await.map_err(Error::internal)?.map_err(Error::Internal)
    }

    fn submit(&self, job: Job) -> Result<()> {
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => {
                Error::Unavailable("too many password checks are waiting; retry shortly")
            }
            TrySendError::Disconnected(_) => Error::internal(anyhow::anyhow!("the hashing threads are gone")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_refuses_instead_of_waiting() {
        // One worker and room for one waiting job: of three jobs handed in at once (far faster
        // than a hash takes), at least one finds no room.
        let hasher = PasswordHasher::new(1, 1);
        let mut answers = Vec::new();
        let mut refused = 0;
        for _ in 0..3 {
            let (reply, answer) = oneshot::channel();
            match hasher.submit(Job::Hash(Password::new("some password"), reply)) {
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
