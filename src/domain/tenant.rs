//! Tenants (the contract's accounts).

use chrono::{DateTime, Utc};

use super::{
    email::Email,
    error::{FieldViolation, Result},
    field::{self, MAX_TEXT, MAX_URL},
    metadata,
    page::{Order, SortField},
};

/// Longest logo accepted inline, in characters (a small data URL).
pub const MAX_LOGO: usize = 256 * 1024;

/// A tenant as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    /// Row id, assigned by sigil.
    pub id: String,
    /// The caller-facing id.
    pub tenant_id: String,
    /// Display name.
    pub name: String,
    /// Descriptive fields.
    pub profile: TenantProfile,
    /// Whether the tenant resells.
    pub is_reseller: bool,
    /// The parent tenant's id, if any.
    pub parent_tenant_id: Option<String>,
    /// Metadata: any JSON value, an object unless a caller stored something else.
    pub metadata: serde_json::Value,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// The optional descriptive fields of a tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantProfile {
    /// Free-form status label.
    pub status: Option<String>,
    /// Website URL.
    pub website: Option<String>,
    /// Application URL.
    pub application_url: Option<String>,
    /// Inline logo.
    pub logo: Option<String>,
    /// Logo URL.
    pub logo_url: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Time zone.
    pub timezone: Option<String>,
    /// Currency code.
    pub currency: Option<String>,
    /// Creator's name.
    pub creator_name: Option<String>,
    /// Creator's email.
    pub creator_email: Option<String>,
}

/// A tenant's descriptive fields as a caller sends them: empty strings mean unset.
#[derive(Debug, Clone, Default)]
pub struct TenantProfileInput {
    /// Free-form status label.
    pub status: String,
    /// Website URL.
    pub website: String,
    /// Application URL.
    pub application_url: String,
    /// Inline logo.
    pub logo: String,
    /// Logo URL.
    pub logo_url: String,
    /// Postal address.
    pub address: String,
    /// Time zone.
    pub timezone: String,
    /// Currency code.
    pub currency: String,
    /// Creator's name.
    pub creator_name: String,
    /// Creator's email.
    pub creator_email: String,
}

/// A request to create a tenant, unchecked.
#[derive(Debug, Clone, Default)]
pub struct CreateTenant {
    /// Id to use; generated when empty.
    pub tenant_id: String,
    /// Display name.
    pub name: String,
    /// Descriptive fields.
    pub profile: TenantProfileInput,
    /// Reseller flag.
    pub is_reseller: bool,
    /// Parent tenant's id; empty for none.
    pub parent_tenant_id: String,
    /// Metadata, serialized JSON of any kind; empty for an empty object.
    pub metadata: String,
}

/// A checked request to create a tenant.
#[derive(Debug, Clone)]
pub struct NewTenant {
    /// Id to use; generated when unset.
    pub tenant_id: Option<String>,
    /// Display name.
    pub name: String,
    /// Descriptive fields.
    pub profile: TenantProfile,
    /// Reseller flag.
    pub is_reseller: bool,
    /// Parent tenant's id.
    pub parent_tenant_id: Option<String>,
    /// Metadata.
    pub metadata: serde_json::Value,
}

impl CreateTenant {
    /// Checks every field.
    pub fn parse(self) -> Result<NewTenant> {
        let tenant_id = match self.tenant_id.as_str() {
            "" => None,
            raw => Some(field::identifier("tenant_id", raw)?),
        };
        let parent_tenant_id = match self.parent_tenant_id.as_str() {
            "" => None,
            raw => Some(field::identifier("parent_tenant_id", raw)?),
        };
        Ok(NewTenant {
            tenant_id,
            name: field::required_text("name", &self.name, MAX_TEXT)?,
            profile: self.profile.parse()?,
            is_reseller: self.is_reseller,
            parent_tenant_id,
            metadata: match self.metadata.as_str() {
                "" => serde_json::Value::Object(serde_json::Map::new()),
                raw => metadata::parse_value("metadata", raw)?,
            },
        })
    }
}

impl TenantProfileInput {
    fn parse(self) -> Result<TenantProfile, FieldViolation> {
        Ok(TenantProfile {
            status: field::optional_text("status", &self.status, MAX_TEXT)?,
            website: field::optional_url("website", &self.website)?,
            application_url: field::optional_url("application_url", &self.application_url)?,
            logo: field::optional_text("logo", &self.logo, MAX_LOGO)?,
            logo_url: field::optional_url("logo_url", &self.logo_url)?,
            address: field::optional_text("address", &self.address, MAX_URL)?,
            timezone: field::optional_text("timezone", &self.timezone, MAX_TEXT)?,
            currency: field::optional_text("currency", &self.currency, MAX_TEXT)?,
            creator_name: field::optional_text("creator_name", &self.creator_name, MAX_TEXT)?,
            creator_email: optional_email("creator_email", &self.creator_email)?,
        })
    }
}

