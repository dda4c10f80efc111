//! A DLC settles on Carol's word: two parties build a numerical contract with rust-dlc (`dlc`,
//! `dlc-trie`, `dlc-manager`'s payout curves) on a BTC/USD event that `examples/dlc-oracle`
//! announces, taken through `carol-dlc`: the funding transaction, a CET per payout range, and
//! each party's adaptor signatures, verified against the announcement's key and nonces. At
//! maturity the attestation completes the CET of the outcome, which libbitcoinconsensus accepts
//! as spending the funding output, while no other CET can be completed from it. Once on a single
//! node, once on a 3-of-5 federation with two members down, and once beyond the digits (the cap).

use crate::dlc_oracle::{MATURITY, mock, new_machine, oracle, set_price};
use crate::federation::form;
use crate::harness::guest;
use bitcoin::consensus::encode::serialize;
use bitcoin::hashes::{Hash, sha256};
use bitcoin::{Amount, CompressedPublicKey, OutPoint, ScriptBuf, Transaction, TxIn, TxOut, Txid};
use bitcoin::{absolute::LockTime, sighash::EcdsaSighashType, transaction::Version};
use carol_core::ids::MachineId;
use carol_dlc::CarolOracle;
use dlc::secp_utils::schnorrsig_compute_sig_point;
use dlc::secp256k1_zkp::EcdsaAdaptorSignature;
use dlc::{DlcTransactions, PartyParams, Payout, RangePayout, TxInputInfo};
use dlc_manager::Oracle as _;
use dlc_manager::contract::contract_info::ContractInfo;
use dlc_manager::contract::numerical_descriptor::NumericalDescriptor;
use dlc_manager::contract::{AdaptorInfo, ContractDescriptor};
use dlc_manager::payout_curve::{PayoutFunction, PayoutFunctionPiece, PayoutPoint};
use dlc_manager::payout_curve::{PolynomialPayoutCurvePiece, RoundingInterval, RoundingIntervals};
use dlc_messages::oracle_msgs::{OracleAnnouncement, OracleAttestation};
use dlc_trie::multi_oracle_trie::MultiOracleTrie;
use dlc_trie::{DlcTrie, OracleNumericInfo, RangeInfo};
use secp256k1::{All, Message, PublicKey, Secp256k1, SecretKey};
use serde_json::json;

const DIGITS: usize = 20;
const MAX_OUTCOME: u64 = (1 << DIGITS) - 1;
const TOTAL: u64 = 200_000;

fn secret() -> SecretKey {
    loop {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).unwrap();
        if let Ok(key) = SecretKey::from_slice(&bytes) {
            return key;
        }
    }
}

fn p2wpkh(secp: &Secp256k1<All>, key: &SecretKey) -> ScriptBuf {
    ScriptBuf::new_p2wpkh(&CompressedPublicKey(key.public_key(secp)).wpubkey_hash())
}

/// Whether libbitcoinconsensus accepts input `index` of `tx` as spending `spent`.
fn spends(spent: &TxOut, tx: &Transaction, index: usize) -> Result<(), String> {
    let script = spent.script_pubkey.as_bytes();
    bitcoinconsensus::verify(script, spent.value.to_sat(), &serialize(tx), None, index)
        .map_err(|e| format!("{e:?}"))
}

/// A party: its funding key, the key of the output it funds the contract from, that output, and
/// its parameters.
struct Party {
    fund: SecretKey,
    input: SecretKey,
    funded_from: TxOut,
    params: PartyParams,
}

impl Party {
    fn new(secp: &Secp256k1<All>, collateral: u64, serial: u64) -> Self {
        let (fund, input) = (secret(), secret());
        let funded_from = TxOut {
            value: Amount::from_sat(collateral + 50_000),
            script_pubkey: p2wpkh(secp, &input),
        };
        let previous = Transaction {
            version: Version::TWO,
            lock_time: LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint::new(Txid::from_byte_array([serial as u8; 32]), 0),
                ..Default::default()
            }],
            output: vec![funded_from.clone()],
        };
        let params = PartyParams {
            fund_pubkey: fund.public_key(secp),
            change_script_pubkey: p2wpkh(secp, &secret()),
            change_serial_id: serial * 10 + 1,
            payout_script_pubkey: p2wpkh(secp, &secret()),
            payout_serial_id: serial * 10 + 2,
            inputs: vec![TxInputInfo {
                outpoint: OutPoint::new(previous.compute_txid(), 0),
                max_witness_len: dlc::P2WPKH_WITNESS_SIZE,
                redeem_script: ScriptBuf::new(),
                serial_id: serial * 10 + 3,
            }],
            input_amount: funded_from.value,
            collateral: Amount::from_sat(collateral),
        };
        Self {
            fund,
            input,
            funded_from,
            params,
        }
    }

    fn paid(&self, cet: &Transaction) -> u64 {
        let output = cet
            .output
            .iter()
            .find(|o| o.script_pubkey == self.params.payout_script_pubkey);
        output.map_or(0, |o| o.value.to_sat())
    }
}

