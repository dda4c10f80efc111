//! `cargo carol` and `carol` as a user runs them: on the repository's machine crates, against
//! real nodes on loopback.

mod build;
mod client;
mod federation;
mod harness;
mod languages;
mod new;
mod node;
mod run;
mod workflow;
