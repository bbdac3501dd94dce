//! Queries over single-use user tokens (activation, password reset, ...).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    sea_query::{CaseStatement, Expr, ExprTrait},
};

use super::First;
use super::entity::user_token;
use crate::domain::error::Result;

/// The stored form of a single-use token.
pub type UserTokenRow = user_token::Model;

/// What a single-use token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Activates an invited user.
    Activation,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            TokenKind::Activation => "activation",
        }
    }
}

/// A token to store: only digests, never the secrets.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    /// The user the token belongs to.
    pub user_id: &'a str,
    /// What it is for.
    pub kind: TokenKind,
    /// SHA-256 of the token.
    pub token_hash: String,
    /// SHA-256 of the short code that goes with it, if any.
    pub code_hash: Option<String>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Revokes the user's unused tokens of `kind`, then stores `token`. Call inside a transaction so
/// that exactly one token of the kind is live afterwards.
pub async fn replace(db: &impl ConnectionTrait, token: NewToken<'_>, now: DateTime<Utc>) -> Result<()> {
    user_token::Entity::update_many()
        .col_expr(user_token::Column::ConsumedAt, Expr::value(now))
        .filter(user_token::Column::UserId.eq(token.user_id))
        .filter(user_token::Column::Kind.eq(token.kind.as_str()))
        .filter(user_token::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    user_token::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        user_id: Set(token.user_id.to_owned()),
        kind: Set(token.kind.as_str().to_owned()),
        token_hash: Set(token.token_hash),
        code_hash: Set(token.code_hash),
        failed_attempts: Set(0),
        created_at: Set(now),
        expires_at: Set(token.expires_at),
        consumed_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The unused, unexpired token of `kind` with this digest, if it belongs to `user_id`.
pub async fn find_live(
    db: &impl ConnectionTrait,
    user_id: &str,
    kind: TokenKind,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<UserTokenRow>> {
    Ok(user_token::Entity::find()
        .filter(user_token::Column::TokenHash.eq(token_hash))
        .filter(user_token::Column::UserId.eq(user_id))
        .filter(user_token::Column::Kind.eq(kind.as_str()))
        .filter(user_token::Column::ConsumedAt.is_null())
        .filter(user_token::Column::ExpiresAt.gt(now))
        .first(db)
        .await?)
}

/// Uses a token up, once: false if it was already used, revoked or expired.
pub async fn consume(db: &impl ConnectionTrait, id: &str, now: DateTime<Utc>) -> Result<bool> {
    let result = user_token::Entity::update_many()
        .col_expr(user_token::Column::ConsumedAt, Expr::value(now))
        .filter(user_token::Column::Id.eq(id))
        .filter(user_token::Column::ConsumedAt.is_null())
        .filter(user_token::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Counts a wrong code against a token, in one statement so concurrent guesses all count; the
/// `max_attempts`-th wrong code uses the token up.
pub async fn count_wrong_code(
    db: &impl ConnectionTrait,
    id: &str,
    max_attempts: i32,
    now: DateTime<Utc>,
) -> Result<()> {
    let burned = CaseStatement::new()
        .case(
            Expr::col(user_token::Column::FailedAttempts)
                .add(1)
                .gte(max_attempts),
            Expr::value(now),
        )
        .finally(Expr::col(user_token::Column::ConsumedAt));
    user_token::Entity::update_many()
        .col_expr(
            user_token::Column::FailedAttempts,
            Expr::col(user_token::Column::FailedAttempts).add(1),
        )
        .col_expr(user_token::Column::ConsumedAt, burned.into())
        .filter(user_token::Column::Id.eq(id))
        .filter(user_token::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