/// SHA-256 of a digit's decimal string: what the oracle signs for it (rust-dlc's hashing).
fn digit_message(digit: usize) -> Message {
    Message::from_digest(sha256::Hash::hash(digit.to_string().as_bytes()).to_byte_array())
}

/// A signed contract: the offering party is paid everything below 20,000 USD, nothing above
/// 80,000, and linearly between (rounded to 1,000 sats); the accepting party the rest.
struct Contract {
    secp: Secp256k1<All>,
    offer: Party,
    accept: Party,
    txs: DlcTransactions,
    payouts: Vec<RangePayout>,
    info: ContractInfo,
    offer_info: AdaptorInfo,
    offer_sigs: Vec<EcdsaAdaptorSignature>,
    accept_sigs: Vec<EcdsaAdaptorSignature>,
}

impl Contract {
    /// Both parties build and sign the contract on `announcement`, each verifying the other's
    /// adaptor signatures against the announcement's key and nonces.
    fn new(announcement: &OracleAnnouncement) -> Self {
        let secp = Secp256k1::new();
        let point = |outcome, payout| PayoutPoint {
            event_outcome: outcome,
            outcome_payout: Amount::from_sat(payout),
            extra_precision: 0,
        };
        let piece = |from, to| {
            let curve = PolynomialPayoutCurvePiece::new(vec![from, to]).unwrap();
            PayoutFunctionPiece::PolynomialPayoutCurvePiece(curve)
        };
        let curve = PayoutFunction::new(vec![
            piece(point(0, TOTAL), point(20_000, TOTAL)),
            piece(point(20_000, TOTAL), point(80_000, 0)),
            piece(point(80_000, 0), point(MAX_OUTCOME, 0)),
        ])
        .unwrap();
        let digits = OracleNumericInfo {
            base: 2,
            nb_digits: vec![DIGITS],
        };
        let descriptor = NumericalDescriptor {
            payout_function: curve,
            rounding_intervals: RoundingIntervals {
                intervals: vec![RoundingInterval {
                    begin_interval: 0,
                    rounding_mod: 1000,
                }],
            },
            difference_params: None,
            oracle_numeric_infos: digits.clone(),
        };
        let info = ContractInfo {
            contract_descriptor: ContractDescriptor::Numerical(descriptor.clone()),
            oracle_announcements: vec![announcement.clone()],
            threshold: 1,
        };
        info.validate()
            .expect("the curve covers every outcome the digits express");
        let total = Amount::from_sat(TOTAL);
        let payouts = descriptor.get_range_payouts(total).unwrap();
        let amounts: Vec<Payout> = payouts.iter().map(|r| r.payout.clone()).collect();
        let (offer, accept) = (Party::new(&secp, 100_000, 1), Party::new(&secp, 100_000, 2));
        let refund = MATURITY + 7 * 86_400;
        let txs = dlc::create_dlc_transactions(
            &offer.params,
            &accept.params,
            &amounts,
            refund,
            2,
            0,
            MATURITY,
            0,
        )
        .unwrap();
        assert_eq!(txs.cets.len(), payouts.len());
        let (script, value) = (&txs.funding_script_pubkey, txs.get_fund_output().value);

        // The funding transaction, each party signing its input.
        let mut fund = txs.fund.clone();
        for party in [&offer, &accept] {
            let at = fund
                .input
                .iter()
                .position(|i| i.previous_output == party.params.inputs[0].outpoint)
                .unwrap();
            let signed = &mut fund;
            dlc::util::sign_p2wpkh_input(
                &secp,
                &party.input,
                signed,
                at,
                EcdsaSighashType::All,
                party.funded_from.value,
            )
            .unwrap();
            spends(&party.funded_from, &fund, at).expect("a funding input spends its output");
        }

        // The offering party signs through dlc-manager's contract info.
        let (offer_info, offer_sigs) = info
            .get_adaptor_info(&secp, total, &offer.fund, script, value, &txs.cets, 0)
            .unwrap();
        // The accepting party computes each digit's adaptor point from the announcement alone
        // (R + H(R‖P‖m)·P), verifies every offered adaptor signature with them, and signs.
        let points: Vec<Vec<Vec<PublicKey>>> = vec![
            announcement
                .oracle_event
                .oracle_nonces
                .iter()
                .map(|nonce| {
                    (0..2)
                        .map(|digit| {
                            let key = &announcement.oracle_public_key;
                            schnorrsig_compute_sig_point(&secp, key, nonce, &digit_message(digit))
                                .unwrap()
                        })
                        .collect()
                })
                .collect(),
        ];
        let mut trie = MultiOracleTrie::new(&digits, 1).unwrap();
        let verified = trie
            .generate_verify(
                &secp,
                &offer.params.fund_pubkey,
                script,
                value,
                &payouts,
                &txs.cets,
                &points,
                &offer_sigs,
                0,
            )
            .expect("every offered adaptor signature verifies against the oracle's key and nonces");
        assert_eq!(verified, offer_sigs.len());
        let accept_sigs = trie
            .sign(&secp, &accept.fund, script, value, &txs.cets, &points)
            .unwrap();
        let pubkey = &accept.params.fund_pubkey;
        info.verify_adaptor_info(
            &secp,
            pubkey,
            script,
            value,
            &txs.cets,
            &accept_sigs,
            0,
            &offer_info,
        )
        .expect("the offering party verifies the accepting party's adaptor signatures");
        Self {
            secp,
            offer,
            accept,
            txs,
            payouts,
            info,
            offer_info,
            offer_sigs,
            accept_sigs,
        }
    }

