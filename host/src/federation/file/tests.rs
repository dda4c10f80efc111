//! Federation files written, read back and checked.

use super::*;
use carol_core::bls::SecretKey;
use carol_federation::curve::Curve;

fn file(threshold: usize, n: usize) -> FederationFile {
    FederationFile {
        name: "test \"quoted\"".into(),
        threshold,
        nonce: hex::encode([5; 32]),
        members: (0..n)
            .map(|i| FileMember {
                url: format!("http://127.0.0.1:{}", 8001 + i),
                node_key: SecretKey::generate().public_key(),
            })
            .collect(),
        previous: None,
    }
}

/// A 3-of-4 resharing of the key of `old`, with commitments made up for it.
fn resharing(old: &FederationFile) -> FederationFile {
    let mut new = file(3, 4);
    for (member, port) in new.members.iter_mut().zip(9001..) {
        member.url = format!("http://127.0.0.1:{port}");
    }
    new.members[0] = old.members[1].clone();
    new.previous = Some(PreviousFederation {
        session: hex::encode(old.session()),
        threshold: old.threshold,
        commitments: (0..old.threshold)
            .map(|_| SecretKey::generate().public_key())
            .collect(),
        secp256k1_commitments: (0..old.threshold)
            .map(|_| {
                let point = Secp256k1::base_mul(&Secp256k1::random_scalar());
                hex::encode(Secp256k1::point_to_bytes(&point))
            })
            .collect(),
        members: old.members.clone(),
        absent: Vec::new(),
        machines: Vec::new(),
    });
    new
}

#[test]
fn a_resharing_file_reads_back_names_its_previous_federation_and_is_checked() {
    let old = file(3, 5);
    let new = resharing(&old);
    assert_eq!(new.check(), Ok(()));
    let text = new.to_toml();
    assert!(text.contains("[previous]") && text.contains("[[previous.member]]"));
    let read: FederationFile = toml::from_str(&text).unwrap();
    assert_eq!(read, new);
    let group = read.group();
    let previous = group.previous.as_ref().unwrap();
    assert_eq!(previous.threshold, 3);
    assert_eq!(previous.members.len(), 5);
    assert_eq!(
        previous.public.public_key(),
        new.previous.as_ref().unwrap().commitments[0]
    );
    // The previous federation is part of what names the new one.
    let mut other = new.clone();
    other.previous.as_mut().unwrap().commitments.reverse();
    assert_ne!(other.session(), new.session());
    let mut fresh = new.clone();
    fresh.previous = None;
    assert_ne!(fresh.session(), new.session());
    // So is its secp256k1 key, which the resharing keeps; a file without one names the session
    // it always did, and makes the key afresh.
    let secp256k1 = read.secp256k1_group();
    let listed = new.previous.as_ref().unwrap().secp256k1_public();
    assert_eq!(secp256k1.previous.map(|p| p.public), listed);
    assert_ne!(secp256k1.session, new.session());
    let mut without = new.clone();
    without
        .previous
        .as_mut()
        .unwrap()
        .secp256k1_commitments
        .clear();
    assert_eq!(without.check(), Ok(()));
    assert_ne!(without.session(), new.session());
    assert!(without.secp256k1_group().previous.is_none());

    let broken = |change: fn(&mut PreviousFederation)| {
        let mut bad = new.clone();
        change(bad.previous.as_mut().unwrap());
        bad.check()
    };
    assert!(matches!(
        broken(|p| p.session = "00".into()),
        Err(Problem::BadPrevious(_))
    ));
    assert!(matches!(
        broken(|p| p.threshold = 2),
        Err(Problem::BadPrevious(_))
    ));
    assert!(matches!(
        broken(|p| {
            p.secp256k1_commitments.pop();
        }),
        Err(Problem::BadPrevious(_))
    ));
    assert!(matches!(
        broken(|p| p.secp256k1_commitments[0] = "ff".repeat(33)),
        Err(Problem::BadPrevious(_))
    ));
    assert!(matches!(
        broken(|p| {
            p.commitments.pop();
        }),
        Err(Problem::BadPrevious(_))
    ));
    assert!(matches!(
        broken(|p| p.members[4].node_key = p.members[0].node_key),
        Err(Problem::SameKey { .. })
    ));
    assert!(matches!(
        broken(|p| p.absent = vec![4, 2]),
        Err(Problem::BadPrevious(_))
    ));
    assert!(matches!(
        broken(|p| p.absent = vec![1, 2, 3]),
        Err(Problem::BadPrevious(_))
    ));
    // Machines' keys carried over are part of what names the new federation, and checked.
    let commitments = |n| (0..n).map(|_| SecretKey::generate().public_key()).collect();
    let carried = |id: u8, n| CarriedMachine {
        machine: carol_core::ids::MachineId::from_bytes([id; 32]),
        commitments: commitments(n),
    };
    let mut carrying = new.clone();
    carrying.previous.as_mut().unwrap().machines = vec![carried(1, 3), carried(2, 3)];
    assert_eq!(carrying.check(), Ok(()));
    let text = carrying.to_toml();
    assert!(text.contains("[[previous.machine]]"), "{text}");
    assert_eq!(toml::from_str::<FederationFile>(&text).unwrap(), carrying);
    assert_ne!(carrying.session(), new.session());
    let mut unordered = carrying.clone();
    unordered.previous.as_mut().unwrap().machines.reverse();
    assert!(matches!(unordered.check(), Err(Problem::BadPrevious(_))));
    let mut short = carrying.clone();
    short.previous.as_mut().unwrap().machines[1] = carried(2, 2);
    assert!(matches!(short.check(), Err(Problem::BadPrevious(_))));

    let mut absent = new.clone();
    absent.previous.as_mut().unwrap().absent = vec![5];
    assert_eq!(absent.check(), Ok(()));
    let read: FederationFile = toml::from_str(&absent.to_toml()).unwrap();
    assert_eq!(read, absent);
    assert_ne!(absent.session(), new.session());
}

