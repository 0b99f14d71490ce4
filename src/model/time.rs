//! Times and dates as the API writes them: RFC 3339 UTC with millisecond precision and `Z`.

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, SubsecRound, Timelike, Utc};

/// The current time, truncated to milliseconds so it round-trips through every store unchanged.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// Formats a time the way the API and the stores write it: `2026-11-26T06:33:23.123Z`.
/// Fixed width, so the text sorts in time order.
pub fn format_timestamp(at: DateTime<Utc>) -> String {
    match TimestampText::of(at) {
        Some(text) => text.as_str().to_owned(),
        None => at.to_rfc3339_opts(SecondsFormat::Millis, true),
    }
}

/// Writes `value` as `digits.len()` decimal digits, with leading zeros.
fn put_digits(digits: &mut [u8], mut value: u32) {
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// A time as [`format_timestamp`] writes it, held on the stack: every row of a list carries
/// one or two, and serialising them needs no allocation of its own. Written digit by digit,
/// the same text as the format string `%Y-%m-%dT%H:%M:%S%.3fZ`, rather than by reading that
/// string again for every time of every row.
pub struct TimestampText([u8; 24]);

impl TimestampText {
    /// `None` for the times this fixed width cannot hold (years outside 0–9999, a leap
    /// second), which [`format_timestamp`] then leaves to chrono.
    pub fn of(at: DateTime<Utc>) -> Option<Self> {
        let nanos = at.nanosecond();
        if !(0..=9999).contains(&at.year()) || nanos >= 1_000_000_000 {
            return None;
        }
        let mut text = *b"0000-00-00T00:00:00.000Z";
        put_digits(&mut text[0..4], at.year() as u32);
        put_digits(&mut text[5..7], at.month());
        put_digits(&mut text[8..10], at.day());
        put_digits(&mut text[11..13], at.hour());
        put_digits(&mut text[14..16], at.minute());
        put_digits(&mut text[17..19], at.second());
        put_digits(&mut text[20..23], nanos / 1_000_000);
        Some(Self(text))
    }

    pub fn as_str(&self) -> &str {
        // Digits and ASCII punctuation only, so always UTF-8.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// A date as the API writes it, `YYYY-MM-DD`, held on the stack like [`TimestampText`].
pub struct DateText([u8; 10]);

impl DateText {
    /// `None` for years outside 0–9999, which chrono then writes with a sign.
    pub fn of(day: NaiveDate) -> Option<Self> {
        if !(0..=9999).contains(&day.year()) {
            return None;
        }
        let mut text = *b"0000-00-00";
        put_digits(&mut text[0..4], day.year() as u32);
        put_digits(&mut text[5..7], day.month());
        put_digits(&mut text[8..10], day.day());
        Some(Self(text))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
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

/// Serde for a `YYYY-MM-DD` date field read with [`parse_date`] and written as chrono writes it.
pub mod date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// The same text as chrono's own `Serialize`, without its formatter.
    pub fn serialize<S: Serializer>(day: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        match super::DateText::of(*day) {
            Some(text) => s.serialize_str(text.as_str()),
            None => s.collect_str(day),
        }
    }

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
        match super::TimestampText::of(*at) {
            Some(text) => s.serialize_str(text.as_str()),
            None => s.serialize_str(&super::format_timestamp(*at)),
        }
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
            Some(at) => super::millis::serialize(at, s),
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
        // Past the fixed width, chrono's text.
        let far = NaiveDate::from_ymd_opt(12026, 1, 2)
            .unwrap()
            .and_hms_opt(3, 4, 5)
            .unwrap()
            .and_utc();
        assert_eq!(
            format_timestamp(far),
            far.to_rfc3339_opts(SecondsFormat::Millis, true)
        );
    }

    #[test]
    fn dates_read_and_written_as_chrono_reads_and_writes_them() {
        let mut day = NaiveDate::from_ymd_opt(1, 1, 1).unwrap();
        while day.year() < 9999 {
            let text = day.format("%Y-%m-%d").to_string();
            assert_eq!(parse_date(&text), Some(day), "{text}");
            assert_eq!(DateText::of(day).unwrap().as_str(), text);
            #[derive(serde::Serialize)]
            struct Field(#[serde(serialize_with = "date::serialize")] NaiveDate);
            assert_eq!(
                serde_json::to_string(&Field(day)).unwrap(),
                serde_json::to_string(&day).unwrap()
            );
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
