//! The value model: the WIT types of activations, how their values travel (one classification
//! for the JSON mapping, the schemas and the page), WIT values ⇄ JSON and query text, the JSON
//! Schemas, and the descriptions the HTTP API serves.
//!
//! Routes, the API listing, the command line, the pages and the OpenAPI document all read the
//! same [`Activation`] and [`NamedType`] descriptions, so a WIT type is taught to the project
//! here and nowhere else.

mod args;
mod class;
mod describe;
mod error;
mod json;
mod query;
mod read;
mod scalar;
pub mod schema;
mod sketch;
mod to_json;
mod types;

pub use args::ArgsError;
pub use class::{Class, IntRange};
pub use describe::{describe_activation, describe_type, describe_types};
pub use error::ValueError;
pub use json::{VALUE_BYTES, from_json};
pub use query::from_query_text;
pub use read::{MAX_TYPE_PARTS, NameTree, TypeName, TypeNames, UnsupportedType};
pub use to_json::{Json, to_json};
pub use types::{Activation, NamedType, Param, Piece, TypeDesc};
