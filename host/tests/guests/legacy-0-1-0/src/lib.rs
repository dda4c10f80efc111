//! A machine built against `carol:machine@0.1.0`, with its own copy of that package, so that
//! it imports `carol:machine/bls-sign@0.1.0` as binaries built before 0.1.1 do. It uses
//! wit-bindgen directly: `carol-guest` follows the current package.

wit_bindgen::generate!({ world: "legacy", generate_all });

use carol::machine::bls_sign;

// Natively the crate is a plain library (see `carol_guest::generate!`): nothing is exported.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Legacy;

impl Guest for Legacy {
    fn public_key() -> Vec<u8> {
        bls_sign::public_key()
    }

    fn sign(message: Vec<u8>) -> Vec<u8> {
        bls_sign::sign(&message)
    }
}

#[cfg(target_arch = "wasm32")]
export!(Legacy);