#[test]
fn a_written_file_reads_back_and_names_the_same_session() {
    let federation = file(3, 5);
    let text = federation.to_toml();
    let read: FederationFile = toml::from_str(&text).unwrap();
    assert_eq!(read, federation);
    assert_eq!(read.session(), federation.session());
    let mut other = federation.clone();
    other.threshold = 4;
    assert_ne!(other.session(), federation.session());
    let mut again = federation.clone();
    again.nonce = hex::encode([6; 32]);
    assert_ne!(again.session(), federation.session());
    let mut slash = federation.clone();
    slash.members[0].url.push('/');
    assert_eq!(slash.session(), federation.session());
}

#[test]
fn only_workable_federations_pass() {
    assert_eq!(file(3, 5).check(), Ok(()));
    assert_eq!(file(1, 1).check(), Ok(()));
    assert_eq!(
        file(2, 4).check(),
        Err(Problem::NotAMajority {
            threshold: 2,
            members: 4
        })
    );
    assert!(
        file(2, 4)
            .check()
            .unwrap_err()
            .to_string()
            .contains("at least 3")
    );
    assert_eq!(
        file(6, 5).check(),
        Err(Problem::TooFewMembers {
            threshold: 6,
            members: 5
        })
    );
    let mut same_url = file(2, 3);
    same_url.members[2].url = "http://127.0.0.1:8001/".into();
    assert!(matches!(
        same_url.check(),
        Err(Problem::SameUrl {
            first: 1,
            second: 3,
            ..
        })
    ));
    let mut same_key = file(2, 3);
    same_key.members[1].node_key = same_key.members[0].node_key;
    assert!(matches!(
        same_key.check(),
        Err(Problem::SameKey {
            first: 1,
            second: 2,
            ..
        })
    ));
    let mut bad = file(2, 3);
    bad.nonce = "00".into();
    assert_eq!(bad.check(), Err(Problem::BadNonce));
    let mut bad = file(2, 3);
    bad.members[1].url = "ftp://x".into();
    assert!(matches!(bad.check(), Err(Problem::BadUrl { index: 2, .. })));
}
