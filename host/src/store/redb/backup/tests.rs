//! Backups and restores on real database files: what a restore keeps, what it refuses, and the
//! databases made before nonce secrets existed.

use super::*;
use crate::store::UsedKeys;
use crate::store::redb::tables::{NONCE_SECRET, USED_KEYS};
use carol_core::ids::MachineId;
use redb::Database;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory of this test's own, removed first if an earlier run left it.
fn scratch(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "carol-store-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

const MACHINE: MachineId = MachineId::from_bytes([7; 32]);
const LIMIT: u64 = 1000;

/// Binds `machine`'s nonce `name` to `message` in the database of `dir`.
fn bind(dir: &Path, name: &[u8], message: u8) -> NonceBinding {
    Redb::open(Some(dir))
        .unwrap()
        .bind_nonce(&MACHINE, name, &[message; 32], LIMIT)
        .unwrap()
}

/// A database as nodes made them before nonce secrets: no `meta` table; `used` says whether
/// a machine had used its secp256k1 key.
fn legacy(dir: &Path, used: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let db = Database::create(dir.join(DATABASE_FILE)).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let mut table = txn.open_table(USED_KEYS).unwrap();
        if used {
            table
                .insert(MACHINE.as_bytes(), UsedKeys::SECP256K1.0)
                .unwrap();
        }
    }
    txn.commit().unwrap();
}

#[test]
fn a_database_made_before_secrets_keeps_its_derivation_only_if_its_keys_were_used() {
    let used = scratch("legacy-used");
    legacy(&used, true);
    assert_eq!(Redb::open(Some(&used)).unwrap().nonce_secret(), None);
    // Opening again does not give it one behind the operator's back.
    assert_eq!(Redb::open(Some(&used)).unwrap().nonce_secret(), None);

    let unused = scratch("legacy-unused");
    legacy(&unused, false);
    let secret = Redb::open(Some(&unused)).unwrap().nonce_secret();
    assert!(secret.is_some());
    assert_eq!(Redb::open(Some(&unused)).unwrap().nonce_secret(), secret);
}

#[test]
fn a_restore_gives_a_legacy_copy_a_secret_and_latest_keeps_it_without() {
    let dir = scratch("legacy-restore");
    legacy(&dir, true);
    let copy = dir.join("copy.redb");
    Redb::backup(&dir, &copy).unwrap();
    assert_eq!(
        Redb::restore(&dir, &copy, true, true).unwrap(),
        Restored::AsTheLatest
    );
    assert_eq!(Redb::open(Some(&dir)).unwrap().nonce_secret(), None);
    assert_eq!(
        Redb::restore(&dir, &copy, false, true).unwrap(),
        Restored::WithAFreshNonceSecret
    );
    assert!(Redb::open(Some(&dir)).unwrap().nonce_secret().is_some());
}

#[test]
fn a_copy_that_lacks_records_is_not_restored_as_the_latest_and_nothing_changes() {
    let dir = scratch("not-latest");
    assert_eq!(bind(&dir, b"a", 1), NonceBinding::Bound);
    let copy = dir.join("copy.redb");
    Redb::backup(&dir, &copy).unwrap();
    // The copy has every record: it may be restored as the latest.
    assert_eq!(
        Redb::restore(&dir, &copy, true, true).unwrap(),
        Restored::AsTheLatest
    );
    // Then nonce `b` signs, which the copy does not know.
    assert_eq!(bind(&dir, b"b", 2), NonceBinding::Bound);
    let refused = Redb::restore(&dir, &copy, true, true).unwrap_err();
    assert!(
        matches!(refused, StoreError::NotLatest { missing: 1 }),
        "{refused}"
    );
    assert!(
        refused.to_string().contains("without --latest"),
        "{refused}"
    );
    // The database still holds `b`'s record, and no staging file is left.
    assert_eq!(bind(&dir, b"b", 3), NonceBinding::Used);
    assert!(!dir.join(format!("{DATABASE_FILE}.restoring")).exists());
    // Without --latest the nonces derive anew: every record goes with the old secret.
    let before = Redb::open(Some(&dir)).unwrap().nonce_secret();
    Redb::restore(&dir, &copy, false, true).unwrap();
    let store = Redb::open(Some(&dir)).unwrap();
    assert_ne!(store.nonce_secret(), before);
    assert_eq!(store.nonce_records(&MACHINE).unwrap(), 0);
}

