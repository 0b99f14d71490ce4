//! Times and dates as the API writes them: RFC 3339 UTC with millisecond precision and `Z`.

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, SubsecRound, Utc};

/// The current time, truncated to milliseconds so it round-trips through every store unchanged.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// Formats a time the way the API and the stores write it: `2026-11-26T06:33:23.123Z`.
/// Fixed width, so the text sorts in time order.
pub fn format_timestamp(at: DateTime<Utc>) -> String {
    // The same text as the format string `%Y-%m-%dT%H:%M:%S%.3fZ`, written directly rather
    // than by reading that string again for every time of every row a list sends.
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses an RFC 3339 time (any offset) into UTC.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A bound of a time range: an RFC 3339 time, or a date (`2026-11-26`) meaning its midnight
/// UTC; with `end_of_day`, a date means the end of that day (the next midnight), so an
/// exclusive upper bound of `2026-11-26` includes the whole day. `None` when it is neither.
pub fn time_bound(text: &str, end_of_day: bool) -> Option<DateTime<Utc>> {
    if let Some(at) = parse_timestamp(text) {
        return Some(at);
    }
    let date = parse_date(text)?;
    let date = if end_of_day {
        date.succ_opt().unwrap_or(date)
    } else {
        date
    };
    date.and_hms_opt(0, 0, 0).map(|t| t.and_utc())
}

/// Parses a date written exactly as the API writes one, `YYYY-MM-DD`: chrono alone also reads
/// `1980-2-3`, which a person may have meant as 2 March.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return None;
    }
    // Digits only by now, so each part is a number; read directly, not through a format
    // string, since every row of a list carries a date of birth.
    let number = |from: usize, to: usize| {
        bytes[from..to]
            .iter()
            .fold(0u32, |n, digit| n * 10 + u32::from(digit - b'0'))
    };
    NaiveDate::from_ymd_opt(number(0, 4) as i32, number(5, 7), number(8, 10))
}

/// Serde for a `YYYY-MM-DD` date field read with [`parse_date`].
pub mod date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, de::Error};

    /// What a person is told when a date does not read.
    pub const EXPECTED: &str = "must be a date as YYYY-MM-DD";

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::parse_date(&text).ok_or_else(|| D::Error::custom(EXPECTED))
    }

    /// For a PATCH field that may be left out but not cleared (`null` is refused).
    pub fn deserialize_present<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<NaiveDate>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Err(D::Error::custom(crate::model::NOT_NULL)),
            Some(text) => super::parse_date(&text)
                .map(Some)
                .ok_or_else(|| D::Error::custom(EXPECTED)),
        }
    }
}

/// Whole years between a date of birth and `today`.
pub fn age_on(date_of_birth: NaiveDate, today: NaiveDate) -> u32 {
    let mut years = today.year() - date_of_birth.year();
    if (today.month(), today.day()) < (date_of_birth.month(), date_of_birth.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

/// Serde adapter writing `DateTime<Utc>` as [`format_timestamp`] does.
pub mod millis {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_timestamp(*at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_timestamp(&text)
            .ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 time"))
    }
}

/// Serde adapter for `Option<DateTime<Utc>>` in the same format.
pub mod millis_opt {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => s.serialize_str(&super::format_timestamp(*at)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => super::parse_timestamp(&text)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 time")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_counts_whole_years() {
        let dob = NaiveDate::from_ymd_opt(1990, 6, 15).unwrap();
        assert_eq!(parse_date("1990-06-15"), Some(dob));
        for text in [
            "1990-6-15",
            "1990-06-1",
            "90-06-15",
            "1990/06/15",
            "1990-06-31",
            "",
        ] {
            assert_eq!(parse_date(text), None, "{text}");
        }
        assert_eq!(
            age_on(dob, NaiveDate::from_ymd_opt(2020, 6, 14).unwrap()),
            29
        );
        assert_eq!(
            age_on(dob, NaiveDate::from_ymd_opt(2020, 6, 15).unwrap()),
            30
        );
    }

    #[test]
    fn timestamps_are_fixed_width_with_z() {
        let t = parse_timestamp("2026-11-26T06:33:23.1+02:00").unwrap();
        assert_eq!(format_timestamp(t), "2026-11-26T04:33:23.100Z");
    }

    #[test]
    fn timestamps_read_as_the_format_string_wrote_them() {
        // Times across years, days and every millisecond step, as they were formatted before.
        let start = parse_timestamp("0001-01-01T00:00:00Z").unwrap();
        let mut at = start;
        for step in 0..20_000i64 {
            at += chrono::Duration::milliseconds(7_919_367_451 + step * 7);
            if at.year() > 9999 {
                break;
            }
            let at = at.trunc_subsecs(3);
            assert_eq!(
                format_timestamp(at),
                at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
            );
        }
        let whole = parse_timestamp("2026-02-28T23:59:59Z").unwrap();
        assert_eq!(format_timestamp(whole), "2026-02-28T23:59:59.000Z");
    }

    #[test]
    fn dates_read_as_chrono_reads_them() {
        let mut day = NaiveDate::from_ymd_opt(1, 1, 1).unwrap();
        while day.year() < 9999 {
            let text = day.format("%Y-%m-%d").to_string();
            assert_eq!(parse_date(&text), Some(day), "{text}");
            day += chrono::Duration::days(37);
        }
        for text in [
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "0000-00-00",
        ] {
            assert_eq!(
                parse_date(text),
                NaiveDate::parse_from_str(text, "%Y-%m-%d").ok(),
                "{text}"
            );
        }
    }
}
