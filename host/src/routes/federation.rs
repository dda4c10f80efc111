//! `GET /federation` and the key generation's messages a member serves to the others.

use super::error::ApiError;
use crate::federation::Which;
use crate::federation::agreement::{AgreementError, Ask, Reply};
use crate::federation::exchange::{PartialAnswer, PartialJson, Scheme, authenticated};
use crate::node::Node;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use carol_core::federation::FederationDescription;
use carol_core::ids::MachineId;
use carol_federation::agreement::CertificateJson;
use carol_federation::machine_key::MachineDealJson;

fn member(node: &Node) -> Result<&std::sync::Arc<crate::federation::Member>, ApiError> {
    node.federation().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "this node is not a federation member: it runs without a federation file",
        )
    })
}

/// `GET /federation`: the federation, its members and its key.
pub(super) async fn describe(
    State(node): State<Node>,
) -> Result<Json<FederationDescription>, ApiError> {
    member(&node)?.describe().map(Json).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "this node is no member of the federation it runs with: it deals its share of the \
             previous federation's key in a resharing, and then leaves",
        )
    })
}

/// `GET /federation/keygen/{phase}`: this member's message of that phase of the key
/// generation; 404 until it has made it.
pub(super) async fn keygen(
    State(node): State<Node>,
    Path(phase): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    keygen_message(&node, Which::Key, &phase)
}

/// `GET /federation/keygen/secp256k1/{phase}`: this member's message of that phase for the
/// federation's secp256k1 key, made in the same key generation; 404 until it has made it.
pub(super) async fn keygen_secp256k1(
    State(node): State<Node>,
    Path(phase): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    keygen_message(&node, Which::Secp256k1, &phase)
}

/// `GET /federation/keygen/machines/{id}/{phase}`: in a resharing, this member's message of that
/// phase for machine `id`'s own key, which is reshared too; 404 until it has made it.
pub(super) async fn keygen_machine(
    State(node): State<Node>,
    Path((machine, phase)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let machine: MachineId = machine.parse().map_err(|e: carol_core::ids::IdError| {
        ApiError::new(StatusCode::BAD_REQUEST, e.to_string())
    })?;
    keygen_message(&node, Which::Machine(machine), &phase)
}

fn keygen_message(
    node: &Node,
    which: Which,
    phase: &str,
) -> Result<Json<serde_json::Value>, ApiError> {
    member(node)?
        .published(which, phase)
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "this member has no `{phase}` message of the key generation (yet): the phases \
                 are deal, response, justification, confirmation and kept (kept only for the \
                 federation key), and machines' keys have messages only in a resharing that \
                 carries them over"
                ),
            )
        })
}

/// `GET /federation/machine-keys`: the machines whose own keys this member holds a share of.
pub(super) async fn machine_keys(
    State(node): State<Node>,
) -> Result<Json<carol_core::federation::MachineKeys>, ApiError> {
    let member = member(&node)?.clone();
    let listed = tokio::task::spawn_blocking(move || member.held_machine_keys())
        .await
        .expect("listing machines' keys does not panic");
    listed.map(Json).map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("cannot list the machines' keys this member holds: {e}"),
        )
    })
}

/// `POST /federation/partials` (BLS) and `POST /federation/bip340-partials`: another member's
/// partial signature of a message its own run asked to sign. It is checked only when this
/// member's run reaches that message (a partial proves nothing before: its message is not sent
/// with it).
pub(super) async fn partial<S: Scheme>(
    State(node): State<Node>,
    Json(partial): Json<PartialJson<S::Partial>>,
) -> Result<(StatusCode, Json<PartialAnswer<S::Signature>>), ApiError> {
    let member = member(&node)?;
    let digest: [u8; 32] = hex::decode(&partial.digest)
        .ok()
        .and_then(|d| d.try_into().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "`digest` must be the SHA-256 of what is signed, 32 bytes in hex",
            )
        })?;
    if partial.index == 0 || partial.index as usize > member.file().members.len() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "`index` {} names no member of this federation (1 to {})",
                partial.index,
                member.file().members.len()
            ),
        ));
    }
    let authenticated = authenticated(
        S::LABEL,
        member.session(),
        &digest,
        partial.index,
        S::bytes(&partial.signature),
    );
    let tag = hex::decode(&partial.tag).unwrap_or_default();
    let from_member = member
        .pairwise(partial.index)
        .is_some_and(|key| key.verifies(&authenticated, &tag));
    if !from_member {
        node.metrics().partial_rejected(partial.index);
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "the partial's tag is not member {}'s, under the key it shares with this member: \
                 only members hand each other partial signatures",
                partial.index
            ),
        ));
    }
    if let Some(made) = member.made_signature::<S>(&digest) {
        let answer = PartialAnswer {
            held: false,
            made: Some(made),
        };
        return Ok((StatusCode::OK, Json(answer)));
    }
    node.metrics().partial_received(partial.index);
    member.offer_partial::<S>(digest, partial.index, partial.signature);
    let answer = PartialAnswer {
        held: true,
        made: None,
    };
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

