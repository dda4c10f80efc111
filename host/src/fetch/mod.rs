//! Outbound HTTP from machines: the node's own client, which resolves names itself and
//! connects only to addresses the [`OutboundPolicy`](crate::policy::OutboundPolicy) allows,
//! checked after resolution and again on every redirect hop, so a name that resolves to a
//! forbidden address or a redirect into the node's network gets `error::denied`, never a
//! connection. The `http-fetch` import (`crate::imports`) is its only user.

mod client;
mod url;

pub use client::{FetchLimits, HttpClient};
