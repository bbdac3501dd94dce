//! Offset pagination as the contract has it: `_limit`, `_offset` and the totals.

use super::error::FieldViolation;

/// Page size when the caller gives none.
pub const DEFAULT_LIMIT: u64 = 50;
/// Largest page size.
pub const MAX_LIMIT: u64 = 200;

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// Most values a list filter (ids, tenant ids, phrases) may hold, from either transport: each
/// becomes a bound SQL parameter, and databases cap those.
pub const MAX_LIST: usize = 1000;

/// A list filter's values without empty ones, refused past [`MAX_LIST`].
pub fn bounded_list(field: &str, values: Vec<String>) -> Result<Vec<String>, FieldViolation> {
    let values: Vec<String> = values.into_iter().filter(|v| !v.is_empty()).collect();
    if values.len() > MAX_LIST {
        return Err(FieldViolation::new(
            field,
            format!("must list at most {MAX_LIST} values"),
        ));
    }
    Ok(values)
}

/// A listing's sort field: the names the contract gives each, parsed the same way for both
/// transports.
pub trait SortField: Copy + Default + 'static {
    /// Every field, under the contract's name for it.
    const NAMES: &'static [(&'static str, Self)];

    /// The field named `raw`; the default when empty; anything else is refused, naming `field`.
    fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        if raw.is_empty() {
            return Ok(Self::default());
        }
        Self::NAMES
            .iter()
            .find(|(name, _)| *name == raw)
            .map(|(_, value)| *value)
            .ok_or_else(|| {
                let names: Vec<_> = Self::NAMES.iter().map(|(name, _)| *name).collect();
                FieldViolation::new(field, format!("must be one of {}", names.join(", ")))
            })
    }
}

impl Order {
    /// `ASC` or `DESC` in either case; ascending when empty.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        match raw.to_ascii_uppercase().as_str() {
            "" | "ASC" => Ok(Self::Asc),
            "DESC" => Ok(Self::Desc),
            _ => Err(FieldViolation::new(field, "must be ASC or DESC")),
        }
    }
}

/// Which slice of a listing to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Items per page.
    pub limit: u64,
    /// Items skipped.
    pub offset: u64,
}

impl PageRequest {
    /// Checks a raw limit and offset: zero limit means the default; negative values are refused.
    pub fn parse(limit: i64, offset: i64) -> Result<Self, FieldViolation> {
        let limit = match limit {
            0 => DEFAULT_LIMIT,
            l if l < 0 || l as u64 > MAX_LIMIT => {
                return Err(FieldViolation::new(
                    "limit",
                    format!("must be between 1 and {MAX_LIMIT}"),
                ));
            }
            l => l as u64,
        };
        if offset < 0 {
            return Err(FieldViolation::new("offset", "must not be negative"));
        }
        Ok(Self {
            limit,
            offset: offset as u64,
        })
    }
}

/// One page of a listing and the totals of the whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// Items across all pages.
    pub total_items: u64,
    /// Pages of this size across the listing.
    pub total_pages: u64,
    /// Where the next page starts, for listings that hand out keyset cursors: set when this
    /// page is full.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page of `items` out of `total_items`, cut with `request`.
    pub fn new(items: Vec<T>, total_items: u64, request: PageRequest) -> Self {
        Self {
            items,
            total_items,
            total_pages: total_items.div_ceil(request.limit),
            next_cursor: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_and_are_bounded() {
        assert_eq!(PageRequest::parse(0, 0).unwrap().limit, DEFAULT_LIMIT);
        assert_eq!(
            PageRequest::parse(200, 3).unwrap(),
            PageRequest {
                limit: 200,
                offset: 3
            }
        );
        assert_eq!(PageRequest::parse(201, 0).unwrap_err().field, "limit");
        assert_eq!(PageRequest::parse(-1, 0).unwrap_err().field, "limit");
        assert_eq!(PageRequest::parse(10, -1).unwrap_err().field, "offset");
    }

    #[test]
    fn list_filters_are_bounded_and_orders_named() {
        assert_eq!(
            bounded_list("ids", vec!["a".into(), String::new()]).unwrap(),
            ["a"]
        );
        let too_many = vec!["x".to_owned(); MAX_LIST + 1];
        assert_eq!(bounded_list("ids", too_many).unwrap_err().field, "ids");
        assert_eq!(Order::parse("order", "desc").unwrap(), Order::Desc);
        assert_eq!(Order::parse("order", "").unwrap(), Order::Asc);
        assert!(Order::parse("order", "sideways").is_err());
    }

    #[test]
    fn total_pages_round_up() {
        let request = PageRequest { limit: 10, offset: 0 };
        assert_eq!(Page::<()>::new(vec![], 0, request).total_pages, 0);
        assert_eq!(Page::<()>::new(vec![], 10, request).total_pages, 1);
        assert_eq!(Page::<()>::new(vec![], 11, request).total_pages, 2);
    }
}
