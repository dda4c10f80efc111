//! A test machine that uses its state and keys, including in the ways that must leave nothing
//! behind: trapping or running out of time after writing.

carol_guest::generate!({ world: "stateful" });

use carol_guest::{keys, state};

struct Stateful;

impl Guest for Stateful {
    fn put(key: Vec<u8>, value: Vec<u8>) -> Result<(), String> {
        state::set(&key, &value).map_err(|e| format!("{e:?}"))
    }

    fn put_all(pairs: Vec<(Vec<u8>, Vec<u8>)>) -> Result<(), (u32, String)> {
        for (i, (key, value)) in pairs.iter().enumerate() {
            state::set(key, value).map_err(|e| (i as u32, format!("{e:?}")))?;
        }
        Ok(())
    }

    fn get(key: Vec<u8>) -> Option<Vec<u8>> {
        state::get(&key)
    }

    fn delete(key: Vec<u8>) -> bool {
        state::delete(&key)
    }

    fn list_keys(prefix: Vec<u8>, start_after: Option<Vec<u8>>, limit: u32) -> Vec<Vec<u8>> {
        state::list_keys(&prefix, start_after.as_deref(), limit)
    }

    fn edit_then_list(
        deleted: Vec<Vec<u8>>,
        added: Vec<Vec<u8>>,
        prefix: Vec<u8>,
        limit: u32,
    ) -> Vec<Vec<u8>> {
        for key in &deleted {
            state::delete(key);
        }
        for key in &added {
            state::set(key, b"").expect("a small write");
        }
        state::list_keys(&prefix, None, limit)
    }

    fn churn(prefix: Vec<u8>, count: u32) {
        for i in 0..count {
            let key = [prefix.as_slice(), &i.to_le_bytes()].concat();
            state::set(&key, b"value").expect("a small write");
            assert!(state::delete(&key), "the key was just stored");
        }
        state::set(&prefix, b"").expect("a small write");
    }

    fn put_then_trap(key: Vec<u8>, value: Vec<u8>) {
        state::set(&key, &value).expect("a small write");
        panic!("trapping after writing");
    }

    #[allow(clippy::empty_loop)]
    fn put_then_spin(key: Vec<u8>, value: Vec<u8>) {
        state::set(&key, &value).expect("a small write");
        loop {}
    }

    fn increment(key: Vec<u8>) -> u64 {
        let count = state::get(&key).map_or(0, |bytes| {
            u64::from_le_bytes(bytes.try_into().expect("an 8-byte counter"))
        }) + 1;
        state::set(&key, &count.to_le_bytes()).expect("a small write");
        count
    }

    fn secp_public_key() -> Vec<u8> {
        keys::secp256k1_public_key()
    }

    fn secp_sign(message: Vec<u8>) -> Result<Vec<u8>, String> {
        keys::secp256k1_sign(&message).map_err(|e| format!("{e:?}"))
    }

    fn bls_public_key() -> Vec<u8> {
        keys::bls_public_key()
    }

    fn bls_sign(message: Vec<u8>) -> Vec<u8> {
        keys::bls_sign(&message)
    }

    fn nonce(name: String) -> Result<Vec<u8>, String> {
        keys::nonce(&name).map_err(|e| format!("{e:?}"))
    }

    fn sign_with_nonce(name: String, message: Vec<u8>) -> Result<Vec<u8>, String> {
        keys::sign_with_nonce(&name, &message).map_err(|e| format!("{e:?}"))
    }

    fn sign_with_nonce_then_trap(name: String, message: Vec<u8>) {
        keys::sign_with_nonce(&name, &message).expect("a first signature");
        panic!("trapping after signing");
    }
}

export!(Stateful);
