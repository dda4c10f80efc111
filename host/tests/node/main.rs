//! The node end to end: real components, built from `tests/guests`, through a real node over
//! loopback HTTP.

mod harness;

mod access;
mod api;
mod backup;
mod browser;
mod compiles;
mod connections;
mod copies;
mod dlc_contract;
mod dlc_oracle;
mod dlc_wallet;
mod durability;
mod errors;
mod federation;
mod federation_dlc;
mod federation_oracle;
mod imports;
mod keys;
mod limits;
mod logs;
mod machine_keys;
mod metrics;
mod openapi;
mod openapi_tools;
mod oracle;
mod pages;
mod policy;
mod rates;
mod removals;
mod resharing;
mod shared_store;
mod state;
mod storage;
mod tokens;
mod types;
mod values;
