//! The state API in a small machine: a counter and its last ten increments.
//!
//! The state is a key-value store of the machine's own. This one keeps
//!
//! - `count`: the count, a little-endian u64;
//! - `history/NNNNNNNNNNNNNNNNNNNN`: one entry per increment (its number, zero-padded so that
//!   keys sort in number order), holding the time (8 bytes) and the note; only the last ten.
//!
//! Each activation's writes are committed together when it returns, and activations that use
//! the state run one at a time, so `increment`'s read-modify-write never loses a count.

carol_guest::generate!({ world: "counter" });

use carol_guest::state;
use std::time::{SystemTime, UNIX_EPOCH};

/// How many increments the history keeps.
const HISTORY: u64 = 10;
const COUNT: &[u8] = b"count";
const HISTORY_PREFIX: &str = "history/";

fn history_key(number: u64) -> Vec<u8> {
    format!("{HISTORY_PREFIX}{number:020}").into_bytes()
}

fn read_count() -> u64 {
    state::get(COUNT).map_or(0, |bytes| {
        u64::from_le_bytes(bytes.try_into().expect("the count is 8 bytes"))
    })
}

/// Every history key, oldest first.
fn history_keys() -> Vec<Vec<u8>> {
    // The history never holds more than HISTORY entries, so one page is all of them.
    state::list_keys(HISTORY_PREFIX.as_bytes(), None, HISTORY as u32 + 1)
}

struct Counter;

impl Guest for Counter {
    fn increment(note: String) -> u64 {
        let count = read_count() + 1;
        let unix_time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let note: String = note.chars().take(100).collect();
        let mut entry = unix_time.to_le_bytes().to_vec();
        entry.extend_from_slice(note.as_bytes());
        // Far below the limits (keys of 1 KiB, values of 1 MiB) and the quota.
        state::set(COUNT, &count.to_le_bytes()).expect("the count fits the state's limits");
        state::set(&history_key(count), &entry).expect("an entry fits the state's limits");
        if count > HISTORY {
            state::delete(&history_key(count - HISTORY));
        }
        count
    }

    fn count() -> u64 {
        read_count()
    }

    fn history() -> Vec<Entry> {
        history_keys()
            .into_iter()
            .filter_map(|key| {
                let number = std::str::from_utf8(&key[HISTORY_PREFIX.len()..])
                    .ok()?
                    .parse()
                    .ok()?;
                let value = state::get(&key)?;
                let (time, note) = value.split_first_chunk::<8>()?;
                Some(Entry {
                    number,
                    unix_time: u64::from_le_bytes(*time),
                    note: String::from_utf8_lossy(note).into_owned(),
                })
            })
            .collect()
    }

    fn reset() -> u64 {
        let count = read_count();
        state::delete(COUNT);
        for key in history_keys() {
            state::delete(&key);
        }
        count
    }
}

export!(Counter);
