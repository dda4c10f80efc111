//! The OpenAPI 3.1 document of a machine, derived from its activations' types and doc comments:
//! what `GET /machines/{id}/openapi.json` serves and `cargo carol api --openapi` prints.
//!
//! Each named type is defined once under `components/schemas`, by its name, and referred to
//! with `$ref` wherever it is used.

use crate::runtime::Machine;
use crate::values::schema::{
    Named, definition_schema, err_schema, ok_schema, params_schema, schema_with,
};
use crate::values::{Activation, Param};
use serde_json::{Map, Value, json};

/// Where the named types' schemas are.
const SCHEMAS: Named<'static> = Named::Ref("#/components/schemas/");

/// The error statuses every activation may answer, each with the error body.
const ERRORS: &[(&str, &str)] = &[
    ("400", "Missing, unexpected or ill-typed arguments"),
    ("404", "No such machine or activation"),
    ("413", "The request body is over the node's limit"),
    ("500", "The machine trapped, or hit its memory limit"),
    (
        "503",
        "The node is busy: retry after the Retry-After header's seconds",
    ),
    ("504", "The activation ran past the node's time limit"),
];

/// The document for `machine`.
pub fn document(machine: &Machine) -> Value {
    let id = machine.id();
    let mut schemas = Map::new();
    for named in machine.binary().types() {
        schemas.insert(named.name().to_owned(), definition_schema(named, SCHEMAS));
    }
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "properties": {"error": {"type": "string", "description": "What was wrong and what to do"}},
            "required": ["error"],
        }),
    );
    let mut paths = Map::new();
    for activation in machine.binary().activations() {
        paths.insert(
            format!("/machines/{id}/activate/{}", activation.name),
            json!({
                "get": operation(activation, "get"),
                "post": operation(activation, "post"),
            }),
        );
    }
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": format!("Carol machine {id}"),
            "version": machine.binary_id().to_string(),
            "description": format!(
                "Machine {id} of binary {} with params `{}` (hex). Each activation runs the \
                 machine's exported function of the same name; what it attests, the node signs \
                 with its BLS key over machine id || message (see GET / for the key).",
                machine.binary_id(),
                hex::encode(machine.params()),
            ),
        },
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

fn operation(activation: &Activation, method: &str) -> Value {
    let mut operation = json!({
        "operationId": format!("{method}_{}", activation.name.replace(['/', '-'], "_")),
        "summary": activation.signature(),
        "responses": responses(activation),
    });
    if let Some(docs) = &activation.docs {
        operation["description"] = docs.as_str().into();
    }
    if method == "get" {
        let parameters: Vec<Value> = activation.params.iter().map(query_parameter).collect();
        operation["parameters"] = parameters.into();
    } else {
        // An empty body reads the query instead, which suits a function without parameters.
        operation["requestBody"] = json!({
            "required": !activation.params.is_empty(),
            "description": "The arguments, keyed by parameter name",
            "content": {"application/json": {"schema": params_schema(activation, SCHEMAS)}},
        });
    }
    operation
}

/// A GET argument: plain text for scalars, JSON text for every other type.
fn query_parameter(param: &Param) -> Value {
    let mut parameter = json!({
        "name": param.name,
        "in": "query",
        "required": true,
        "description": format!("{} ({})", param.name, param.ty),
    });
    let schema = schema_with(&param.ty, SCHEMAS);
    if param.ty.class().is_plain_text() {
        parameter["schema"] = schema;
    } else {
        parameter["content"] = json!({"application/json": {"schema": schema}});
    }
    parameter
}

fn responses(activation: &Activation) -> Value {
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({
            "description": match &activation.result {
                Some(ty) => format!("The result, {ty}"),
                None => "The function returns nothing: null".into(),
            },
            "content": {"application/json": {"schema": ok_schema(activation, SCHEMAS)}},
        }),
    );
    if let Some(err) = err_schema(activation, SCHEMAS) {
        responses.insert(
            "422".into(),
            json!({
                "description": "The function returned the err case of its result",
                "content": {"application/json": {"schema": err}},
            }),
        );
    }
    for (status, description) in ERRORS {
        responses.insert(
            (*status).into(),
            json!({
                "description": description,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }),
        );
    }
    responses.into()
}
