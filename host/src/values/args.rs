//! The arguments of an activation request, and the JSON of its answer.

use super::error::ValueError;
use super::json::from_json;
use super::query::from_query_text;
use super::to_json::to_json;
use super::types::{Activation, TypeDesc};
use carol_core::names::names_match;
use serde_json::Value;
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
}

fn expected_params(params: &[String]) -> String {
    if params.is_empty() {
        "this activation takes no arguments".into()
    } else {
        format!("its parameters are {}", params.join(", "))
    }
}

impl Activation {
    /// Builds the argument values from named raw values, converting each with `convert`.
    fn args_from<'a, V: 'a>(
        &self,
        given: impl IntoIterator<Item = (&'a str, V)>,
        convert: impl Fn(&TypeDesc, V) -> Result<Val, ValueError>,
    ) -> Result<Vec<Val>, ArgsError> {
        let mut slots: Vec<Option<Val>> = vec![None; self.params.len()];
        for (name, raw) in given {
            let Some(index) = self.params.iter().position(|p| names_match(&p.name, name)) else {
                return Err(ArgsError::Unexpected {
                    given: name.to_owned(),
                    params: self.param_list(),
                });
            };
            let param = &self.params[index];
            if slots[index].is_some() {
                return Err(ArgsError::Repeated {
                    param: param.name.clone(),
                });
            }
            let value = convert(&param.ty, raw).map_err(|error| ArgsError::Invalid {
                param: param.name.clone(),
                ty: param.ty.to_string(),
                error,
            })?;
            slots[index] = Some(value);
        }
        slots
            .into_iter()
            .zip(&self.params)
            .map(|(slot, param)| {
                slot.ok_or_else(|| ArgsError::Missing {
                    param: param.name.clone(),
                    expected: param.ty.to_string(),
                })
            })
            .collect()
    }

    /// Arguments from query parameters (`GET`): raw text for bool, numbers, char, string and
    /// enum, JSON text for every other type.
    pub fn args_from_query<'a>(
        &self,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Vec<Val>, ArgsError> {
        self.args_from(pairs, from_query_text)
    }

    /// Arguments from a JSON object keyed by parameter name (`POST`).
    pub fn args_from_json(&self, body: &Value) -> Result<Vec<Val>, ArgsError> {
        match body {
            Value::Object(object) => {
                self.args_from(object.iter().map(|(k, v)| (k.as_str(), v)), from_json)
            }
            other => Err(ArgsError::NotAnObject {
                found: other.to_string(),
                params: self.param_list(),
            }),
        }
    }

    /// The JSON of a returned value, `null` for a function without result.
    pub fn result_to_json(&self, result: Option<&Val>) -> Value {
        match (&self.result, result) {
            (Some(ty), Some(val)) => to_json(ty, val),
            _ => Value::Null,
        }
    }
}
