//! Pages of list results: offset or cursor pagination, as API.md describes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The page size of the lists (`limit`): 1 to `MAX_LIMIT`, `DEFAULT_LIMIT` when left out.
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;
/// The number of matches of `GET /patients/search/`.
pub const DEFAULT_SEARCH_LIMIT: u32 = 10;
pub const MAX_SEARCH_LIMIT: u32 = 50;
/// The deepest `offset`: past it a list pages with cursors.
pub const MAX_OFFSET: u64 = 10_000_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Pagination {
    pub total: u64,
    pub limit: u32,
    pub offset: u64,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub pagination: Pagination,
}

/// The answer of `GET /patients/search/`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchResults<T> {
    pub items: Vec<T>,
    pub count: usize,
}
