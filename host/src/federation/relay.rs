//! Answering with what the agreeing members answered. A member whose own run of an activation
//! was outvoted (its committed nonce is bound to, or the members decided, another message than
//! its run asked to sign) made no signature; its client gets the answer that at least `t` other
//! members gave, byte for byte, to the activation this member passed on to them.
//!
//! Each answer of 200 to a passed-on activation carries a tag ([`ANSWER_TAG`]) under the key its
//! member shares with the one that passed it on, over the request, a challenge the passing
//! member chose for this request alone ([`CHALLENGE`]) and the answer: only members count, each
//! once, and only with answers to this very request (an answer recorded earlier, or asked for by
//! anyone else, carries another challenge). `t` members answering the same bytes means that at
//! least `t − f` honest members' own runs of the request produced them, and an honest member's
//! run only uses signatures it checked under the federation's keys ([`super::exchange`]); this
//! node does not read the machine's output.

use super::Member;
use crate::bindings::carol::machine::http_fetch::Method;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The header of a member's answer to an activation passed on to it: the tag, hex.
pub const ANSWER_TAG: &str = "x-carol-answer-tag";

/// The header of an activation passed on: the challenge its answer's tag covers, 32 bytes hex.
pub const CHALLENGE: &str = "x-carol-answer-challenge";

/// What a tag of an answer authenticates first.
const LABEL: &[u8] = b"carol/activation-answer/v1";

/// The SHA-256 of a request as it is passed on: its method, path and query, and body.
pub fn request_digest(method: Method, path_and_query: &str, body: &[u8]) -> [u8; 32] {
    let method: &[u8] = match method {
        Method::Get => b"GET",
        Method::Head => b"HEAD",
        Method::Post => b"POST",
        Method::Put => b"PUT",
        Method::Patch => b"PATCH",
        Method::Delete => b"DELETE",
    };
    let mut hash = Sha256::new();
    for part in [method, path_and_query.as_bytes(), body] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.finalize().into()
}

/// What the tag of member `index`'s answer `body` to request `request`, asked with
/// `challenge`, authenticates (only answers of 200 are relayed, so the status is not in it).
fn authenticated(
    session: &[u8; 32],
    request: &[u8; 32],
    challenge: &[u8; 32],
    index: u32,
    body: &[u8],
) -> Vec<u8> {
    let mut message = LABEL.to_vec();
    message.extend_from_slice(session);
    message.extend_from_slice(request);
    message.extend_from_slice(challenge);
    message.extend_from_slice(&index.to_be_bytes());
    message.extend_from_slice(body);
    message
}

/// The answers of the other members to one activation passed on to them, as they arrive.
pub struct Relay {
    request: [u8; 32],
    challenge: [u8; 32],
    answers: mpsc::Receiver<(u32, Vec<u8>, String)>,
}

/// Where [`Member::forward`] puts the answers of 200, with their members and tags.
pub type Answers = mpsc::Sender<(u32, Vec<u8>, String)>;

impl Relay {
    /// A relay of the answers of up to `members` members to request `request`, the challenge
    /// to send with it, and where the answers go.
    pub fn new(request: [u8; 32], members: usize) -> (Answers, [u8; 32], Self) {
        let mut challenge = [0u8; 32];
        getrandom::fill(&mut challenge).expect("the operating system's random source failed");
        let (answers, received) = mpsc::channel(members.max(1));
        let relay = Self {
            request,
            challenge,
            answers: received,
        };
        (answers, challenge, relay)
    }
}

impl Member {
    /// The tag of this member's answer `body` to request `request`, passed on by member `to`
    /// with `challenge`.
    pub fn answer_tag(
        &self,
        to: u32,
        request: &[u8; 32],
        challenge: &[u8; 32],
        body: &[u8],
    ) -> Option<String> {
        let me = self.index?;
        let key = self.pairwise(to)?;
        let authenticated = authenticated(self.session(), request, challenge, me, body);
        Some(hex::encode(key.tag(&authenticated)))
    }

