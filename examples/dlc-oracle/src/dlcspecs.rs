//! dlcspecs serialization, as rust-dlc's dlc-messages 0.8 reads it.

use crate::{DIGIT_DECOMPOSITION_EVENT_DESCRIPTOR_TYPE, MessageHash, PRECISION, UNIT};
use sha2::{Digest, Sha256};

/// The body of an `oracle_event` (without its type and length): what the announcement signs.
pub(crate) fn oracle_event(
    nonces: &[Vec<u8>],
    maturity: u32,
    base: u16,
    nb_digits: u16,
    event_id: &str,
) -> Vec<u8> {
    let mut descriptor = base.to_be_bytes().to_vec();
    descriptor.push(0); // is_signed: prices are never negative
    descriptor.extend(string(UNIT));
    descriptor.extend_from_slice(&PRECISION.to_be_bytes());
    descriptor.extend_from_slice(&nb_digits.to_be_bytes());

    let mut event = u16_count(nonces.len());
    for nonce in nonces {
        event.extend_from_slice(nonce);
    }
    event.extend_from_slice(&maturity.to_be_bytes());
    event.extend(tlv(DIGIT_DECOMPOSITION_EVENT_DESCRIPTOR_TYPE, &descriptor));
    event.extend(string(event_id));
    event
}

/// A TLV record: BigSize type, BigSize length, value.
pub(crate) fn tlv(kind: u64, value: &[u8]) -> Vec<u8> {
    let mut record = big_size(kind);
    record.extend(big_size(value.len() as u64));
    record.extend_from_slice(value);
    record
}

/// The BigSize integer of the Lightning messaging spec: one byte below 0xfd, else a marker
/// byte and the big-endian u16, u32 or u64.
pub(crate) fn big_size(n: u64) -> Vec<u8> {
    match n {
        0..0xfd => vec![n as u8],
        0xfd..=0xffff => [&[0xfd][..], &(n as u16).to_be_bytes()[..]].concat(),
        0x1_0000..=0xffff_ffff => [&[0xfe][..], &(n as u32).to_be_bytes()[..]].concat(),
        _ => [&[0xff][..], &n.to_be_bytes()[..]].concat(),
    }
}

/// A dlcspecs `string`: BigSize byte length, UTF-8.
pub(crate) fn string(text: &str) -> Vec<u8> {
    let mut bytes = big_size(text.len() as u64);
    bytes.extend_from_slice(text.as_bytes());
    bytes
}

/// The u16 count that precedes nonces, signatures and outcomes.
pub(crate) fn u16_count(n: usize) -> Vec<u8> {
    u16::try_from(n)
        .expect("at most 64 digits")
        .to_be_bytes()
        .to_vec()
}

/// The 32 bytes that BIP340 signs for `message` of the kind `tag`.
pub(crate) fn hash(how: MessageHash, tag: &str, message: &[u8]) -> Vec<u8> {
    match how {
        MessageHash::Sha256 => Sha256::digest(message).to_vec(),
        MessageHash::Tagged => {
            let tag = Sha256::digest(tag.as_bytes());
            Sha256::new()
                .chain_update(tag)
                .chain_update(tag)
                .chain_update(message)
                .finalize()
                .to_vec()
        }
    }
}

/// base^nb_digits - 1, or u64::MAX when that is larger: no price exceeds it then.
pub(crate) fn max_outcome(base: u16, nb_digits: u16) -> u64 {
    (0..nb_digits)
        .try_fold(1u64, |power, _| power.checked_mul(u64::from(base)))
        .map_or(u64::MAX, |power| power - 1)
}

/// The `nb_digits` digits of `value` in `base`, most significant first, leading zeros included.
pub(crate) fn digits(value: u64, base: u16, nb_digits: u16) -> Vec<u64> {
    let base = u64::from(base);
    let mut rest = value;
    let mut digits: Vec<u64> = (0..nb_digits)
        .map(|_| {
            let digit = rest % base;
            rest /= base;
            digit
        })
        .collect();
    digits.reverse();
    digits
}

/// The committed nonce of digit `index`; the index has no `/`, so names of different events
/// never collide.
pub(crate) fn nonce_name(event_id: &str, index: u16) -> String {
    format!("{event_id}/{index}")
}
