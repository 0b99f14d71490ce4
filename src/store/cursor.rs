//! Opaque keyset cursors: the sort they belong to, the last row's sort key and id, encoded as
//! URL-safe base64 of a small JSON object. A cursor from another sort or a damaged one is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::model::envelope::FieldError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Which list and order the cursor belongs to, e.g. `patients:name`.
    #[serde(rename = "s")]
    pub scope: String,
    /// The sort key of the last row of the previous page.
    #[serde(rename = "k")]
    pub key: String,
    /// The id of that row, which breaks ties.
    #[serde(rename = "i")]
    pub id: String,
    /// How many rows came before the next page, so cursor pages can still report an offset.
    #[serde(rename = "o", default)]
    pub offset: u64,
}

/// The longest cursor accepted. A cursor's key can be a sorted name of `MAX_NAME` characters,
/// four bytes each in UTF-8 and up to six where JSON escapes them, so a cursor the server made
/// can be well over a kilobyte once encoded; anything longer than this was not made here.
const MAX_ENCODED: usize = 4096;

impl Cursor {
    pub fn encode(&self) -> String {
        // Serializing three strings cannot fail; an empty cursor would simply be refused later.
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Decodes a cursor and checks it belongs to `scope`.
    pub fn decode(text: &str, scope: &str) -> Result<Cursor, FieldError> {
        let invalid = || {
            FieldError::new(
                "cursor",
                "is not a cursor of this list; start again without a cursor",
            )
        };
        if text.len() > MAX_ENCODED {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if cursor.scope != scope || uuid::Uuid::parse_str(&cursor.id).is_err() {
            return Err(invalid());
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_checks_scope() {
        let c = Cursor {
            scope: "patients:name".into(),
            key: "anna smith".into(),
            id: uuid::Uuid::nil().to_string(),
            offset: 40,
        };
        let text = c.encode();
        assert_eq!(Cursor::decode(&text, "patients:name").unwrap(), c);
        assert!(Cursor::decode(&text, "reports").is_err());
        assert!(Cursor::decode("!!!", "patients:name").is_err());
        assert!(Cursor::decode("e30", "patients:name").is_err());
    }

    #[test]
    fn a_cursor_after_the_longest_name_reads_back() {
        let c = Cursor {
            scope: "patients:name".into(),
            key: "漢".repeat(crate::model::validate::MAX_NAME),
            id: uuid::Uuid::nil().to_string(),
            offset: 40,
        };
        assert_eq!(Cursor::decode(&c.encode(), "patients:name").unwrap(), c);
    }
}
