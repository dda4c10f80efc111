//! Host bindings generated from the `carol:machine` WIT package.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "carol:machine/machine",
    imports: {
        "carol:machine/http-fetch.fetch": async,
    },
});
