//! Query parameters and headers of the contract's listings and management routes, read by hand:
//! the contract repeats array parameters (`_tenantIds=a&_tenantIds=b`) or joins them with commas,
//! which no serde form decoder reads both ways, and every bad value must name its parameter.

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, request::Parts},
};
use serde::Serialize;

use super::error::ApiError;
use crate::domain::{
    Error,
    page::{self, DEFAULT_LIMIT, MAX_LIMIT, Order, Page, PageRequest, SortField},
};

/// Header naming the tenant a management request is about.
pub const TENANT_HEADER: &str = "frontegg-tenant-id";
/// Header naming the user a management request is about.
pub const USER_HEADER: &str = "frontegg-user-id";
/// The decoded query string of a request.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        Ok(Self(
            url::form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }
}

impl Params {
    /// The single value of `name`; given twice it is refused.
    pub fn one(&self, name: &str) -> Result<Option<&str>, Error> {
        let mut values = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(Error::invalid(name, "must be given once"));
        }
        Ok(first)
    }

    /// The single value of `name`, where an empty value counts as absent.
    pub fn text(&self, name: &str) -> Result<Option<String>, Error> {
        Ok(self.one(name)?.filter(|v| !v.is_empty()).map(str::to_owned))
    }

    /// A whole number, refusing fractions and anything that is not a number.
    pub fn integer(&self, name: &str) -> Result<Option<i64>, Error> {
        match self.one(name)? {
            None | Some("") => Ok(None),
            Some(raw) => raw
                .parse::<i64>()
                .map(Some)
                .map_err(|_| Error::invalid(name, "must be a whole number")),
        }
    }

    /// `true` or `false`.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, Error> {
        match self.one(name)? {
            None | Some("") => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(Error::invalid(name, "must be true or false")),
        }
    }

    /// Every value of `name`, whether repeated or joined with commas; empty items are dropped,
    /// and more than [`page::MAX_LIST`] refused.
    pub fn list(&self, name: &str) -> Result<Vec<String>, Error> {
        let values = self
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(|v| v.trim().to_owned())
            .collect();
        Ok(page::bounded_list(name, values)?)
    }

    /// `name`: a sort field under its contract name, or the listing's default when absent.
    pub fn sort<T: SortField>(&self, name: &str) -> Result<T, Error> {
        Ok(T::parse(name, self.one(name)?.unwrap_or_default())?)
    }

    /// `_order`: `ASC` or `DESC`, in either case.
    pub fn order(&self) -> Result<Order, Error> {
        Ok(Order::parse("_order", self.one("_order")?.unwrap_or_default())?)
    }

    /// `_limit` and `_offset`, where the offset counts pages of `_limit` items, as the contract
    /// has it (0 is the first page).
    pub fn page(&self) -> Result<PageRequest, Error> {
        let limit = self.integer("_limit")?.unwrap_or(0);
        if !(0..=MAX_LIMIT as i64).contains(&limit) {
            return Err(Error::invalid(
                "_limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let size = if limit == 0 { DEFAULT_LIMIT as i64 } else { limit };
        let page = self.integer("_offset")?.unwrap_or(0);
        let skipped = page
            .checked_mul(size)
            .filter(|_| page >= 0)
            .ok_or_else(|| Error::invalid("_offset", "must be a page number from 0"))?;
        PageRequest::parse(size, skipped)
            .map_err(|_| Error::invalid("_offset", "must be a page number from 0"))
    }

    /// Refuses parameters of the contract that sigil cannot honour, rather than ignoring them
    /// and answering with a listing the caller did not ask for.
    pub fn refuse(&self, names: &[&str]) -> Result<(), Error> {
        match names.iter().find(|name| self.0.iter().any(|(k, _)| k == *name)) {
            Some(name) => Err(Error::invalid(*name, "is not supported")),
            None => Ok(()),
        }
    }
}

/// The value of header `name`, if present and not empty; unreadable values are refused.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, Error> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(|v| Some(v.trim()).filter(|v| !v.is_empty()))
            .map_err(|_| Error::invalid(name, "must be visible ASCII")),
    }
}

/// The value of header `name`, which the route requires.
pub fn required_header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, Error> {
    header(headers, name)?.ok_or_else(|| Error::invalid(name, "is required"))
}

/// The contract's `_metadata` of a page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageMetadata {
    /// Items across all pages.
    pub total_items: u64,
    /// Pages of this size across the listing.
    pub total_pages: u64,
}

/// The contract's `_links` of a page: relative query strings of its neighbours, empty where
/// there is none.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PageLinks {
    /// The next page.
    pub next: String,
    /// The previous page.
    pub prev: String,
    /// The first page.
    pub first: String,
    /// The last page.
    pub last: String,
}

/// The `_metadata` and `_links` of the contract's page of `page`, cut with `request`.
pub fn page_parts<T>(page: &Page<T>, request: PageRequest) -> (PageMetadata, PageLinks) {
    let number = request.offset / request.limit;
    let link = |n: u64| format!("?_limit={}&_offset={n}", request.limit);
    let last = page.total_pages.saturating_sub(1);
    (
        PageMetadata {
            total_items: page.total_items,
            total_pages: page.total_pages,
        },
        PageLinks {
            next: if number < last {
                link(number + 1)
            } else {
                String::new()
            },
            prev: if number > 0 {
                link(number - 1)
            } else {
                String::new()
            },
            first: link(0),
            last: link(last),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> Params {
        Params(
            url::form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    #[test]
    fn offsets_count_pages() {
        let page = params("_limit=10&_offset=2").page().unwrap();
        assert_eq!((page.limit, page.offset), (10, 20));
        assert_eq!(params("").page().unwrap().limit, DEFAULT_LIMIT);
        for bad in [
            "_limit=201",
            "_limit=-1",
            "_limit=x",
            "_offset=-1",
            "_limit=1.5",
            "_offset=9223372036854775807",
        ] {
            assert!(params(bad).page().is_err(), "{bad}");
        }
    }

    #[test]
    fn lists_are_repeated_or_joined() {
        assert_eq!(params("a=x&a=y,z&a=").list("a").unwrap(), ["x", "y", "z"]);
        let many = vec!["x"; page::MAX_LIST + 1].join(",");
        assert!(params(&format!("a={many}")).list("a").is_err());
    }

    #[test]
    fn sorts_name_the_parameter() {
        let p = params("_sortBy=nope");
        let error = p
            .sort::<crate::domain::tenant::TenantSort>("_sortBy")
            .unwrap_err();
        assert_eq!(error.violations()[0].field, "_sortBy");
        assert!(params("_order=sideways").order().is_err());
        assert_eq!(params("_order=desc").order().unwrap(), Order::Desc);
    }
}
