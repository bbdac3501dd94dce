//! Queries over single-use user tokens (activation, password reset, ...).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    sea_query::{CaseStatement, Expr, ExprTrait},
};

use super::{
    First,
    entity::{user, user_token},
    users::users_of,
};
use crate::domain::{Error, Resource, error::Result, scope::Scope};

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
pub async fn replace(
    db: &impl ConnectionTrait,
    scope: &Scope,
    token: NewToken<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    let owner = user::Entity::find_by_id(token.user_id)
        .filter(user::Column::EnvironmentId.eq(scope.environment_id()))
        .first(db)
        .await?;
    if owner.is_none() {
        return Err(Error::NotFound(Resource::User));
    }
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

/// The token of `kind` with this digest, if it was issued to `user_id` of the scope, whether or
/// not it is still usable (see [`is_live`]).
pub async fn find_issued(
    db: &impl ConnectionTrait,
    scope: &Scope,
    user_id: &str,
    kind: TokenKind,
    token_hash: &str,
) -> Result<Option<UserTokenRow>> {
    Ok(user_token::Entity::find()
        .filter(user_token::Column::TokenHash.eq(token_hash))
        .filter(user_token::Column::UserId.eq(user_id))
        .filter(user_token::Column::UserId.in_subquery(users_of(scope)))
        .filter(user_token::Column::Kind.eq(kind.as_str()))
        .first(db)
        .await?)
}

/// Whether a token is unused and unexpired at `now`.
pub fn is_live(token: &UserTokenRow, now: DateTime<Utc>) -> bool {
    token.consumed_at.is_none() && token.expires_at > now
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
