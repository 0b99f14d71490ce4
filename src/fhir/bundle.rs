//! Bundle: a `searchset` of matches (and, for `$everything`, the resources included with
//! them), with its `self` and `next` links and the total when it is known.

use serde_json::{Value, json};

use super::{Context, compact};

/// One entry of a searchset: a resource, and whether it matched or came along.
pub struct Entry {
    pub resource: Value,
    pub matched: bool,
}

impl Entry {
    pub fn matched(resource: Value) -> Entry {
        Entry {
            resource,
            matched: true,
        }
    }

    pub fn included(resource: Value) -> Entry {
        Entry {
            resource,
            matched: false,
        }
    }
}

/// A searchset Bundle; `self_url` and `next_url` are absolute.
pub fn searchset(
    context: &Context,
    entries: Vec<Entry>,
    total: Option<u64>,
    self_url: &str,
    next_url: Option<&str>,
) -> Value {
    let mut link = vec![json!({ "relation": "self", "url": self_url })];
    if let Some(next) = next_url {
        link.push(json!({ "relation": "next", "url": next }));
    }
    let entry: Vec<Value> = entries
        .into_iter()
        .map(|entry| {
            let kind = entry.resource["resourceType"].as_str().unwrap_or_default();
            let id = entry.resource["id"].as_str().unwrap_or_default();
            json!({
                "fullUrl": context.full_url(kind, id),
                "resource": entry.resource,
                "search": { "mode": if entry.matched { "match" } else { "include" } },
            })
        })
        .collect();
    compact(json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": super::instant(crate::model::time::now()),
        "total": total,
        "link": link,
        "entry": entry,
    }))
}
