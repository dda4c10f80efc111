//! Requests a member passes on to the others: uploads and machine creations, so that every
//! member holds what any member was given (each checks the ids itself: a binary is named by its
//! SHA-256, a machine by the hash of binary and params), and activations, so that every member
//! runs the machine itself. A passed-on request carries [`FORWARDED`], and is not passed on
//! again.

use super::Member;
use super::relay::{ANSWER_TAG, Answers, CHALLENGE};
use crate::bindings::carol::machine::http_fetch::Method;

/// The header of a request one member passes on to the others.
pub const FORWARDED: &str = "x-carol-forwarded";

/// Activations a member passes on at once; past that, new ones run on this member only.
pub(super) const FORWARDS_IN_FLIGHT: usize = 256;

impl Member {
    /// A turn to pass an activation on, unless `FORWARDS_IN_FLIGHT` are under way.
    pub fn forward_slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.forwards.clone().try_acquire_owned().ok()
    }

    /// Passes `method path` with `body` (of `content_type`) on to every other member, and waits
    /// for their answers, which are logged and otherwise ignored (each member answers its own
    /// clients), but for those of 200 with their tags, which go to the relay if given, with the
    /// challenge the tags cover ([`super::relay`]).
    pub async fn forward(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
        relay: Option<(Answers, String)>,
    ) {
        // A node that leaves the federation in a resharing passes nothing on.
        let Some(me) = self.index else { return };
        let mut headers = vec![(FORWARDED.to_owned(), me.to_string())];
        let answers = relay.map(|(answers, challenge)| {
            headers.push((CHALLENGE.to_owned(), challenge));
            answers
        });
        if let Some(content_type) = content_type {
            headers.push(("content-type".to_owned(), content_type.to_owned()));
        }
        let mut sends = tokio::task::JoinSet::new();
        for index in self.file.indices().filter(|&i| i != me) {
            let (forwarder, headers, body) =
                (self.forwarder.clone(), headers.clone(), body.to_vec());
            let (path, answers) = (path.to_owned(), answers.clone());
            sends.spawn(async move {
                let why = match forwarder.respond(index, method, &path, headers, body).await {
                    Ok(response) if response.status == 200 => {
                        let tag = response
                            .headers
                            .iter()
                            .find(|(name, _)| name.eq_ignore_ascii_case(ANSWER_TAG))
                            .map(|(_, tag)| tag.clone());
                        if let (Some(answers), Some(tag)) = (answers, tag) {
                            // The relay may have stopped listening; nothing else wants it.
                            let _ = answers.send((index, response.body, tag)).await;
                        }
                        return;
                    }
                    Ok(response) if (201..=202).contains(&response.status) => return,
                    Ok(response) => format!("it answered with {}", response.status),
                    Err(why) => why,
                };
                // The path only: a query holds a client's arguments.
                let path = path.split('?').next().unwrap_or_default();
                tracing::warn!(member = index, path, %why, "a member did not take a request passed on to it");
            });
        }
        sends.join_all().await;
    }
}