fn optional_email(field: &str, raw: &str) -> Result<Option<String>, FieldViolation> {
    if raw.is_empty() {
        return Ok(None);
    }
    Email::parse(field, raw).map(|e| Some(e.into_string()))
}

/// A request to change a tenant, unchecked: `None` leaves a field as it is, an empty string clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateTenant {
    /// New display name; cannot be cleared.
    pub name: Option<String>,
    /// New status.
    pub status: Option<String>,
    /// New website.
    pub website: Option<String>,
    /// New application URL.
    pub application_url: Option<String>,
    /// New logo.
    pub logo: Option<String>,
    /// New logo URL.
    pub logo_url: Option<String>,
    /// New address.
    pub address: Option<String>,
    /// New time zone.
    pub timezone: Option<String>,
    /// New currency.
    pub currency: Option<String>,
    /// New creator name.
    pub creator_name: Option<String>,
    /// New creator email.
    pub creator_email: Option<String>,
    /// New reseller flag.
    pub is_reseller: Option<bool>,
}

impl UpdateTenant {
    /// Whether the request sets no field at all.
    pub fn changes_nothing(&self) -> bool {
        *self == Self::default()
    }

    /// Applies the changes to `tenant`, checking each field that is set.
    pub fn apply_to(self, tenant: &mut Tenant) -> Result<()> {
        use field::patch as set;
        let p = &mut tenant.profile;
        set(&mut tenant.name, self.name, |v| {
            field::required_text("name", v, MAX_TEXT)
        })?;
        set(&mut p.status, self.status, |v| {
            field::optional_text("status", v, MAX_TEXT)
        })?;
        set(&mut p.website, self.website, |v| {
            field::optional_url("website", v)
        })?;
        set(&mut p.application_url, self.application_url, |v| {
            field::optional_url("application_url", v)
        })?;
        set(&mut p.logo, self.logo, |v| {
            field::optional_text("logo", v, MAX_LOGO)
        })?;
        set(&mut p.logo_url, self.logo_url, |v| {
            field::optional_url("logo_url", v)
        })?;
        set(&mut p.address, self.address, |v| {
            field::optional_text("address", v, MAX_URL)
        })?;
        set(&mut p.timezone, self.timezone, |v| {
            field::optional_text("timezone", v, MAX_TEXT)
        })?;
        set(&mut p.currency, self.currency, |v| {
            field::optional_text("currency", v, MAX_TEXT)
        })?;
        set(&mut p.creator_name, self.creator_name, |v| {
            field::optional_text("creator_name", v, MAX_TEXT)
        })?;
        set(&mut p.creator_email, self.creator_email, |v| {
            optional_email("creator_email", v)
        })?;
        if let Some(is_reseller) = self.is_reseller {
            tenant.is_reseller = is_reseller;
        }
        Ok(())
    }
}

/// Field a tenant listing is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TenantSort {
    /// Creation time.
    #[default]
    CreatedAt,
    /// Display name.
    Name,
    /// Tenant id.
    TenantId,
}

impl SortField for TenantSort {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("createdAt", Self::CreatedAt),
        ("name", Self::Name),
        ("tenantId", Self::TenantId),
    ];
}

/// Which tenants to list, and in which order.
#[derive(Debug, Clone, Default)]
pub struct TenantFilter {
    /// Text that the name or tenant id contains, ignoring case.
    pub text: Option<String>,
    /// Only these tenant ids, when not empty.
    pub tenant_ids: Vec<String>,
    /// Sort field.
    pub sort: TenantSort,
    /// Sort direction.
    pub order: Order,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_needs_a_name_and_a_clean_id() {
        let ok = CreateTenant {
            name: "Acme".into(),
            ..Default::default()
        };
        assert!(ok.clone().parse().unwrap().tenant_id.is_none());
        let unnamed = CreateTenant::default().parse().unwrap_err();
        assert_eq!(unnamed.violations()[0].field, "name");
        let bad_id = CreateTenant {
            tenant_id: "a/b".into(),
            ..ok.clone()
        };
        assert_eq!(bad_id.parse().unwrap_err().violations()[0].field, "tenant_id");
        let bad_email = CreateTenant {
            profile: TenantProfileInput {
                creator_email: "nope".into(),
                ..Default::default()
            },
            ..ok
        };
        assert_eq!(
            bad_email.parse().unwrap_err().violations()[0].field,
            "creator_email"
        );
    }
}