#[test]
fn rotating_the_secret_clears_the_counts_so_a_full_machine_binds_again() {
    let dir = scratch("counts");
    {
        let store = Redb::open(Some(&dir)).unwrap();
        assert_eq!(
            store.bind_nonce(&MACHINE, b"a", &[1; 32], 1).unwrap(),
            NonceBinding::Bound
        );
        assert_eq!(
            store.bind_nonce(&MACHINE, b"b", &[1; 32], 1).unwrap(),
            NonceBinding::LimitReached
        );
    }
    let copy = dir.join("copy.redb");
    Redb::backup(&dir, &copy).unwrap();
    Redb::restore(&dir, &copy, false, true).unwrap();
    let store = Redb::open(Some(&dir)).unwrap();
    assert!(store.nonce_available(&MACHINE, b"b", 1).unwrap());
    assert_eq!(
        store.bind_nonce(&MACHINE, b"b", &[1; 32], 1).unwrap(),
        NonceBinding::Bound
    );
}

#[test]
fn databases_in_use_are_neither_replaced_nor_restored_from() {
    let dir = scratch("in-use");
    let copy = dir.join("copy.redb");
    bind(&dir, b"a", 1);
    Redb::backup(&dir, &copy).unwrap();

    let running = Redb::open(Some(&dir)).unwrap();
    let refused = Redb::restore(&dir, &copy, false, true).unwrap_err();
    assert!(matches!(refused, StoreError::Open { .. }), "{refused}");
    drop(running);

    let other = scratch("in-use-target");
    let source = Redb::open_file(&copy).unwrap();
    let refused = Redb::restore(&other, &copy, false, false).unwrap_err();
    assert!(matches!(refused, StoreError::Source { .. }), "{refused}");
    assert!(!other.join(DATABASE_FILE).exists());
    drop(source);
    Redb::restore(&other, &copy, false, false).unwrap();
}

#[test]
fn what_a_restore_stopped_half_way_left_does_no_harm() {
    let dir = scratch("leftover");
    bind(&dir, b"a", 1);
    let copy = dir.join("copy.redb");
    Redb::backup(&dir, &copy).unwrap();
    std::fs::write(
        dir.join(format!("{DATABASE_FILE}.restoring")),
        b"half a copy",
    )
    .unwrap();
    Redb::restore(&dir, &copy, true, true).unwrap();
    assert_eq!(bind(&dir, b"a", 2), NonceBinding::Used);
}

#[test]
fn a_copy_that_is_no_database_replaces_nothing() {
    let dir = scratch("junk");
    bind(&dir, b"a", 1);
    let junk = dir.join("junk.redb");
    std::fs::write(&junk, b"not a database").unwrap();
    let refused = Redb::restore(&dir, &junk, false, true).unwrap_err();
    assert!(matches!(refused, StoreError::Source { .. }), "{refused}");
    assert!(refused.to_string().contains("carol backup"), "{refused}");
    assert_eq!(bind(&dir, b"a", 2), NonceBinding::Used);
}

#[cfg(unix)]
#[test]
fn the_database_its_directory_and_copies_are_private_from_creation() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let dir = scratch("private").join("data");
    let store = Redb::open(Some(&dir)).unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join(DATABASE_FILE)), 0o600);
    drop(store);
    let copy = dir.join("copy.redb");
    Redb::backup(&dir, &copy).unwrap();
    assert_eq!(mode(&copy), 0o600);
    // One made before with a wider mode is narrowed when opened.
    std::fs::set_permissions(
        dir.join(DATABASE_FILE),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    drop(Redb::open(Some(&dir)).unwrap());
    assert_eq!(mode(&dir.join(DATABASE_FILE)), 0o600);
    let store = Redb::open(Some(&dir)).unwrap();
    let stored = store.db.begin_read().unwrap();
    let meta = stored.open_table(crate::store::redb::tables::META).unwrap();
    assert!(meta.get(NONCE_SECRET).unwrap().is_some());
}
