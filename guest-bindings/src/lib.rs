//! Write Carol machines in Rust.
//!
//! A machine is a WASI 0.2 component whose world includes `carol:machine/machine@0.1.1` and
//! exports functions; each exported function is an *activation* that the node serves over HTTP.
//! This crate holds the bindings of the node's services (signing, outbound HTTP, identity, the
//! machine's own state and keys) and
//! a [`generate!`] macro that generates your own world's bindings on top of them.
//!
//! A machine crate is a `cdylib` with a `wit/` directory:
//!
//! ```text
//! wit/world.wit                      your world
//! wit/deps/carol-machine/machine.wit the carol:machine package (`cargo carol build` keeps it current)
//! ```
//!
//! ```wit
//! package example:hello-world;
//!
//! world hello-world {
//!   include carol:machine/machine@0.1.1;
//!
//!   /// Greets whoever is named.
//!   export say: func(message: string) -> string;
//! }
//! ```
//!
//! and a `src/lib.rs` that implements the exports:
//!
//! ```ignore
//! carol_guest::generate!({ world: "hello-world" });
//!
//! struct HelloWorld;
//!
//! impl Guest for HelloWorld {
//!     fn say(message: String) -> String {
//!         format!("hello {message}")
//!     }
//! }
//!
//! export!(HelloWorld);
//! ```
//!
//! Build it with `cargo carol build`, try it with `cargo carol run`.

mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "carol:machine/machine",
    });
}

pub use bindings::carol::machine::{bls_sign, http_fetch, identity, keys, state};

/// Generates the bindings of a machine's own world, reusing this crate's bindings for the
/// `carol:machine` interfaces it includes, and an `export!` macro that exports the type
/// implementing the world.
///
/// Takes the options of `wit_bindgen::generate!` (most often just `world`, with the WIT in the
/// crate's `wit/` directory), and needs this crate to be a dependency named `carol_guest`.
///
/// `export!(Type)` exports only when the crate is built for `wasm32-wasip2`, as a component:
/// built for any other target the machine crate is a plain library with nothing exported, so a
/// workspace holding machine crates builds, checks and tests natively with the usual
/// `cargo ... --workspace` commands (a native cdylib cannot carry WIT export names).
#[macro_export]
macro_rules! generate {
    ({ $($options:tt)* }) => {
        $crate::__generate!({ $($options)* } $);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __generate {
    // `$d` is a `$`, so that the `export!` defined here can have metavariables of its own.
    ({ $($options:tt)* } $d:tt) => {
        $crate::__private::wit_bindgen::generate!({
            runtime_path: "::carol_guest::__private::wit_bindgen::rt",
            bitflags_path: "::carol_guest::__private::wit_bindgen::rt::bitflags",
            with: {
                "carol:machine/bls-sign@0.1.1": ::carol_guest::bls_sign,
                "carol:machine/http-fetch@0.1.1": ::carol_guest::http_fetch,
                "carol:machine/identity@0.1.1": ::carol_guest::identity,
                "carol:machine/state@0.1.1": ::carol_guest::state,
                "carol:machine/keys@0.1.1": ::carol_guest::keys,
            },
            export_macro_name: "__carol_export_component",
            $($options)*
        });

        /// Exports the type that implements the world, when built for `wasm32-wasip2`; takes
        /// what wit-bindgen's `export!` takes (`Type`, or `Type with_types_in path`).
        #[allow(unused_macros)]
        macro_rules! export {
            ($d ty:ident $d($d rest:tt)*) => {
                #[cfg(target_arch = "wasm32")]
                __carol_export_component!($d ty $d($d rest)*);
                #[cfg(not(target_arch = "wasm32"))]
                const _: fn() = || {
                    let _ = ::core::marker::PhantomData::<$d ty>;
                };
            };
        }
    };
}

#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;
}

/// Signs `message` with the node's key; the node signs `machine_id || message`, so the
/// signature names this machine. Returns a 96-byte compressed BLS12-381 G2 point.
pub fn sign(message: &[u8]) -> Vec<u8> {
    bls_sign::sign(message)
}

/// This machine's id: SHA-256(binary id || params).
pub fn machine_id() -> [u8; 32] {
    identity::machine_id()
        .try_into()
        .expect("the node gives 32-byte machine ids")
}

/// The params this machine was created with.
pub fn params() -> Vec<u8> {
    identity::params()
}

/// `GET url` through the node, with no extra headers.
pub fn get(url: &str) -> Result<http_fetch::Response, http_fetch::Error> {
    http_fetch::fetch(&http_fetch::Request {
        method: http_fetch::Method::Get,
        url: url.to_string(),
        headers: Vec::new(),
        body: Vec::new(),
    })
}

impl http_fetch::Response {
    /// The body as text, with invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}
