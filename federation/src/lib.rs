//! The cryptography of a Carol federation, without any transport: n members hold shares of one
//! BLS12-381 key, made by a distributed key generation in which nobody ever holds the whole
//! key, and any t of them sign together what verifies as one ordinary signature of that key;
//! and the same for BIP340 over secp256k1, with nonces shared like keys.
//!
//! - [`curve`]: the two groups, BLS12-381's G1 and secp256k1, behind one trait.
//! - [`poly`]: Shamir sharing and Feldman commitments, and Lagrange coefficients, in either.
//! - [`threshold`]: shares, partial signatures, their checks against the public shares, and
//!   their combination into the signature of the whole key.
//! - [`ecies`]: shares encrypted to a member's node key, so that they never travel in the clear.
//! - [`identity`]: a member's node key as the key generation uses it (signing its messages,
//!   opening the shares sent to it).
//! - [`dkg`]: the Joint-Feldman key generation with complaints and justifications, as drand's
//!   specification describes it, as a state machine the node drives.
//! - [`agreement`]: the members agreeing on one value once and for good (single-decree Paxos),
//!   with certificates of what was chosen.
//! - [`machine_key`]: a machine's own keys and committed nonces, each made by its own key
//!   generation among the members from contributions each derives from its node key.
//! - [`schnorr`]: threshold BIP340 signatures with a shared, committed nonce.
//! - [`wire`]: the JSON of the protocol's messages.
//!
//! The ciphersuite is the node's own ([`carol_core::bls::DST`]): public keys in G1, signatures
//! in G2, so a federation's signature verifies exactly as a single node's.
//!
//! ```
//! use carol_federation::poly::SecretPoly;
//! use carol_federation::threshold::{combine, Share};
//!
//! // A 2-of-3 sharing dealt by one party, as a test would: a key generation deals without one.
//! let poly = SecretPoly::random(2);
//! let public = poly.commit();
//! let shares: Vec<Share> = (1..=3).map(|i| Share::new(i, poly.eval(i))).collect();
//! let partials: Vec<_> = shares.iter().map(|s| s.sign(b"message")).collect();
//! assert!(partials.iter().all(|p| p.verify(&public, b"message")));
//! // Any two combine into the same signature, which verifies under the whole key.
//! let a = combine(2, &partials[..2]).unwrap();
//! let b = combine(2, &partials[1..]).unwrap();
//! assert_eq!(a.to_bytes(), b.to_bytes());
//! assert!(public.public_key().verify(b"message", &a));
//! ```

pub mod agreement;
pub mod curve;
pub mod dkg;
pub mod ecies;
pub mod identity;
pub mod machine_key;
pub mod poly;
pub mod schnorr;
pub mod threshold;
pub mod wire;
