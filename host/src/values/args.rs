//! The arguments of an activation request, and the JSON of its answer.

use super::error::ValueError;
use super::json::{ReadError, Reading, Typed, VALUE_BYTES};
use super::query::from_query_text;
use super::sketch::{Describe, describe};
use super::to_json::{Json, to_json};
use super::types::{Activation, Param};
use carol_core::names::names_match;
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde_json::Value;
use std::cell::RefCell;
use std::fmt;
use wasmtime::component::Val;

/// Why the arguments of an activation request do not fit its parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    /// A parameter was not given.
    #[error("missing argument `{param}`: expected {expected}")]
    Missing {
        /// The parameter's name.
        param: String,
        /// Its WIT type.
        expected: String,
    },
    /// An argument names no parameter.
    #[error("unexpected argument `{given}`: {}", expected_params(.params))]
    Unexpected {
        /// The name that was given.
        given: String,
        /// The activation's parameters, as `name: type`.
        params: Vec<String>,
    },
    /// A parameter was given more than once.
    #[error("argument `{param}` is given more than once")]
    Repeated {
        /// The parameter's name.
        param: String,
    },
    /// An argument has the wrong type or shape.
    #[error("argument `{param}` ({ty}): {error}")]
    Invalid {
        /// The parameter's name.
        param: String,
        /// Its WIT type.
        ty: String,
        /// What is wrong with it.
        error: ValueError,
    },
    /// A POST body that is not a JSON object.
    #[error("the request body must be a JSON object keyed by parameter name ({}), found {found}", expected_params(.params))]
    NotAnObject {
        /// What was found instead.
        found: String,
        /// The activation's parameters, as `name: type`.
        params: Vec<String>,
    },
    /// A POST body that is not JSON at all.
    #[error("the request body is not JSON ({error}): send a JSON object keyed by parameter name")]
    NotJson {
        /// What the JSON parser said.
        error: String,
    },
    /// Arguments whose values would take more of the node's memory than it allows.
    #[error(
        "the arguments would take more than {limit} bytes of the node's memory as values \
         (about {value_bytes} bytes for each number, item or field, besides the bytes of \
         strings; [limits] max_value_bytes): send less"
    )]
    TooLarge {
        /// The node's limit, in bytes.
        limit: usize,
        /// What one value costs.
        value_bytes: usize,
    },
}

fn expected_params(params: &[String]) -> String {
    if params.is_empty() {
        "this activation takes no arguments".into()
    } else {
        format!("its parameters are {}", params.join(", "))
    }
}

/// The argument values of an activation as they are given, one parameter at a time.
struct Slots<'a> {
    activation: &'a Activation,
    values: Vec<Option<Val>>,
}

impl<'a> Slots<'a> {
    fn new(activation: &'a Activation) -> Self {
        Self {
            activation,
            values: activation.params.iter().map(|_| None).collect(),
        }
    }

    /// The parameter `name` names, unless it names none or was given already.
    fn slot(&self, name: &str) -> Result<(usize, &'a Param), ArgsError> {
        let params = &self.activation.params;
        let Some(index) = params.iter().position(|p| names_match(&p.name, name)) else {
            return Err(ArgsError::Unexpected {
                given: name.to_owned(),
                params: self.activation.param_list(),
            });
        };
        let param = &params[index];
        if self.values[index].is_some() {
            return Err(ArgsError::Repeated {
                param: param.name.clone(),
            });
        }
        Ok((index, param))
    }

    fn fill(&mut self, index: usize, value: Val) {
        self.values[index] = Some(value);
    }

    /// The values, once every parameter has one.
    fn finish(self) -> Result<Vec<Val>, ArgsError> {
        self.values
            .into_iter()
            .zip(&self.activation.params)
            .map(|(slot, param)| {
                slot.ok_or_else(|| ArgsError::Missing {
                    param: param.name.clone(),
                    expected: param.ty.to_string(),
                })
            })
            .collect()
    }
}

fn invalid(param: &Param, error: ValueError) -> ArgsError {
    ArgsError::Invalid {
        param: param.name.clone(),
        ty: param.ty.to_string(),
        error,
    }
}

impl Activation {
    /// Arguments from query parameters (`GET`): raw text for bool, numbers, char, string and
    /// enum, JSON text for every other type.
    pub fn args_from_query<'a>(
        &self,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Vec<Val>, ArgsError> {
        let mut slots = Slots::new(self);
        for (name, text) in pairs {
            let (index, param) = slots.slot(name)?;
            let value = from_query_text(&param.ty, text).map_err(|error| invalid(param, error))?;
            slots.fill(index, value);
        }
        slots.finish()
    }