    /// The CET of the outcome whose digits are `digits`, and how many of the digits'
    /// signatures complete it.
    fn cet_of(&self, digits: &Vec<String>) -> (RangeInfo, usize) {
        let outcomes = [(0, digits)];
        let (prefixes, range) = self
            .info
            .get_range_info_for_outcome(&self.offer_info, &outcomes, 0)
            .expect("every outcome the digits express has a CET");
        (range, prefixes[0].1)
    }

    /// The CET `range` names, completed by `party` (the other's adaptor signature decrypted with
    /// the first `prefix` signatures of `attestation`), if libbitcoinconsensus accepts it.
    fn complete(
        &self,
        offering: bool,
        range: &RangeInfo,
        attestation: &OracleAttestation,
        prefix: usize,
    ) -> Result<Transaction, String> {
        let (me, other, sigs) = match offering {
            true => (&self.offer, &self.accept, &self.accept_sigs),
            false => (&self.accept, &self.offer, &self.offer_sigs),
        };
        let mut cet = self.txs.cets[range.cet_index].clone();
        let oracle_sigs = vec![attestation.signatures[..prefix].to_vec()];
        dlc::sign_cet(
            &self.secp,
            &mut cet,
            &sigs[range.adaptor_index],
            &oracle_sigs,
            &me.fund,
            &other.params.fund_pubkey,
            &self.txs.funding_script_pubkey,
            self.txs.get_fund_output().value,
        )
        .map_err(|e| format!("{e}"))?;
        spends(self.txs.get_fund_output(), &cet, 0)?;
        Ok(cet)
    }

    /// Closes the contract on `attestation`: both parties complete the outcome's CET alike, and
    /// libbitcoinconsensus accepts it as spending the funding output; returns what each party is
    /// paid. No other CET can be completed from this attestation: each is tried with the
    /// signatures of as many digits as fix its own range (from its first outcome), as fix the
    /// attested one's, and all of them.
    fn close(&self, attestation: &OracleAttestation) -> (u64, u64) {
        let (range, prefix) = self.cet_of(&attestation.outcomes);
        let cet = self.complete(true, &range, attestation, prefix).unwrap();
        let theirs = self.complete(false, &range, attestation, prefix).unwrap();
        assert_eq!(cet.compute_txid(), theirs.compute_txid());
        let funding = bitcoin::OutPoint::new(
            self.txs.fund.compute_txid(),
            self.txs.get_fund_output_index() as u32,
        );
        assert_eq!(cet.input[0].previous_output, funding);
        for (index, other) in self.payouts.iter().enumerate() {
            if index == range.cet_index {
                continue;
            }
            let (other_range, other_prefix) = self.cet_of(&binary_digits(other.start as u64));
            assert_eq!(other_range.cet_index, index);
            for prefix in [other_prefix, prefix, DIGITS] {
                for offering in [true, false] {
                    let completed = self.complete(offering, &other_range, attestation, prefix);
                    assert!(
                        completed.is_err(),
                        "CET {index} completed from another outcome's attestation"
                    );
                }
            }
        }
        let paid = (self.offer.paid(&cet), self.accept.paid(&cet));
        let expected = &self.payouts[range.cet_index].payout;
        assert_eq!(paid, (expected.offer.to_sat(), expected.accept.to_sat()));
        paid
    }
}

