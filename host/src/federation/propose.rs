//! `carol federation propose`: asks each would-be member for its node key and writes the
//! federation file its operators review.

use super::file::{FederationFile, FileMember, Problem};
use super::peers::{Answer, Peers};
use carol_core::api::NodeInfo;

/// Why no federation file was proposed.
#[derive(Debug, thiserror::Error)]
pub enum ProposeError {
    /// The federation could not work.
    #[error("{0}")]
    Invalid(#[from] Problem),
    /// A member could not be asked.
    #[error(
        "member {index} ({url}) did not answer `GET /` with a Carol node's description: {why}; \
         start it (`carol run`) and check its URL"
    )]
    Unreachable {
        /// Its index.
        index: u32,
        /// Its URL.
        url: String,
        /// What happened.
        why: String,
    },
}

/// Asks the nodes at `urls` for their node keys and makes the federation file of `threshold`
/// of them, named `name`.
pub async fn propose(
    name: &str,
    threshold: usize,
    urls: &[String],
) -> Result<FederationFile, ProposeError> {
    let mut nonce = [0u8; 32];
    getrandom::fill(&mut nonce).expect("the operating system's random source failed");
    let mut file = FederationFile {
        name: name.to_owned(),
        threshold,
        nonce: hex::encode(nonce),
        members: Vec::new(),
    };
    // What can be refused without asking anyone is refused first.
    let unasked = FederationFile {
        members: urls
            .iter()
            .zip(1u8..)
            .map(|(url, i)| FileMember {
                url: url.clone(),
                node_key: carol_core::bls::SecretKey::key_gen(&[i; 32]).public_key(),
            })
            .collect(),
        ..file.clone()
    };
    unasked.check()?;
    let peers = Peers::for_urls(urls, std::time::Duration::from_secs(10));
    for (url, index) in urls.iter().zip(1..) {
        let info = match peers.get::<NodeInfo>(index, "/").await {
            Answer::Got(info) => info,
            Answer::NotYet => {
                return Err(ProposeError::Unreachable {
                    index,
                    url: url.clone(),
                    why: "it answered 404".into(),
                });
            }
            Answer::Failed(why) => {
                return Err(ProposeError::Unreachable {
                    index,
                    url: url.clone(),
                    why,
                });
            }
        };
        file.members.push(FileMember {
            url: url.clone(),
            // A node that is a member already signs as its federation; its own key is beside.
            node_key: info.node_key.unwrap_or(info.public_key),
        });
    }
    file.check()?;
    Ok(file)
}
