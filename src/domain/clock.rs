//! Time as a dependency, so that tests move it instead of sleeping.

use std::{future::Future, pin::Pin, time::Duration};

use chrono::{DateTime, Utc};

/// A future that completes once a clock has reached an instant.
pub type Alarm<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// A source of the current time. Background loops wait on it too, so that a test that moves the
/// clock runs them (key rotation, revocation sync, database watch) without waiting.
pub trait Clock: Send + Sync + 'static {
    /// The current instant, in UTC.
    fn now(&self) -> DateTime<Utc>;

    /// Completes once [`Clock::now`] has reached `deadline`. The default sleeps on the runtime's
    /// timer, checking the clock again on waking, so a wall clock that was set back is waited out.
    fn sleep_until(&self, deadline: DateTime<Utc>) -> Alarm<'_> {
        Box::pin(async move {
            loop {
                match (deadline - self.now()).to_std() {
                    Ok(left) if !left.is_zero() => tokio::time::sleep(left).await,
                    _ => return,
                }
            }
        })
    }

    /// Completes once `period` has passed by this clock.
    fn sleep(&self, period: Duration) -> Alarm<'_> {
        let deadline = chrono::Duration::from_std(period)
            .ok()
            .and_then(|period| self.now().checked_add_signed(period))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        self.sleep_until(deadline)
    }
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_system_clock_sleeps_for_the_period() {
        let started = std::time::Instant::now();
        SystemClock.sleep(Duration::from_millis(30)).await;
        assert!(started.elapsed() >= Duration::from_millis(30));
        // A deadline in the past completes at once.
        SystemClock
            .sleep_until(Utc::now() - chrono::Duration::hours(1))
            .await;
    }
}
