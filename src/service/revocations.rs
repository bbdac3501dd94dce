//! Which sessions are revoked, known in memory so access tokens validate without a database round
//! trip, and kept correct across replicas.
//!
//! Every revocation is written to `session_revocations` in the transaction that causes it, numbered
//! by a database sequence. Each replica reads the rows numbered above what it has read: at once
//! after its own revocations, when PostgreSQL announces one (LISTEN/NOTIFY), and on a timer as the
//! safety net for missed announcements (and the only path on SQLite). The cursor is the sequence
//! number, never a timestamp, so a replica whose clock runs ahead cannot hide the revocations of
//! the others. Rows are forgotten once no access token of the session can still be valid.
//!
//! A replica that cannot read revocations for longer than the staleness bound stops vouching for
//! tokens: [`Revocations::ensure_fresh`] fails with UNAVAILABLE until a read succeeds again.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc, RwLock,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbBackend};
use tokio::sync::Mutex;

use crate::{
    domain::{Clock, Error, error::Result},
    store::sessions,
    telemetry::metrics::Metrics,
};

/// How long a number missing from the sequence is waited for before it is given up on.
///
/// PostgreSQL hands out sequence numbers when rows are inserted, but transactions commit in their
/// own order: a reader can see number 8 committed while 7 is still in flight. A reader that moved
/// its cursor past 7 would never see it. So numbers skipped between rows already read are tracked
/// as missing and read again at each sync until they show up or this long has passed (a number
/// can also never come: its transaction rolled back, or its insert met a conflict). A revoking
/// transaction takes milliseconds; one still uncommitted after this long is read by no replica
/// until it restarts (its refresh token is refused at once, as refreshes read the database).
const GAP_WAIT: chrono::Duration = chrono::Duration::seconds(60);

/// How often, at most, revocations past their use are deleted.
const FORGET_INTERVAL: Duration = Duration::from_secs(60);

/// How long rows are kept after their `forget_after`, which the revoking replica's clock set: a
/// replica whose clock runs ahead by less than this does not delete a row the others still need.
const FORGET_MARGIN: chrono::Duration = chrono::Duration::hours(1);

/// How far a replica has read the sequence of revocations.
#[derive(Debug, Default)]
struct Cursor {
    /// Every number up to this one has been read, or given up on.
    low: i64,
    /// The highest number read.
    high: i64,
    /// Numbers between `low` and `high` not read yet, as ranges: first number -> (last number,
    /// when they were first found missing).
    missing: BTreeMap<i64, (i64, DateTime<Utc>)>,
    /// Whether a read has been taken in yet.
    started: bool,
}

impl Cursor {
    /// Takes in the numbers of one read of every row numbered above `low`, in ascending order,
    /// read at `now`.
    fn advance(&mut self, seqs: impl IntoIterator<Item = i64>, now: DateTime<Utc>) {
        // At start, numbers below every stored row belong to revocations forgotten since (or to a
        // transaction older than all of them): they are not waited for.
        let mut at_start = !self.started;
        self.started = true;
        for seq in seqs {
            if seq > self.high {
                if seq > self.high + 1 && !at_start {
                    self.missing.insert(self.high + 1, (seq - 1, now));
                }
                self.high = seq;
            } else {
                self.fill(seq);
            }
            at_start = false;
        }
        self.missing.retain(|_, (_, since)| now - *since < GAP_WAIT);
        self.low = self.missing.keys().next().map_or(self.high, |first| first - 1);
    }

    /// Marks `seq` read.
    fn fill(&mut self, seq: i64) {
        let Some((&first, &(last, since))) = self.missing.range(..=seq).next_back() else {
            return;
        };
        if seq > last {
            return;
        }
        self.missing.remove(&first);
        if first < seq {
            self.missing.insert(first, (seq - 1, since));
        }
        if seq < last {
            self.missing.insert(seq + 1, (last, since));
        }
    }
}

/// Marks "never read" in [`Revocations::synced_at`].
const NEVER: i64 = i64::MIN;

/// The revoked sessions this replica knows of.
pub struct Revocations {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    max_staleness: chrono::Duration,
    revoked: RwLock<HashMap<String, DateTime<Utc>>>,
    /// How far the sequence has been read; serializes syncs.
    cursor: Mutex<Cursor>,
    /// When the last successful read began, in microseconds since the Unix epoch (by the clock).
    synced_at: AtomicI64,
}

impl Revocations {
    /// An empty set that trusts itself for `max_staleness` after each successful read; call
    /// [`Revocations::sync`] to fill it.
    pub fn new(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        max_staleness: Duration,
    ) -> Self {
        Self {
            db,
            clock,
            metrics,
            max_staleness: chrono::Duration::from_std(max_staleness).unwrap_or(chrono::Duration::MAX),
            revoked: RwLock::new(HashMap::new()),
            cursor: Mutex::new(Cursor::default()),
            synced_at: AtomicI64::new(NEVER),
        }
    }

    /// Whether session `sid` is revoked, from memory.
    pub fn is_revoked(&self, sid: &str) -> bool {
        self.revoked
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(sid)
    }

    /// How long ago the last successful read began, by the clock; `None` before the first.
    pub fn sync_age(&self) -> Option<chrono::Duration> {
        let synced = self.synced_at.load(Ordering::Relaxed);
        (synced != NEVER).then(|| {
            chrono::Duration::microseconds(self.clock.now().timestamp_micros().saturating_sub(synced))
        })
    }

