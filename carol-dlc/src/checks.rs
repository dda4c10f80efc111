//! What a wallet checks of a Carol oracle before it relies on it, as pure functions of what the
//! node answered: the machine is the one expected, its oracle key is the key the node holds for
//! it, each announcement is of the event asked for and signed by that key, and each attestation
//! signs, with the announced nonces, an outcome the announcement allows.

use crate::error::Error;
use carol_core::api::MachineDescription;
use carol_core::ids::{BinaryId, MachineId};
use dlc_messages::oracle_msgs::{EventDescriptor, OracleAnnouncement, OracleAttestation};
use dlc_messages::ser_impls::read_as_tlv;
use lightning::util::ser::Readable;
use secp256k1::{Secp256k1, XOnlyPublicKey};

/// What a wallet was told the machine is: its binary and params, which make its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The binary's id.
    pub binary: BinaryId,
    /// The params.
    pub params: Vec<u8>,
}

impl Expected {
    /// Whether `machine` is the id of the binary and params expected.
    pub fn check(&self, machine: &MachineId) -> Result<(), Error> {
        let expected = MachineId::of(&self.binary, &self.params);
        match expected == *machine {
            true => Ok(()),
            false => Err(Error::NotTheExpectedMachine {
                machine: *machine,
                binary: self.binary,
                expected,
            }),
        }
    }
}

/// The terms of an event a contract is on, which both parties agree: the BitMEX index whose
/// price is the outcome, the maturity (Unix seconds, a minute's start), and its digits. The
/// announcement's signed bytes carry all but the symbol; the machine answers an announcement for
/// these terms only if the event was announced with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    /// The index, e.g. `.BXBT` (BTC/USD).
    pub symbol: String,
    /// The maturity, Unix seconds.
    pub maturity: u32,
    /// The base of the digits.
    pub base: u16,
    /// The number of digits.
    pub nb_digits: u16,
}

/// Checks that the announcement the node at `url` answered (`answered`, the machine's JSON, and
/// `announcement`, its TLV read) is of `terms`.
pub fn terms(
    url: &str,
    terms: &Terms,
    answered: &serde_json::Value,
    announcement: &OracleAnnouncement,
) -> Result<(), Error> {
    let event = &announcement.oracle_event;
    let other = |reason: String| Error::OtherTerms {
        url: url.to_owned(),
        event: event.event_id.clone(),
        reason,
    };
    if answered["symbol"].as_str() != Some(terms.symbol.as_str()) {
        return Err(other(format!("its symbol is {}", answered["symbol"])));
    }
    if event.event_maturity_epoch != terms.maturity {
        return Err(other(format!(
            "its maturity is {}",
            event.event_maturity_epoch
        )));
    }
    match &event.event_descriptor {
        EventDescriptor::DigitDecompositionEvent(d)
            if d.base == terms.base
                && d.nb_digits == terms.nb_digits
                && !d.is_signed
                && d.unit == "usd"
                && d.precision == 0 =>
        {
            Ok(())
        }
        descriptor => Err(other(format!("its event is {descriptor:?}"))),
    }
}

/// Whether the node at `url` describes `machine` consistently (its binary and params make its
/// id) and as `expected`; then the secp256k1 key it holds for it, if it lists one.
pub fn description(
    url: &str,
    machine: &MachineId,
    described: &MachineDescription,
    expected: Option<&Expected>,
) -> Result<Option<[u8; 32]>, Error> {
    let wrong = |reason: String| Error::MachineMisdescribed {
        url: url.to_owned(),
        machine: *machine,
        reason,
    };
    if described.id != *machine {
        return Err(wrong(format!("it describes machine {}", described.id)));
    }
    if MachineId::of(&described.binary_id, &described.params) != *machine {
        return Err(wrong(
            "its binary id and params do not make the machine's id".to_owned(),
        ));
    }
    if let Some(expected) = expected
        && (expected.binary != described.binary_id || expected.params != described.params)
    {
        return Err(wrong("it names another binary or other params".to_owned()));
    }
    Ok(described.keys.secp256k1)
}

/// The oracle key, x-only, from its 32 bytes.
pub fn oracle_key(url: &str, bytes: &[u8]) -> Result<XOnlyPublicKey, Error> {
    XOnlyPublicKey::from_slice(bytes).map_err(|_| Error::BadAnswer {
        url: url.to_owned(),
        reason: "the oracle key is not an x-only secp256k1 key".to_owned(),
    })
}

/// Reads the dlcspecs message (`oracle_announcement` or `oracle_attestation`) that is all of
/// `tlv`.
pub fn read_tlv<T: Readable + lightning::ln::wire::Type>(
    url: &str,
    tlv: &[u8],
) -> Result<T, Error> {
    let mut rest = tlv;
    let value: T = read_as_tlv(&mut rest).map_err(|e| Error::BadAnswer {
        url: url.to_owned(),
        reason: format!("its TLV is not a dlcspecs message rust-dlc reads: {e:?}"),
    })?;
    if !rest.is_empty() {
        return Err(Error::BadAnswer {
            url: url.to_owned(),
            reason: format!("{} bytes follow its TLV", rest.len()),
        });
    }
    Ok(value)
}

/// Checks that `announcement` announces `event` under `key` and is validly signed.
pub fn announcement(
    url: &str,
    event: &str,
    key: &XOnlyPublicKey,
    announcement: &OracleAnnouncement,
) -> Result<(), Error> {
    let got = &announcement.oracle_event.event_id;
    if got != event {
        return Err(Error::OtherEvent {
            url: url.to_owned(),
            asked: event.to_owned(),
            got: got.clone(),
        });
    }
    if announcement.oracle_public_key != *key {
        return Err(Error::NotUnderTheMachinesKey {
            url: url.to_owned(),
            event: event.to_owned(),
        });
    }
    announcement
        .validate(&Secp256k1::verification_only())
        .map_err(|e| Error::BadAnnouncement {
            url: url.to_owned(),
            event: event.to_owned(),
            reason: format!("{e:?}"),
        })
}

/// Checks that `attestation` attests to `announcement`'s event: every digit it announced, each a
/// digit of its base, each signed under its key with the digit's announced nonce.
pub fn attestation(
    url: &str,
    announcement: &OracleAnnouncement,
    attestation: &OracleAttestation,
) -> Result<(), Error> {
    let event = &announcement.oracle_event.event_id;
    let bad = |reason: String| Error::BadAttestation {
        url: url.to_owned(),
        event: event.clone(),
        reason,
    };
    if attestation.event_id != *event {
        return Err(bad(format!("it attests to `{}`", attestation.event_id)));
    }
    let nonces = announcement.oracle_event.oracle_nonces.len();
    if attestation.outcomes.len() != nonces || attestation.signatures.len() != nonces {
        return Err(bad(format!(
            "it signs {} digits, the announcement has {nonces}",
            attestation.signatures.len()
        )));
    }
    if let EventDescriptor::DigitDecompositionEvent(descriptor) =
        &announcement.oracle_event.event_descriptor
    {
        // A digit as the oracle writes it: decimal, no sign, no leading zero.
        let digit = |o: &String| {
            o.parse::<u16>()
                .is_ok_and(|d| d < descriptor.base && d.to_string() == *o)
        };
        if !attestation.outcomes.iter().all(digit) {
            return Err(bad(format!(
                "an outcome is no digit of base {}",
                descriptor.base
            )));
        }
    }
    attestation
        .validate(&Secp256k1::verification_only(), announcement)
        .map_err(|e| {
            bad(format!(
                "a signature does not verify under the announced key and nonce: {e:?}"
            ))
        })
}
