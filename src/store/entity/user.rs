use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub environment_id: String,
    pub email: String,
    pub name: Option<String>,
    pub profile_picture_url: Option<String>,
    pub phone_number: Option<String>,
    pub provider: String,
    pub metadata: Option<String>,
    pub vendor_metadata: Option<String>,
    pub external_id: Option<String>,
    pub password_hash: Option<String>,
    pub verified: bool,
    pub activated: bool,
    pub locked: bool,
    pub mfa_bypass: bool,
    pub active_tenant_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_login: Option<DateTimeUtc>,
    pub terms_accepted_at: Option<DateTimeUtc>,
    /// The name folded to lower case (`domain::field::fold`), empty without a name: what
    /// listings match and sort names by.
    pub name_folded: String,
    /// Granted every permission in every tenant it is a member of.
    pub super_user: bool,
    /// Left out of its tenants' member listings.
    pub invisible: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