    /// Arguments from a parsed JSON object keyed by parameter name.
    pub fn args_from_json(&self, body: &Value) -> Result<Vec<Val>, ArgsError> {
        let Value::Object(object) = body else {
            return Err(ArgsError::NotAnObject {
                found: describe(body),
                params: self.param_list(),
            });
        };
        let mut slots = Slots::new(self);
        for (name, json) in object {
            let (index, param) = slots.slot(name)?;
            let value =
                super::json::from_json(&param.ty, json).map_err(|error| invalid(param, error))?;
            slots.fill(index, value);
        }
        slots.finish()
    }

    /// Arguments from the JSON text of a `POST` body, an object keyed by parameter name, read
    /// straight into their values: they may take `budget` bytes of the node's memory in all
    /// (see [`VALUE_BYTES`]).
    pub fn args_from_json_text(&self, body: &[u8], budget: usize) -> Result<Vec<Val>, ArgsError> {
        let not_json = |error: serde_json::Error| ArgsError::NotJson {
            error: error.to_string(),
        };
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        if body.iter().find(|b| !is_json_whitespace(b)) != Some(&b'{') {
            let found = Describe
                .deserialize(&mut deserializer)
                .and_then(|found| deserializer.end().map(|()| found))
                .map_err(not_json)?;
            return Err(ArgsError::NotAnObject {
                found,
                params: self.param_list(),
            });
        }
        let reading = Reading::new(budget);
        let failure = RefCell::new(None);
        let read = ArgsObject {
            activation: self,
            reading: &reading,
            budget,
            failure: &failure,
        }
        .deserialize(&mut deserializer)
        .and_then(|slots| deserializer.end().map(|()| slots));
        match read {
            Ok(slots) => slots.finish(),
            Err(error) => Err(failure.take().unwrap_or_else(|| not_json(error))),
        }
    }

    /// The JSON of a returned value, `null` for a function without result.
    pub fn result_to_json(&self, result: Option<&Val>) -> Value {
        match (&self.result, result) {
            (Some(ty), Some(val)) => to_json(ty, val),
            _ => Value::Null,
        }
    }

    /// The JSON text of a returned value, written straight from the value.
    pub fn result_to_json_text(&self, result: Option<&Val>) -> Vec<u8> {
        match (&self.result, result) {
            (Some(ty), Some(val)) => {
                serde_json::to_vec(&Json::new(ty, val)).expect("values serialize")
            }
            _ => b"null".to_vec(),
        }
    }
}

/// Reads a `POST` body's object into the slots of the parameters.
struct ArgsObject<'a> {
    activation: &'a Activation,
    reading: &'a Reading,
    budget: usize,
    /// Why reading stopped, when the arguments (not the JSON) are wrong.
    failure: &'a RefCell<Option<ArgsError>>,
}

impl ArgsObject<'_> {
    fn fail<E: de::Error>(&self, error: ArgsError) -> E {
        *self.failure.borrow_mut() = Some(error);
        E::custom("the arguments do not fit the parameters")
    }
}

impl<'de, 'a> DeserializeSeed<'de> for ArgsObject<'a> {
    type Value = Slots<'a>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Slots<'a>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, 'a> Visitor<'de> for ArgsObject<'a> {
    type Value = Slots<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object keyed by parameter name")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Slots<'a>, A::Error> {
        let mut slots = Slots::new(self.activation);
        while let Some(name) = map.next_key::<String>()? {
            let (index, param) = slots.slot(&name).map_err(|error| self.fail(error))?;
            match map.next_value_seed(Typed::new(&param.ty, self.reading)) {
                Ok(value) => slots.fill(index, value),
                Err(error) => {
                    return Err(match self.reading.take_failure() {
                        Some(ReadError::Value(value)) => self.fail(invalid(param, value)),
                        Some(ReadError::TooLarge) => self.fail(ArgsError::TooLarge {
                            limit: self.budget,
                            value_bytes: VALUE_BYTES,
                        }),
                        // Not JSON: said as such.
                        Some(ReadError::Syntax(_)) | None => error,
                    });
                }
            }
        }
        Ok(slots)
    }
}

/// Whether `byte` is whitespace in JSON (RFC 8259, section 2): space, tab, line feed, carriage
/// return; not form feed, which Rust's ASCII whitespace includes.
fn is_json_whitespace(byte: &u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}
