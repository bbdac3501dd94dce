use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    pub environment_id: String,
    pub algorithm: String,
    pub private_key: String,
    pub encrypted: bool,
    pub public_n: String,
    pub public_e: String,
    pub created_at: DateTimeUtc,
    pub retired_at: Option<DateTimeUtc>,
    pub expires_at: DateTimeUtc,
    /// The id of the master key that sealed `private_key`; `None` when unsealed, or sealed
    /// before ids were recorded.
    pub sealed_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