    /// The answer at least `t` other members gave, the same bytes, to the activation of `relay`,
    /// once they have, by `deadline`; answers whose tag is not their member's are ignored.
    pub async fn agreed_answer(&self, mut relay: Relay, deadline: Instant) -> Option<Vec<u8>> {
        let threshold = self.file.threshold;
        let mut counts: BTreeMap<[u8; 32], (usize, Vec<u8>)> = BTreeMap::new();
        let mut counted = BTreeSet::new();
        loop {
            let (index, body, tag) = tokio::time::timeout_at(deadline, relay.answers.recv())
                .await
                .ok()??;
            let tag = hex::decode(tag).unwrap_or_default();
            let (request, challenge) = (&relay.request, &relay.challenge);
            let authenticated = authenticated(self.session(), request, challenge, index, &body);
            if !self
                .pairwise(index)
                .is_some_and(|key| key.verifies(&authenticated, &tag))
            {
                tracing::warn!(
                    member = index,
                    "a member's answer to an activation passed on to it is not tagged by it; it \
                     is ignored"
                );
                continue;
            }
            if !counted.insert(index) {
                continue;
            }
            let entry = counts
                .entry(Sha256::digest(&body).into())
                .or_insert_with(|| (0, body));
            entry.0 += 1;
            if entry.0 >= threshold {
                return Some(std::mem::take(&mut entry.1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::Reach;
    use crate::federation::development::Development;
    use crate::store::Store;
    use std::sync::Arc;
    use std::time::Duration;

    fn members(threshold: usize, n: usize) -> Vec<Member> {
        let urls: Vec<String> = (0..n)
            .map(|i| format!("http://127.0.0.1:{}", 9 + i))
            .collect();
        let development = Development::deal(threshold, &urls).unwrap();
        let file = development.file.clone();
        development
            .members
            .into_iter()
            .map(|(key, ready)| {
                let reach = Reach {
                    forward_timeout: Duration::from_secs(1),
                    component_bytes: 1024,
                };
                let store = Arc::new(Store::open(None).unwrap());
                Member::development(file.clone(), &key, ready, reach, store, Arc::default())
                    .unwrap()
            })
            .collect()
    }

    #[tokio::test]
    async fn only_t_members_tagged_answers_of_the_same_bytes_to_this_request_are_relayed() {
        let members = members(3, 5);
        let request = request_digest(Method::Post, "/machines/m/activate/attest", b"{}");
        let soon = || Instant::now() + Duration::from_millis(50);

        // Two members agree; a third answers other bytes; a fourth's tag is for another
        // request, then for another challenge (an answer recorded earlier, or asked for by
        // someone else); one claims to be member 5 with member 4's tag; member 2 answers twice.
        let (answers, challenge, relay) = Relay::new(request, 8);
        let answer = |from: usize, body: &[u8]| {
            let tag = members[from].answer_tag(1, &request, &challenge, body);
            (from as u32 + 1, body.to_vec(), tag.unwrap())
        };
        for sent in [
            answer(1, b"signed"),
            answer(2, b"signed"),
            answer(3, b"other"),
        ] {
            answers.send(sent).await.unwrap();
        }
        let other_request = request_digest(Method::Get, "/machines/m/activate/attest", b"");
        let tag = members[4].answer_tag(1, &other_request, &challenge, b"signed");
        answers
            .send((5, b"signed".to_vec(), tag.unwrap()))
            .await
            .unwrap();
        let tag = members[4].answer_tag(1, &request, &[7; 32], b"signed");
        answers
            .send((5, b"signed".to_vec(), tag.unwrap()))
            .await
            .unwrap();
        let (_, body, tag) = answer(3, b"signed");
        answers.send((5, body, tag)).await.unwrap();
        answers.send(answer(1, b"signed")).await.unwrap();
        assert_eq!(members[0].agreed_answer(relay, soon()).await, None);

        // A third member's tagged answer of the same bytes makes `t`.
        let (answers, challenge, relay) = Relay::new(request, 4);
        for from in [1, 3, 2] {
            let tag = members[from].answer_tag(1, &request, &challenge, b"signed");
            let sent = (from as u32 + 1, b"signed".to_vec(), tag.unwrap());
            answers.send(sent).await.unwrap();
        }
        assert_eq!(
            members[0].agreed_answer(relay, soon()).await,
            Some(b"signed".to_vec())
        );
    }
}
