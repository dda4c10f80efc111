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

/// Every transcript kept in `dir`: one per key the key generation makes (the federation key's
/// and, in a resharing, each carried machine key's, each of its own session).
fn load_all(dir: &Path) -> Vec<Transcript> {
    std::fs::read(dir.join(TRANSCRIPT_FILE))
        .ok()
        .and_then(|text| serde_json::from_slice(&text).ok())
        .unwrap_or_default()
}

/// The transcript of `session` in `dir`, if one was kept (those of other sessions are ignored).
pub fn load(dir: &Path, session: &[u8; 32]) -> Transcript {
    let session = hex::encode(session);
    load_all(dir)
        .into_iter()
        .find(|kept| kept.session == session)
        .unwrap_or(Transcript {
            session,
            ..Transcript::default()
        })
}

/// Keeps `transcript` in `dir` with the others of its key generation (`sessions`, the keys'),
/// whole or not at all.
pub fn save(dir: &Path, transcript: &Transcript, sessions: &[[u8; 32]]) -> std::io::Result<()> {
    let sessions: Vec<String> = sessions.iter().map(hex::encode).collect();
    let others: Vec<Transcript> = load_all(dir)
        .into_iter()
        .filter(|kept| kept.session != transcript.session && sessions.contains(&kept.session))
        .collect();
    let mut all: Vec<&Transcript> = others.iter().collect();
    all.push(transcript);
    let text = serde_json::to_vec(&all).expect("JSON");
    let path = dir.join(TRANSCRIPT_FILE);
    let staging = dir.join(format!("{TRANSCRIPT_FILE}.new"));
    let mut file = std::fs::File::create(&staging)?;
    file.write_all(&text)?;
    file.sync_all()?;
    std::fs::rename(&staging, &path)?;
    std::fs::File::open(dir)?.sync_all()
}

/// Removes the transcript once the share is kept.
pub fn remove(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(TRANSCRIPT_FILE));
}