/// `GET /federation/machines/{id}/deal[?key=secp256k1][&dealer=N]`: this member's contribution to
/// machine `id`'s own BLS key (or secp256k1 key; the same whenever asked; shares in it are
/// sealed to their members), or member `N`'s as this member's record of the decision holds it.
pub(super) async fn machine_deal(
    State(node): State<Node>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<MachineDealJson>, ApiError> {
    let (member, me) = dealing_member(&node)?;
    let machine = machine_in_path(&id)?;
    let (secp256k1, dealer) = key_query(query)?;
    let dealer = dealer.unwrap_or(me);
    let deal = match secp256k1 {
        true => member.machine_secp256k1_deal(&machine, dealer),
        false => member.machine_deal(&machine, dealer),
    };
    deal.map(Json).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "this member holds no contribution of member {dealer} to machine {machine}'s key: \
                 it holds the others' once the members decided on them and it made its share, \
                 and deals none of its own for a key carried over from a previous federation"
            ),
        )
    })
}

/// `GET /federation/machines/{id}/pledge[?key=secp256k1]`: this member's pledge to its
/// contribution to machine `id`'s own BLS key (or secp256k1 key): its digest, endorsed by this
/// member's node key for the decision on the key's contributors.
pub(super) async fn machine_pledge(
    State(node): State<Node>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<carol_federation::machine_key::PledgeJson>, ApiError> {
    let (member, _) = dealing_member(&node)?;
    let machine = machine_in_path(&id)?;
    let (secp256k1, None) = key_query(query)? else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "a member pledges its own contribution only: no dealer=N",
        ));
    };
    member
        .machine_pledge(&machine, secp256k1)
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "this member pledges no contribution to machine {machine}'s key: the key was \
                     carried over from a previous federation, and is never made again"
                ),
            )
        })
}

/// A machine key's `key=bls|secp256k1` (`true` for secp256k1) and, optionally, `dealer=N` in a
/// query.
fn key_query(query: Option<String>) -> Result<(bool, Option<u32>), ApiError> {
    let bad = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "the query is key=bls or key=secp256k1 (bls unless named) and, for a deal, dealer=N, \
             N a member's index (this member unless named)",
        )
    };
    let (mut secp256k1, mut dealer) = (false, None);
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match (key.as_ref(), value.as_ref()) {
            ("key", "bls") => secp256k1 = false,
            ("key", "secp256k1") => secp256k1 = true,
            ("dealer", n) => dealer = Some(n.parse().map_err(|_| bad())?),
            _ => return Err(bad()),
        }
    }
    Ok((secp256k1, dealer))
}

/// `POST /federation/nonce-votes`: another member's vote on the message a committed nonce signs
/// ([`crate::federation::votes`]).
pub(super) async fn nonce_vote(
    State(node): State<Node>,
    Json(vote): Json<crate::federation::votes::VoteJson>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let member = member(&node)?.clone();
    // A vote's signature costs a pairing: off the async executor.
    let taken = tokio::task::spawn_blocking(move || member.take_vote(&vote))
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "taking the vote failed"))?;
    // JSON like the other members' answers: the sender reads it as the vote taken.
    taken
        .map(|()| {
            (
                StatusCode::ACCEPTED,
                Json(serde_json::json!({"held": true})),
            )
        })
        .map_err(|why| ApiError::new(StatusCode::FORBIDDEN, why))
}

