//! The value model as the HTTP API describes it ([`carol_core::api`]).

use super::schema::schema;
use super::types::{Activation, NamedType, TypeDesc};
use carol_core::api::{
    ActivationDescription, MemberDescription, ParamDescription, TypeDescription, TypeKind,
};

/// The description of an activation: its signature, and each parameter's and the result's
/// WIT type and self-contained JSON Schema.
pub fn describe_activation(activation: &Activation) -> ActivationDescription {
    ActivationDescription {
        name: activation.name.clone(),
        interface: activation.interface.clone(),
        function: activation.function.clone(),
        signature: activation.signature(),
        params: activation
            .params
            .iter()
            .map(|param| ParamDescription {
                name: param.name.clone(),
                ty: param.ty.to_string(),
                schema: schema(&param.ty),
            })
            .collect(),
        result: activation.result.as_ref().map(ToString::to_string),
        result_schema: activation.result.as_ref().map(schema),
        types: activation
            .named_types()
            .into_iter()
            .map(|ty| (ty.name().unwrap_or_default().to_owned(), ty.definition()))
            .collect(),
        docs: activation.docs.clone(),
    }
}

/// The description of a named type: its definition, members, docs and schema.
pub fn describe_type(named: &NamedType) -> TypeDescription {
    let kind = match named.ty {
        TypeDesc::Record { .. } => TypeKind::Record,
        TypeDesc::Variant { .. } => TypeKind::Variant,
        TypeDesc::Enum { .. } => TypeKind::Enum,
        _ => TypeKind::Flags,
    };
    TypeDescription {
        name: named.name().to_owned(),
        kind,
        definition: named.ty.definition(),
        docs: named.docs.clone(),
        members: named
            .ty
            .members()
            .into_iter()
            .map(|(name, ty)| MemberDescription {
                name: name.to_owned(),
                ty: ty.map(ToString::to_string),
                docs: named.member_docs.get(name).cloned(),
            })
            .collect(),
        schema: schema(&named.ty),
    }
}

/// The descriptions of named types.
pub fn describe_types(types: &[NamedType]) -> Vec<TypeDescription> {
    types.iter().map(describe_type).collect()
}
