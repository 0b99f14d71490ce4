//! The seeded draws everything is built from: per-patient seeds, picks from tables (uniform,
//! skewed, weighted, distinct), ordered times in the past and the ids that carry them.

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use uuid::Uuid;

/// Milliseconds, the unit every generated time is drawn in.
pub(super) const MINUTE: i64 = 60_000;
pub(super) const HOUR: i64 = 60 * MINUTE;
pub(super) const DAY: i64 = 24 * HOUR;

/// SplitMix64 finaliser: turns (seed, index) into well-spread, independent per-patient seeds.
pub(super) fn mix(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A bijection on u32 (xor-shifts and odd multipliers are each invertible), so distinct inputs
/// give distinct, random-looking session code suffixes.
pub(super) fn scramble(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7FEB_352D);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846C_A68B);
    x ^ (x >> 16)
}

pub(super) fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A time-ordered (v7) UUID carrying the record's own timestamp, its random bits from `rng`.
pub(super) fn uuid_at(rng: &mut StdRng, ms: i64) -> Uuid {
    let random: [u8; 10] = rng.random();
    uuid::Builder::from_unix_timestamp_millis(u64::try_from(ms).unwrap_or(0), &random).into_uuid()
}

pub(super) fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    *pick_ref(rng, items)
}

/// Like [`pick`], for entries that are not `Copy`.
pub(super) fn pick_ref<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Picks early entries more often than late ones (roughly Zipf-like), so common names are
/// common: a practice has a handful of Smiths and the odd pair of namesakes.
pub(super) fn pick_skewed<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    let u: f64 = rng.random();
    let index = (u * u.sqrt() * items.len() as f64) as usize;
    items[index.min(items.len() - 1)]
}

pub(super) fn weighted<T: Copy>(rng: &mut StdRng, table: &[(T, u32)]) -> T {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total);
    for &(item, weight) in table {
        if roll < weight {
            return item;
        }
        roll -= weight;
    }
    table[table.len() - 1].0
}

/// `count` distinct entries of `items` (fewer if there are not that many), in random order.
pub(super) fn pick_distinct<'a>(rng: &mut StdRng, items: &[&'a str], count: usize) -> Vec<&'a str> {
    let mut chosen: Vec<&str> = Vec::with_capacity(count);
    let mut attempts = 0;
    while chosen.len() < count.min(items.len()) && attempts < 4 * count + 8 {
        let item = pick(rng, items);
        if !chosen.contains(&item) {
            chosen.push(item);
        }
        attempts += 1;
    }
    chosen
}

/// A time after `after` and before `now`: `min_gap`–`max_gap` later when that is still in the
/// past, else halfway to `now`. Chains of events (generated, edited, signed, addendum) so stay
/// ordered and in the past; every chain starts at least ten minutes before `now`.
pub(super) fn later(rng: &mut StdRng, after: i64, min_gap: i64, max_gap: i64, now: i64) -> i64 {
    let candidate = after + rng.random_range(min_gap.max(1)..=max_gap.max(min_gap.max(1)));
    if candidate < now {
        candidate
    } else {
        after + (now - after).max(2) / 2
    }
}
