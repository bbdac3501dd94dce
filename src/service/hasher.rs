//! Password hashing off the async runtime, behind a bounded queue: a flood of sign-ins waits for
//! (or is refused) a hashing slot instead of starving every other request of CPU.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::domain::{
    Error,
    error::Result,
    password::{self, Password},
};

/// Runs argon2id on the blocking pool, at most `workers` at a time, with at most `queue` waiting.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    workers: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
}

impl PasswordHasher {
    /// A hasher with `workers` parallel hashes and room for `queue` more waiting.
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        Self {
            workers: Arc::new(Semaphore::new(workers)),
            admitted: Arc::new(Semaphore::new(workers + queue)),
        }
    }

    /// A hasher sized for this machine: one worker per core.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores, cores * 64)
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: Password) -> Result<String> {
        self.run(move || password::hash(&password)).await
    }

    /// Checks a password against a stored hash.
    pub async fn verify(&self, password: Password, phc: String) -> Result<bool> {
        self.run(move || password::verify(&password, &phc)).await
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T> {
        let _admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::Unavailable("too many password checks are waiting; retry shortly"))?;
        let _worker = self
            .workers
            .clone()
            .acquire_owned()
            .await
            .map_err(Error::internal)?;
        tokio::task::spawn_blocking(job)
            .await
            .map_err(Error::internal)?
            .map_err(Error::Internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_refuses_instead_of_waiting() {
        let hasher = PasswordHasher::new(1, 0);
        let held = hasher.admitted.clone().try_acquire_owned().unwrap();
        let refused = hasher.hash(Password::new("irrelevant")).await.unwrap_err();
        assert_eq!(refused.reason(), "UNAVAILABLE");
        drop(held);
        let hash = hasher.hash(Password::new("now it fits")).await.unwrap();
        assert!(hasher.verify(Password::new("now it fits"), hash).await.unwrap());
    }
}
