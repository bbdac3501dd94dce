//! Outgoing messages to users. Delivery (SMTP) is configured by the email issue; until then the
//! default mailer drops messages with a warning, and tests plug in [`MemoryMailer`].

use std::sync::Mutex;

use crate::domain::{error::Result, secret::Secret};

/// A message for a user.
#[derive(Debug, Clone)]
pub enum Message {
    /// The link and code that activate an invited user.
    Activation {
        /// The environment sending it.
        environment_id: String,
        /// The recipient's user id.
        user_id: String,
        /// The recipient's address.
        to: String,
        /// The activation link, carrying the token.
        link: Secret,
        /// The short code that goes with the token.
        code: Secret,
        /// Template values from the caller.
        metadata: serde_json::Value,
    },
}

/// Delivers messages to users.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends `message`.
    async fn send(&self, message: Message) -> Result<()>;
}

/// The mailer used when none is configured: it delivers nothing and says so in the log, without
/// the secrets the message carries.
#[derive(Debug, Default)]
pub struct NoMailer;

#[async_trait::async_trait]
impl Mailer for NoMailer {
    async fn send(&self, message: Message) -> Result<()> {
        match message {
            Message::Activation { user_id, .. } => {
                tracing::warn!(%user_id, "no mailer is configured: the activation email was not sent");
            }
        }
        Ok(())
    }
}

/// Keeps messages in memory, for tests.
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<Message>>,
}

impl MemoryMailer {
    /// Every message sent so far, oldest first.
    pub fn sent(&self) -> Vec<Message> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[async_trait::async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, message: Message) -> Result<()> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).push(message);
        Ok(())
    }
}
