//! Which sessions are revoked, known in memory so access tokens validate without a database round
//! trip, and kept correct across replicas.
//!
//! Every revocation is written to `session_revocations` in the transaction that causes it. Each
//! replica reads the rows recorded since its last read: at once after its own revocations, when
//! PostgreSQL announces one (LISTEN/NOTIFY), and on a short timer as the safety net for missed
//! announcements (and the only path on SQLite). Rows are forgotten once no access token of the
//! session can still be valid.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::Duration,
};

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbBackend};
use tokio::sync::Mutex;

use crate::{
    domain::{Clock, error::Result},
    store::sessions,
};

/// How far back each read reaches before the previous one, so a revocation committed late (or
/// stamped by a replica whose clock runs behind) is not missed.
const OVERLAP: chrono::Duration = chrono::Duration::seconds(60);

/// The revoked sessions this replica knows of.
pub struct Revocations {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    revoked: RwLock<HashMap<String, DateTime<Utc>>>,
    /// Revocations at or after this instant are still to be read; serializes syncs.
    watermark: Mutex<Option<DateTime<Utc>>>,
}

impl Revocations {
    /// An empty set; call [`Revocations::sync`] to fill it.
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        Self {
            db,
            clock,
            revoked: RwLock::new(HashMap::new()),
            watermark: Mutex::new(None),
        }
    }

    /// Whether session `sid` is revoked, from memory.
    pub fn is_revoked(&self, sid: &str) -> bool {
        self.revoked
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(sid)
    }

    /// Reads the revocations recorded since the last read, and drops those no longer needed.
    pub async fn sync(&self) -> Result<()> {
        let mut watermark = self.watermark.lock().await;
        let now = self.clock.now();
        let since = watermark.map_or(DateTime::<Utc>::UNIX_EPOCH, |w| w - OVERLAP);
        let rows = sessions::revocations_since(&self.db, since).await?;
        let mut latest = *watermark;
        {
            let mut revoked = self.revoked.write().unwrap_or_else(|e| e.into_inner());
            revoked.retain(|_, forget_after| *forget_after >= now);
            for (sid, revoked_at, forget_after) in rows {
                latest = latest.max(Some(revoked_at));
                if forget_after >= now {
                    revoked.insert(sid, forget_after);
                }
            }
        }
        *watermark = latest.or(Some(now - OVERLAP));
        Ok(())
    }

    /// Keeps the set current until `stop` turns true: reads every `interval`, and on PostgreSQL
    /// also whenever another replica announces a revocation.
    pub async fn follow(self: Arc<Self>, interval: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut announcements = match self.db.get_database_backend() {
            DbBackend::Postgres => listen(&self.db).await,
            _ => None,
        };
        let mut forget_tick = tokio::time::interval(Duration::from_secs(60));
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
                _ = tokio::time::sleep(interval) => {}
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
                _ = forget_tick.tick() => {
                    if let Err(error) = sessions::forget_revocations(&self.db, self.clock.now()).await {
                        tracing::warn!(error = %error, "forgetting old revocations failed");
                    }
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
