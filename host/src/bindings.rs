//! Host bindings generated from the `carol:machine` WIT package.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "carol:machine/machine",
    imports: {
        "carol:machine/http-fetch.fetch": async,
        // Long messages are hashed on a blocking thread.
        "carol:machine/bls-sign.sign": async | trappable,
        // A federation member has no key to give before the federation's is made.
        "carol:machine/bls-sign.public-key": trappable,
        // State calls may wait for the machine's state lock, and trap when the store fails.
        "carol:machine/state.get": async | trappable,
        "carol:machine/state.set": async | trappable,
        "carol:machine/state.delete": async | trappable,
        "carol:machine/state.list-keys": async | trappable,
        // Key calls may write a record to disk before they answer, and trap when that fails.
        "carol:machine/keys.secp256k1-public-key": async | trappable,
        "carol:machine/keys.secp256k1-sign": async | trappable,
        "carol:machine/keys.bls-public-key": async | trappable,
        "carol:machine/keys.bls-sign": async | trappable,
        "carol:machine/keys.nonce": async | trappable,
        "carol:machine/keys.sign-with-nonce": async | trappable,
    },
});
