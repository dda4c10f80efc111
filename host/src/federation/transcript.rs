//! What a member received in a key generation that has not finished, kept in its data
//! directory before it answers with what depends on it: a member that restarts takes it in
//! again, so it never signs two different responses or confirmations in one key generation,
//! whatever a dishonest dealer serves it the second time. All of it is public.

use carol_federation::wire::{DealJson, JustificationJson, ResponseJson};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// The file's name in the data directory.
const TRANSCRIPT_FILE: &str = "federation-keygen.json";

/// The messages received from the other members, by phase.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transcript {
    /// The session they belong to, hex.
    pub session: String,
    /// Every member's deal bundle.
    pub deals: Vec<DealJson>,
    /// Every member's response bundle.
    pub responses: Vec<ResponseJson>,
    /// The justifications taken in, by dealer: its bundle, or `None` where it said it needed
    /// none.
    pub justifications: Vec<(u32, Option<JustificationJson>)>,
}

/// The transcript of `session` in `dir`, if one was kept (one of another session is ignored).
pub fn load(dir: &Path, session: &[u8; 32]) -> Transcript {
    let empty = Transcript {
        session: hex::encode(session),
        ..Transcript::default()
    };
    let Ok(text) = std::fs::read(dir.join(TRANSCRIPT_FILE)) else {
        return empty;
    };
    match serde_json::from_slice::<Transcript>(&text) {
        Ok(kept) if kept.session == empty.session => kept,
        _ => empty,
    }
}

/// Keeps `transcript` in `dir`, whole or not at all.
pub fn save(dir: &Path, transcript: &Transcript) -> std::io::Result<()> {
    let path = dir.join(TRANSCRIPT_FILE);
    let staging = dir.join(format!("{TRANSCRIPT_FILE}.new"));
    let mut file = std::fs::File::create(&staging)?;
    file.write_all(&serde_json::to_vec(transcript).expect("JSON"))?;
    file.sync_all()?;
    std::fs::rename(&staging, &path)?;
    std::fs::File::open(dir)?.sync_all()
}

/// Removes the transcript once the share is kept.
pub fn remove(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(TRANSCRIPT_FILE));
}