    /// Fails with UNAVAILABLE when the last successful read began longer ago than the staleness
    /// bound: revocations made since may be missing, so no token is vouched for.
    pub fn ensure_fresh(&self) -> Result<()> {
        match self.sync_age() {
            Some(age) if age <= self.max_staleness => Ok(()),
            _ => Err(Error::Unavailable(
                "session revocations could not be read recently; try again later",
            )),
        }
    }

    /// Reads the revocations numbered above what was read, and drops those no longer needed.
    pub async fn sync(&self) -> Result<()> {
        let mut cursor = self.cursor.lock().await;
        let began = self.clock.now();
        let rows = match sessions::revocations_after(&self.db, cursor.low).await {
            Ok(rows) => rows,
            Err(error) => {
                self.metrics.revocation_sync(false);
                return Err(error);
            }
        };
        {
            let mut revoked = self.revoked.write().unwrap_or_else(|e| e.into_inner());
            revoked.retain(|_, forget_after| *forget_after >= began);
            for row in &rows {
                if row.forget_after >= began {
                    revoked.insert(row.session_id.clone(), row.forget_after);
                }
            }
        }
        cursor.advance(rows.iter().map(|row| row.seq), began);
        self.synced_at
            .fetch_max(began.timestamp_micros(), Ordering::Relaxed);
        self.metrics.revocation_sync(true);
        Ok(())
    }

    /// Keeps the set current until `stop` turns true: reads every `interval` of the clock, and on
    /// PostgreSQL also whenever another replica announces a revocation.
    pub async fn follow(self: Arc<Self>, interval: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut announcements = match self.db.get_database_backend() {
            DbBackend::Postgres => listen(&self.db).await,
            _ => None,
        };
        let forget_every = chrono::Duration::from_std(FORGET_INTERVAL).unwrap_or(chrono::Duration::MAX);
        let mut next_forget = self.clock.now() + forget_every;
        loop {
            if *stop.borrow() {
                return;
            }
            tokio::select! {
                changed = stop.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    continue;
                }
                () = self.clock.sleep(interval) => {}
                notified = async {
                    match announcements.as_mut() {
                        Some(listener) => listener.recv().await.map(|_| ()),
                        None => std::future::pending().await,
                    }
                } => {
                    if let Err(error) = notified {
                        // The listener reconnects by itself; the timer covers the gap.
                        tracing::warn!(error = %error, "revocation announcements interrupted");
                    }
                }
            }
            let now = self.clock.now();
            if now >= next_forget {
                next_forget = now + forget_every;
                if let Err(error) = sessions::forget_revocations(&self.db, now - FORGET_MARGIN).await {
                    tracing::warn!(error = %error, "forgetting old revocations failed");
                }
            }
            if let Err(error) = self.sync().await {
                tracing::warn!(error = %error, "reading revocations failed");
            }
        }
    }
}

async fn listen(db: &DatabaseConnection) -> Option<sqlx::postgres::PgListener> {
    let pool = db.get_postgres_connection_pool();
    let listener = async {
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(sessions::REVOCATION_CHANNEL).await?;
        Ok::<_, sqlx::Error>(listener)
    };
    match listener.await {
        Ok(listener) => Some(listener),
        Err(error) => {
            tracing::warn!(error = %error, "cannot listen for revocations; reading them on a timer only");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::seconds(seconds)
    }

    #[test]
    fn the_cursor_follows_numbers_read_in_order() {
        let mut cursor = Cursor::default();
        cursor.advance([3, 4, 5], at(0));
        assert_eq!(
            (cursor.low, cursor.high),
            (5, 5),
            "numbers below the first row are old"
        );
        cursor.advance([6, 7], at(1));
        assert_eq!((cursor.low, cursor.high), (7, 7));
        cursor.advance([], at(2));
        assert_eq!(cursor.low, 7);
    }

    #[test]
    fn a_number_committed_late_is_waited_for_and_read() {
        let mut cursor = Cursor::default();
        cursor.advance([1], at(0));
        // 2 and 3 are still in flight when 4 commits.
        cursor.advance([4], at(1));
        assert_eq!((cursor.low, cursor.high), (1, 4), "reads again from above 1");
        cursor.advance([3, 4], at(2));
        assert_eq!(cursor.low, 1, "2 is still missing");
        cursor.advance([2, 3, 4, 5], at(3));
        assert_eq!((cursor.low, cursor.high), (5, 5));
        assert!(cursor.missing.is_empty());
    }

    #[test]
    fn a_number_that_never_comes_is_given_up_after_the_wait() {
        let mut cursor = Cursor::default();
        cursor.advance([1], at(0));
        cursor.advance([3], at(10));
        cursor.advance([3, 6], at(40));
        assert_eq!(cursor.low, 1);
        assert_eq!(cursor.missing.len(), 2, "2, and 4 to 5");
        cursor.advance([3, 6], at(10 + GAP_WAIT.num_seconds()));
        assert_eq!(cursor.low, 3, "2 given up on; 4 and 5 still awaited");
        cursor.advance([6], at(40 + GAP_WAIT.num_seconds()));
        assert_eq!((cursor.low, cursor.high), (6, 6));
    }

    #[test]
    fn filling_the_middle_of_a_range_splits_it() {
        let mut cursor = Cursor::default();
        cursor.advance([1], at(0));
        cursor.advance([10], at(1));
        cursor.advance([5], at(2));
        let ranges: Vec<_> = cursor.missing.iter().map(|(f, (l, _))| (*f, *l)).collect();
        assert_eq!(ranges, [(2, 4), (6, 9)]);
        assert_eq!(cursor.low, 1);
    }
}