/// The member that answers for its contributions, and its index: a node that leaves in a
/// resharing deals nothing.
fn dealing_member(
    node: &Node,
) -> Result<(&std::sync::Arc<crate::federation::Member>, u32), ApiError> {
    let member = member(node)?;
    let me = member.index().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "this node is no member of the federation: it deals nothing",
        )
    })?;
    Ok((member, me))
}

/// A machine id in a path, or the error that says what one is.
fn machine_in_path(id: &str) -> Result<MachineId, ApiError> {
    id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "a machine id is SHA-256(binary id || params), 64 hex characters",
        )
    })
}

/// A nonce's `name=HEX` and, optionally, `dealer=N` in a query.
fn nonce_query(query: Option<String>) -> Result<(Vec<u8>, Option<u32>), ApiError> {
    let bad = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "the query is name=HEX (the nonce's name, hex, at most 256 bytes) and, for a deal, \
             optionally dealer=N (a member's index)",
        )
    };
    let (mut name, mut dealer) = (None, None);
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "name" => name = Some(hex::decode(value.as_bytes()).map_err(|_| bad())?),
            "dealer" => dealer = Some(value.parse().map_err(|_| bad())?),
            _ => return Err(bad()),
        }
    }
    let name = name.ok_or_else(bad)?;
    // A machine's names, or a fresh nonce's (shorter): no longer name costs a member a deal.
    if name.len() > crate::imports::MAX_NONCE_NAME_BYTES {
        return Err(bad());
    }
    Ok((name, dealer))
}

/// `GET /federation/machines/{id}/nonce-pledge?name=HEX`: this member's pledge to its
/// contribution to machine `id`'s committed nonce named `HEX`: the digest of the contribution it
/// reveals once the members decided on the pledges.
pub(super) async fn nonce_pledge(
    State(node): State<Node>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<carol_federation::machine_key::PledgeJson>, ApiError> {
    let member = member(&node)?;
    let machine = machine_in_path(&id)?;
    let (name, None) = nonce_query(query)? else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "a member pledges its own contribution only: no dealer=N",
        ));
    };
    member
        .nonce_pledge(&machine, &name)
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "this node is no member of the federation: it deals nothing",
            )
        })
}

/// `GET /federation/machines/{id}/nonce-deal?name=HEX[&dealer=N]`: this member's contribution to
/// machine `id`'s committed nonce named `HEX` (hex of the name's bytes), once the members decided
/// on it, or member `N`'s as this member's record of the decision holds it.
pub(super) async fn nonce_deal(
    State(node): State<Node>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<MachineDealJson>, ApiError> {
    let (member, me) = dealing_member(&node)?;
    let machine = machine_in_path(&id)?;
    let (name, dealer) = nonce_query(query)?;
    let dealer = dealer.unwrap_or(me);
    member
        .nonce_deal(&machine, &name, dealer)
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "this member holds no contribution of member {dealer} to this nonce of machine \
                     {machine}: it reveals its own once the members decided on it, and holds the \
                     others' once it made its share"
                ),
            )
        })
}

/// `POST /federation/agreement`: another member asks this one, as an acceptor, to promise or
/// accept, or tells it a decision.
pub(super) async fn agreement(
    State(node): State<Node>,
    Json(ask): Json<Ask>,
) -> Result<Json<Reply>, ApiError> {
    let member = member(&node)?.clone();
    let answered = tokio::task::spawn_blocking(move || member.answer(&ask))
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "answering failed"))?;
    answered.map(Json).map_err(|error| {
        let status = match error {
            AgreementError::NotAMember(_) => StatusCode::FORBIDDEN,
            AgreementError::Store(_) | AgreementError::Damaged => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, error.to_string())
    })
}

/// `GET /federation/decided/{decree}`: the certificate of what the members decided on
/// `decree` (hex), once this member knows it.
pub(super) async fn decided(
    State(node): State<Node>,
    Path(decree): Path<String>,
) -> Result<Json<CertificateJson>, ApiError> {
    let member = member(&node)?;
    let decree = hex::decode(&decree)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "a decree is hex"))?;
    member.decided(&decree).map(Json).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "this member knows no decision on that yet",
        )
    })
}
