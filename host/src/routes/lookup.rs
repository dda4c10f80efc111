//! Finding what a path names, or answering 404 with what exists.

use super::error::ApiError;
use crate::node::Node;
use crate::runtime::{Binary, Machine};
use axum::http::StatusCode;
use carol_core::ids::{BinaryId, MachineId};
use std::sync::Arc;

/// How many ids a "not found" answer lists at most.
pub(super) const LISTED_IDS: usize = 100;

/// Finds a served binary by its id's text, or answers 404 with the ids that exist.
pub(super) fn binary(node: &Node, id: &str) -> Result<Arc<Binary>, ApiError> {
    let parsed = id.parse::<BinaryId>().ok();
    if let Some(parsed) = parsed
        && node.registry().binary(&parsed).is_none()
        && let Some(removal) = node.removal(parsed.as_bytes())
    {
        return Err(ApiError::gone(&format!("binary {parsed}"), &removal));
    }
    parsed
        .and_then(|id| node.registry().binary(&id))
        .ok_or_else(|| {
            let ids: Vec<String> = node
                .registry()
                .binary_ids(LISTED_IDS)
                .iter()
                .map(ToString::to_string)
                .collect();
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no binary `{id}` on this node (a binary id is the SHA-256 of the component, 64 hex characters)"),
            )
            .with("binaries", ids)
        })
}

/// Finds a served machine by its id's text, or answers 404 with the ids that exist.
pub(super) fn machine(node: &Node, id: &str) -> Result<Machine, ApiError> {
    let parsed = id.parse::<MachineId>().ok();
    if let Some(parsed) = parsed
        && node.registry().machine(&parsed).is_none()
        && let Some(removal) = node.removal(parsed.as_bytes())
    {
        return Err(ApiError::gone(&format!("machine {parsed}"), &removal));
    }
    parsed
        .and_then(|id| node.registry().machine(&id))
        .ok_or_else(|| {
            let ids: Vec<String> = node
                .registry()
                .machine_ids(LISTED_IDS)
                .iter()
                .map(ToString::to_string)
                .collect();
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "no machine `{id}` on this node (create one with POST /binaries/{{binary_id}})"
                ),
            )
            .with("machines", ids)
        })
}

/// On a node of a group, loads the machine or binary whose id is `id` from the shared database
/// when this node does not serve it yet: another node of the group stored it. Afterwards
/// [`machine`] and [`binary`] find it.
pub(super) async fn from_group(node: &Node, id: &str, what: Wanted) {
    if !node.store().is_shared() {
        return;
    }
    match what {
        Wanted::Machine => {
            if let Ok(machine) = id.parse::<MachineId>()
                && node.registry().machine(&machine).is_none()
            {
                node.machine_from_group(&machine).await;
            }
        }
        Wanted::Binary => {
            if let Ok(binary) = id.parse::<BinaryId>()
                && node.registry().binary(&binary).is_none()
            {
                node.binary_from_group(&binary).await;
            }
        }
    }
}

/// What a path names.
pub(super) enum Wanted {
    Machine,
    Binary,
}

/// Like [`activation`], but a node of a group, or a federation member, that lacks the machine
/// first loads it from the group's database, or copies it from another member.
pub(super) async fn activation_or_copy(
    node: &Node,
    id: &str,
    name: &str,
) -> Result<(Machine, usize), ApiError> {
    from_group(node, id, Wanted::Machine).await;
    if let Ok(machine) = id.parse::<MachineId>()
        && node.federation().is_some()
        && node.registry().machine(&machine).is_none()
        && node.removal(machine.as_bytes()).is_none()
    {
        node.machine_from_members(&machine).await;
    }
    activation(node, id, name)
}

/// The machine and the index of the activation a path names, or a 404 listing what exists.
pub(super) fn activation(node: &Node, id: &str, name: &str) -> Result<(Machine, usize), ApiError> {
    let machine = machine(node, id)?;
    let index = machine.binary().find(name).ok_or_else(|| {
        let known: Vec<String> = machine
            .binary()
            .activations()
            .iter()
            .map(|a| a.signature())
            .collect();
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("machine {} has no activation `{name}`", machine.id()),
        )
        .with("activations", known)
    })?;
    Ok((machine, index))
}
