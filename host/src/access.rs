//! Who may upload binaries and create machines, and who may run activations: anyone (the
//! default, as a public node), or only holders of a bearer token the operator lists under
//! `[access]`. A token is listed by its name and its SHA-256, never the token itself, so the
//! configuration file gives none away; a presented token is hashed and compared in constant time
//! (`subtle`), and never logged: only its name is.

use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// Who may do something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Who {
    /// Anyone.
    #[default]
    Anyone,
    /// Holders of a listed token.
    Token,
}

impl Who {
    /// The setting's value: `anyone` or `token`.
    pub fn as_str(self) -> &'static str {
        match self {
            Who::Anyone => "anyone",
            Who::Token => "token",
        }
    }

    /// Reads the setting's value.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "anyone" => Some(Who::Anyone),
            "token" => Some(Who::Token),
            _ => None,
        }
    }
}

/// A listed token: its name (which logs show) and its SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// What the operator calls it.
    pub name: String,
    /// SHA-256 of the token.
    pub sha256: [u8; 32],
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token").field("name", &self.name).finish()
    }
}

impl Token {
    /// The entry as `[access] tokens` writes it: `NAME:SHA256HEX`.
    pub fn entry(&self) -> String {
        format!("{}:{}", self.name, hex::encode(self.sha256))
    }

    /// Reads an entry `NAME:SHA256HEX`.
    pub fn parse(entry: &str) -> Result<Self, String> {
        let (name, digest) = entry.split_once(':').ok_or_else(|| {
            format!(
                "`{entry}` is not NAME:SHA256 (a name, a colon, and the token's SHA-256 in hex); \
                 `carol access-token NAME` makes a token and its entry"
            )
        })?;
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !name_ok {
            return Err(format!(
                "the name `{name}` must be 1 to 64 letters, digits, `-`, `_` or `.`"
            ));
        }
        let mut sha256 = [0u8; 32];
        hex::decode_to_slice(digest, &mut sha256).map_err(|_| {
            format!("the part after `{name}:` must be a SHA-256 in hex (64 characters)")
        })?;
        Ok(Self {
            name: name.to_owned(),
            sha256,
        })
    }

    /// A fresh token named `name`: the token (32 random bytes, hex) and its entry.
    pub fn generate(name: &str) -> Result<(String, Self), String> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| format!("no randomness for a token: {e}"))?;
        let token = hex::encode(secret);
        let listed = Self::parse(&format!("{name}:{}", hex::encode(Sha256::digest(&token))))?;
        Ok((token, listed))
    }
}

/// The `[access]` settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Access {
    /// Who may upload binaries and create machines.
    pub upload: Who,
    /// Who may run activations.
    pub activate: Who,
    /// The tokens.
    pub tokens: Vec<Token>,
    /// The tokens that may remove binaries and machines; none, and nobody may.
    pub admin_tokens: Vec<Token>,
}

/// Why a request may not do what it asks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// No token came.
    #[error(
        "this node lets only holders of a token its operator gave {0}: send it as \
         `Authorization: Bearer TOKEN` (`cargo carol --token`, or CAROL_TOKEN)"
    )]
    NoToken(&'static str),
    /// A token came that is none of the listed ones.
    #[error("the token sent is not one this node's operator lists; ask the operator for one")]
    UnknownToken,
    /// Removing is asked of a node that lists no admin tokens.
    #[error(
        "this node lets nobody remove binaries or machines: its operator lists no `[access] \
         admin_tokens`"
    )]
    NoAdmin,
}

/// What a request asks to do, as far as access goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// Upload a binary or create a machine.
    Upload,
    /// Run an activation.
    Activate,
    /// Remove a binary or a machine.
    Remove,
}

impl Access {
    /// Whether a request that presents `authorization` (the header's value, if any) may do
    /// `act`: `Ok` with the token's name when one was needed and listed, `Ok(None)` when anyone
    /// may.
    pub fn check(&self, act: Act, authorization: Option<&str>) -> Result<Option<&str>, Denied> {
        let (who, what, tokens) = match act {
            Act::Upload => (
                self.upload,
                "upload binaries and create machines",
                &self.tokens,
            ),
            Act::Activate => (self.activate, "run activations", &self.tokens),
            Act::Remove if self.admin_tokens.is_empty() => return Err(Denied::NoAdmin),
            Act::Remove => (
                Who::Token,
                "remove binaries and machines",
                &self.admin_tokens,
            ),
        };
        if who == Who::Anyone {
            return Ok(None);
        }
        let presented = authorization
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or(Denied::NoToken(what))?;
        let digest: [u8; 32] = Sha256::digest(presented).into();
        // Every listed token is compared, whichever matches, so that the time taken says
        // nothing about which.
        let mut found = None;
        for token in tokens {
            if bool::from(token.sha256.ct_eq(&digest)) {
                found = Some(token.name.as_str());
            }
        }
        found.map(Some).ok_or(Denied::UnknownToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_tokens_are_taken_and_others_refused_and_anyone_may_when_open() {
        let (token, listed) = Token::generate("alice").unwrap();
        assert_eq!(Token::parse(&listed.entry()).unwrap(), listed);
        assert!(!format!("{listed:?}").contains(&hex::encode(listed.sha256)));
        let (admin, admin_listed) = Token::generate("ops").unwrap();
        let access = Access {
            upload: Who::Token,
            activate: Who::Anyone,
            tokens: vec![listed],
            admin_tokens: vec![admin_listed],
        };
        // Admin tokens remove; other tokens do not, and a node without admin tokens lets
        // nobody.
        let bearer_admin = format!("Bearer {admin}");
        assert_eq!(
            access.check(Act::Remove, Some(&bearer_admin)),
            Ok(Some("ops"))
        );
        assert_eq!(
            access.check(Act::Remove, Some(&format!("Bearer {token}"))),
            Err(Denied::UnknownToken)
        );
        assert_eq!(
            access.check(Act::Upload, Some(&bearer_admin)),
            Err(Denied::UnknownToken)
        );
        assert_eq!(
            Access::default().check(Act::Remove, Some(&bearer_admin)),
            Err(Denied::NoAdmin)
        );
        let bearer = format!("Bearer {token}");
        assert_eq!(access.check(Act::Upload, Some(&bearer)), Ok(Some("alice")));
        assert_eq!(access.check(Act::Activate, None), Ok(None));
        assert!(matches!(
            access.check(Act::Upload, None),
            Err(Denied::NoToken(_))
        ));
        assert!(matches!(
            access.check(Act::Upload, Some(&token)),
            Err(Denied::NoToken(_))
        ));
        assert_eq!(
            access.check(Act::Upload, Some("Bearer not-a-token")),
            Err(Denied::UnknownToken)
        );
        for bad in ["alice", "alice:xyz", ":00", "a b:00"] {
            assert!(Token::parse(bad).is_err(), "{bad}");
        }
    }
}