/// The 20 binary digits of `outcome`, most significant first, as the oracle signs them.
fn binary_digits(outcome: u64) -> Vec<String> {
    (0..DIGITS)
        .rev()
        .map(|i| ((outcome >> i) & 1).to_string())
        .collect()
}

/// Announces `event` (BTC/USD at `MATURITY`, base 2, 20 digits) through `oracle`.
/// A client of its own for the other party, to the same nodes.
trait Reconnect {
    fn reconnect(&self) -> CarolOracle;
}

impl Reconnect for CarolOracle {
    fn reconnect(&self) -> CarolOracle {
        let urls = self.nodes();
        let connect = match urls.len() {
            1 => CarolOracle::new(&urls[0], self.machine()),
            _ => CarolOracle::federation(&urls, self.machine()),
        };
        connect
            .expecting_key(self.public_key())
            .connect_blocking()
            .unwrap()
    }
}

/// Both parties announce it with the contract's terms (each with a client of its own), and get
/// the same announcement.
fn announce(oracles: [&CarolOracle; 2], event: &str) -> OracleAnnouncement {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let [offer, accept] = oracles.map(|oracle| {
        let announced = runtime.block_on(oracle.announce(event, &crate::dlc_wallet::terms(20)));
        announced.unwrap()
    });
    assert_eq!(offer, accept);
    offer
}

#[test]
fn a_dlc_closes_on_a_nodes_attestation_and_at_its_cap_beyond_the_digits() {
    let machine: MachineId = new_machine("contract", 50_123.0, None).parse().unwrap();
    let carol = CarolOracle::new(&oracle().node.url, machine)
        .connect_blocking()
        .unwrap();
    let other_party = carol.reconnect();
    let contract = Contract::new(&announce([&carol, &other_party], "contract-50123"));
    let attested = carol.get_attestation("contract-50123").unwrap();
    assert_eq!(attested.outcomes, binary_digits(50_123));
    // 200,000 − (50,123 − 20,000) · 200,000 / 60,000 = 99,590, rounded to 100,000.
    assert_eq!(contract.close(&attested), (100_000, 100_000));

    // A price beyond what 20 digits express is attested as the largest they do: the cap's CET
    // closes, paying the accepting party everything.
    let machine: MachineId = new_machine("contract-cap", 2_000_000.0, None)
        .parse()
        .unwrap();
    let carol = CarolOracle::new(&oracle().node.url, machine)
        .connect_blocking()
        .unwrap();
    let other_party = carol.reconnect();
    let contract = Contract::new(&announce([&carol, &other_party], "contract-cap"));
    let capped = carol.get_attestation("contract-cap").unwrap();
    assert_eq!(capped.outcomes, binary_digits(MAX_OUTCOME));
    assert_eq!(
        contract.cet_of(&capped.outcomes).0.cet_index,
        contract.txs.cets.len() - 1
    );
    assert_eq!(contract.close(&capped), (0, TOTAL));
}

/// The same contract on a 3-of-5 federation of `carol` processes, one oracle to the parties:
/// announced by every member's run, attested with two members down.
#[test]
fn a_dlc_closes_on_a_federations_attestation_with_two_members_down() {
    let root = crate::durability::scratch("dlc-contract-federation");
    let (_sites, _file, mut nodes) = form(
        &root,
        3,
        5,
        "allow_loopback = true\nactivation_timeout_ms = 60000",
    );
    set_price("contract-federated", 61_000.0);
    let params = json!({"api_base": format!("{}/contract-federated", mock())}).to_string();
    let machine: MachineId = nodes[0]
        .machine(&guest("dlc-oracle"), params.as_bytes())
        .parse()
        .unwrap();
    let urls: Vec<String> = nodes.iter().map(|node| node.url.clone()).collect();
    let binary = carol_core::ids::BinaryId::of(&guest("dlc-oracle"));
    let carol = CarolOracle::federation(&urls, machine)
        .expecting(binary, params.into_bytes())
        .connect_blocking()
        .unwrap();
    assert_eq!(carol.quorum(), 3);
    let other_party = carol.reconnect();
    let contract = Contract::new(&announce([&carol, &other_party], "contract-federated"));
    nodes.truncate(3);
    let attested = carol.get_attestation("contract-federated").unwrap();
    assert_eq!(attested.outcomes, binary_digits(61_000));
    // 200,000 − 41,000 · 200,000 / 60,000 = 63,333, rounded to 63,000.
    assert_eq!(contract.close(&attested), (63_000, 137_000));
}
