//! Secrets the members make together on first use, each by a key generation of its own
//! ([`carol_federation::machine_key`]): a machine's own BLS key, and a machine's committed
//! nonces (secp256k1, [`super::nonces`]). Each member deals its contribution on request (`GET
//! /federation/machines/{id}/deal`, or `.../nonce-deal?name=HEX`, derived from its node key and
//! the secret's group, so the same whenever asked) and pledges it (`.../pledge`, `.../nonce-pledge`:
//! its digest, endorsed by the member's node key for the secret's decree); the members agree on
//! the contributors once and for good ([`super::agreement`]): at least the threshold of members
//! whose contributions the proposer could use, each with its pledge, which every acceptor checks.
//! Each member keeps the decision and the contributors' bundles (all public)
//! in its record, so its share is made again after a restart without asking anyone; it holds the
//! share in memory only.

use super::agreement::{AgreementError, Endorsed, Record};
use super::peers::Answer;
use super::{Member, Ready};
use carol_core::ids::MachineId;
use carol_federation::agreement::{Certificate, Contributor};
use carol_federation::curve::Curve;
use carol_federation::dkg::Group;
use carol_federation::identity::Identity;
use carol_federation::machine_key::{
    self, MachineDeal, MachineDealJson, MachineKeyError as KeyError,
};
use carol_federation::poly::PublicPoly;
use carol_federation::threshold::Share;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How many of its contributions to machines' keys and nonces a member remembers.
const DEALS_REMEMBERED: usize = 4096;

/// How long a member lets each member before it propose a secret's contributors first.
const HEAD_START: Duration = Duration::from_millis(100);

/// How long a member first waits before asking again for a decided contribution it lacks (its
/// dealer may not have heard of the decision yet); each wait is twice the last, up to
/// [`GATHER_PAUSE_MAX`].
const GATHER_PAUSE: Duration = Duration::from_millis(10);
const GATHER_PAUSE_MAX: Duration = Duration::from_millis(200);

/// Why a machine has no key of its own on this member.
#[derive(Debug, thiserror::Error)]
pub enum MachineKeyError {
    /// The members could not agree in time.
    #[error("the members could not agree on who makes the machine's own key: {0}")]
    Agreement(#[from] AgreementError),
    /// Fewer members dealt a usable contribution than the threshold.
    #[error(
        "only {dealt} members' contributions to the machine's own key reached this member in \
         time, fewer than the threshold {threshold}: members are down or unreachable; try again \
         when more are up"
    )]
    TooFewDealt {
        /// How many did.
        dealt: usize,
        /// The threshold.
        threshold: usize,
    },
    /// The contributions agreed on give this member no share.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// A member's share of a secret the members made, and the secret's commitments.
pub(super) type Secret<C> = (Share<C>, PublicPoly<C>);

/// A secret the members make together: its decree, its group, and where members serve their
/// contributions to it.
pub(super) struct Making<C: Curve> {
    /// What names the decision on its contributors.
    pub decree: Vec<u8>,
    /// Its key generation's group.
    pub group: Group<C>,
    /// Where a member serves a dealer's contribution, but for `dealer=N` (a path ending in `?`
    /// or `&`).
    pub deal_path: String,
    /// Where a member serves its pledge ([`machine_key::PledgeJson`]).
    pub pledge_path: String,
    /// Whether contributions are revealed only once the members decided on the pledges (for a
    /// nonce), so that no member chooses its own contribution after seeing the others'.
    pub pledged_first: bool,
}

impl Making<carol_federation::curve::Bls> {
    /// Machine `machine`'s own BLS key, in the federation whose group is `federation`.
    pub fn machine_key(federation: &Group, machine: &MachineId) -> Self {
        Self {
            decree: machine_key::decree(machine.as_bytes()),
            group: machine_key::group(federation, machine.as_bytes()),
            deal_path: format!("/federation/machines/{machine}/deal?"),
            pledge_path: format!("/federation/machines/{machine}/pledge"),
            pledged_first: false,
        }
    }
}

/// Member `me`'s share of the secret `group` makes from `record` of its agreement, and the
/// secret's commitments: `None` before it is decided or while the contributors' bundles are
/// missing.
pub(super) fn share_from_record<C: Curve>(
    group: &Group<C>,
    me: u32,
    identity: &Identity,
    record: &Record,
) -> Result<Option<Secret<C>>, KeyError> {
    let Some(certificate) = record.certificate.as_ref() else {
        return Ok(None);
    };
    let bundles: Vec<MachineDeal<C>> = record
        .bundles
        .iter()
        .filter_map(|json| MachineDeal::try_from(json).ok())
        .collect();
    if bundles.is_empty() {
        return Ok(None);
    }
    machine_key::share(group, me, identity, &certificate.value, &bundles).map(Some)
}

impl Member {
    /// This member's share of machine `machine`'s own BLS key, made with the other members on
    /// its first use, by `deadline`.
    pub async fn machine_key(
        &self,
        machine: &MachineId,
        deadline: Instant,
    ) -> Result<Arc<Ready>, MachineKeyError> {
        if let Some(ready) = self.kept_machine_key(machine)? {
            return Ok(ready);
        }
        if self.is_carried(machine) {
            return Err(AgreementError::Carried(*machine).into());
        }
        let making = Making::machine_key(&self.group, machine);
        let (share, public) = self.make(&making, deadline).await?;
        tracing::info!(machine = %machine, public_key = %public.public_key(), "made the machine's own key with the other members");
        Ok(self.remember(machine, Ready::new(share, public)))
    }

    /// Machine `machine`'s key as this member holds it, or makes again from its record without
    /// asking anyone; `None` before the members made it (or while this member lacks the
    /// contributors' bundles).
    pub fn kept_machine_key(
        &self,
        machine: &MachineId,
    ) -> Result<Option<Arc<Ready>>, MachineKeyError> {
        if let Some(ready) = self.machine_keys.lock().expect("member lock").get(machine) {
            return Ok(Some(ready.clone()));
        }
        let Some(me) = self.index else {
            return Ok(None);
        };
        let making = Making::machine_key(&self.group, machine);
        let record = self.record(&making.decree)?;
        let made = share_from_record(&making.group, me, &self.identity, &record)?;
        Ok(made.map(|(share, public)| self.remember(machine, Ready::new(share, public))))
    }

    fn remember(&self, machine: &MachineId, ready: Ready) -> Arc<Ready> {
        let ready = Arc::new(ready);
        self.machine_keys
            .lock()
            .expect("member lock")
            .insert(*machine, ready.clone());
        ready
    }

    /// This member's share of the secret `making` names, made with the other members unless
    /// its record holds it already, by `deadline`.
    pub(super) async fn make<C: Curve>(
        &self,
        making: &Making<C>,
        deadline: Instant,
    ) -> Result<Secret<C>, MachineKeyError> {
        let me = self.index.ok_or(AgreementError::NoMember)?;
        let group = &making.group;
        // One secret at a time: this member never races itself to propose.
        let Ok(lock) = tokio::time::timeout_at(deadline, self.making.lock()).await else {
            return Err(MachineKeyError::Agreement(AgreementError::TooFew {
                reached: 0,
                threshold: self.file.threshold,
            }));
        };
        let record = self.record(&making.decree)?;
        if let Some(made) = share_from_record(group, me, &self.identity, &record)? {
            return Ok(made);
        }
        // Decided already (this member restarted before it held the contributions): only the
        // contributions are left to gather, from whoever is up.
        let decided = record
            .certificate
            .as_ref()
            .and_then(|json| Certificate::try_from(json).ok());
        let (mut bundles, usable) = match making.pledged_first {
            _ if decided.is_some() => {
                let own = self.own_contribution(making, me)?;
                (vec![own], Endorsed::default())
            }
            true => {
                let own = self.own_contribution(making, me)?;
                (vec![own], self.pledges(making).await)
            }
            false => {
                let (bundles, pledges) = tokio::join!(self.deals(making), self.pledges(making));
                let usable = machine_key::usable(group, me, &self.identity, &bundles)
                    .map_err(KeyError::from)?;
                let parts = pledges.value.into_iter().zip(pledges.endorsements);
                let usable = parts.filter(|(c, _)| usable.contains(c)).collect();
                (bundles, Endorsed::new(usable))
            }
        };
        if decided.is_none() && usable.value.len() < self.file.threshold {
            return Err(MachineKeyError::TooFewDealt {
                dealt: usable.value.len(),
                threshold: self.file.threshold,
            });
        }
        let Certificate { value, .. } = match decided {
            Some(decided) => decided,
            None => match self.head_start(making, &usable.value, deadline).await {
                Some(decided) => decided,
                None => self.decide(&making.decree, &usable, deadline).await?,
            },
        };
        // Decided: what is left cannot race, and must not hold up other secrets.
        drop(lock);
        bundles.retain(|b| value.contains(&b.contributor(group)));
        self.gather(making, &value, &mut bundles, deadline).await;
        let made = machine_key::share(group, me, &self.identity, &value, &bundles)?;
        self.update_record(&making.decree, |record| {
            record.bundles = bundles.iter().map(MachineDealJson::from).collect();
        })?;
        let contributors: Vec<u32> = value.iter().map(|c| c.member).collect();
        tracing::info!(?contributors, "made a secret with the other members");
        Ok(made)
    }

    /// Every member's run asks for a secret at about the same time, and proposers that race
    /// preempt each other: the first of the `usable` contributors proposes at once, and each
    /// other gives those before it [`HEAD_START`] each, taking the decision they make if it
    /// reaches this member's record in that time.
    async fn head_start<C: Curve>(
        &self,
        making: &Making<C>,
        usable: &[Contributor],
        deadline: Instant,
    ) -> Option<Certificate> {
        let me = self.index?;
        let before = usable.iter().position(|c| c.member == me)?;
        let until = (Instant::now() + HEAD_START * before as u32).min(deadline);
        while Instant::now() < until {
            if let Some(certificate) = self.decided(&making.decree) {
                return Certificate::try_from(&certificate).ok();
            }
            tokio::time::sleep(HEAD_START / 10).await;
        }
        None
    }

    /// Member `dealer`'s contribution to the secret `making` names: this member's own, or one
    /// its record of the decision holds.
    pub(super) fn deal_of<C: Curve>(
        &self,
        making: &Making<C>,
        dealer: u32,
    ) -> Option<MachineDealJson> {
        if Some(dealer) != self.index {
            let record = self.record(&making.decree).ok()?;
            return record
                .bundles
                .into_iter()
                .find(|json| json.bundle.dealer == dealer);
        }
        let (deal, pledge) = self.own_deal(making)?;
        // A contribution pledged first is revealed once a decision names it, not before.
        if making.pledged_first {
            let (named, _) = self.pledged(making, &pledge)?;
            return self
                .decided(&making.decree)?
                .value
                .contains(&named)
                .then_some(deal);
        }
        Some(deal)
    }

    /// This member's contribution to the secret `making` names, and its pledge to it, if it is
    /// a member.
    fn own_deal<C: Curve>(
        &self,
        making: &Making<C>,
    ) -> Option<(MachineDealJson, machine_key::PledgeJson)> {
        self.dealt(making, self.index?).ok()
    }

    /// This member's (`me`) contribution to the secret `making` names, as it serves it: dealt
    /// once, like its pledge.
    fn own_contribution<C: Curve>(
        &self,
        making: &Making<C>,
        me: u32,
    ) -> Result<MachineDeal<C>, KeyError> {
        let (json, _) = self.dealt(making, me)?;
        MachineDeal::try_from(&json).map_err(|_| KeyError::BadContribution(me))
    }

    /// Member `me`'s (this one's) contribution to the secret `making` names, and its pledge to
    /// it. Dealing costs a seal per member: deals made are remembered, a bounded number of them,
    /// so that making the secret, and asking again (any client may), cost a lookup.
    fn dealt<C: Curve>(
        &self,
        making: &Making<C>,
        me: u32,
    ) -> Result<(MachineDealJson, machine_key::PledgeJson), KeyError> {
        if let Some(made) = self
            .deals_made
            .lock()
            .expect("member lock")
            .get(&making.decree)
        {
            return Ok(made.clone());
        }
        let deal = machine_key::deal(&making.group, me, &self.identity)?;
        let pledge = deal.pledge(
            &making.group,
            self.session(),
            &making.decree,
            &self.identity,
        );
        let made = (MachineDealJson::from(&deal), pledge);
        let mut deals = self.deals_made.lock().expect("member lock");
        if deals.len() >= DEALS_REMEMBERED {
            deals.clear();
        }
        deals.insert(making.decree.clone(), made.clone());
        Ok(made)
    }

    /// Member `dealer`'s contribution to machine `machine`'s key (`GET
    /// /federation/machines/{id}/deal?dealer=N`); none of this member's own for a key carried
    /// over a resharing, which is never made again.
    pub fn machine_deal(&self, machine: &MachineId, dealer: u32) -> Option<MachineDealJson> {
        if Some(dealer) == self.index && self.is_carried(machine) {
            return None;
        }
        self.deal_of(&Making::machine_key(&self.group, machine), dealer)
    }

    /// This member's pledge to its contribution to machine `machine`'s BLS key, or its secp256k1
    /// key (`GET /federation/machines/{id}/pledge[?key=secp256k1]`); none for a key carried over
    /// a resharing, which is never made again.
    pub fn machine_pledge(
        &self,
        machine: &MachineId,
        secp256k1: bool,
    ) -> Option<machine_key::PledgeJson> {
        match secp256k1 {
            true => self.pledge_of(&Making::secp256k1_key(&self.group, machine)),
            false if self.is_carried(machine) => None,
            false => self.pledge_of(&Making::machine_key(&self.group, machine)),
        }
    }

    /// Every member's contribution to the secret `making` names, this member's own made here,
    /// the others' asked of them at once; those that do not come are left out.
    async fn deals<C: Curve>(&self, making: &Making<C>) -> Vec<MachineDeal<C>> {
        let mut bundles = Vec::new();
        if let Some(me) = self.index
            && let Ok(own) = self.own_contribution(making, me)
        {
            bundles.push(own);
        }
        let asked = self.others().map(|dealer| (dealer, dealer));
        bundles.extend(self.ask_deals(making, asked.collect()).await);
        bundles.sort_by_key(|b| b.bundle.dealer);
        bundles
    }

    /// Adds to `bundles` the contributions `decided` names that it lacks, by `deadline`: a
    /// dealer may have shown this member another contribution than the one decided, so every
    /// other member is asked for it too, and only the one whose digest the decision names is
    /// taken.
    async fn gather<C: Curve>(
        &self,
        making: &Making<C>,
        decided: &[Contributor],
        bundles: &mut Vec<MachineDeal<C>>,
        deadline: Instant,
    ) {
        let group = &making.group;
        let held: Vec<Contributor> = bundles.iter().map(|b| b.contributor(group)).collect();
        let mut lacking: Vec<Contributor> = decided
            .iter()
            .filter(|c| !held.contains(c))
            .copied()
            .collect();
        let mut pause = GATHER_PAUSE;
        while !lacking.is_empty() && Instant::now() + pause < deadline {
            let asked = lacking
                .iter()
                .flat_map(|c| self.others().map(move |peer| (peer, c.member)));
            let answers = self.ask_deals(making, asked.collect());
            for deal in tokio::time::timeout_at(deadline, answers)
                .await
                .unwrap_or_default()
            {
                // Each contribution's digest is made once; a second copy finds it taken.
                let named = deal.contributor(group);
                if let Some(at) = lacking.iter().position(|c| *c == named) {
                    lacking.swap_remove(at);
                    bundles.push(deal);
                }
            }
            if !lacking.is_empty() {
                // The members that hold it may still be gathering it themselves.
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(GATHER_PAUSE_MAX);
            }
        }
    }

    /// This member's pledge to its contribution to the secret `making` names (`GET
    /// .../pledge`, `.../nonce-pledge`): the same whenever asked.
    pub(super) fn pledge_of<C: Curve>(
        &self,
        making: &Making<C>,
    ) -> Option<machine_key::PledgeJson> {
        self.own_deal(making).map(|(_, pledge)| pledge)
    }

    /// The contributor `pledge` names and its endorsement, if its dealer endorsed it for
    /// `making`'s decree.
    fn pledged<C: Curve>(
        &self,
        making: &Making<C>,
        pledge: &machine_key::PledgeJson,
    ) -> Option<(Contributor, String)> {
        let (named, signature) =
            machine_key::pledged(&making.group, self.session(), &making.decree, pledge)?;
        Some((named, hex::encode(signature)))
    }

    /// Every member's pledge to its contribution to the secret `making` names, this member's
    /// own made here, the others' asked at once; those that do not come, or are not endorsed by
    /// their member, are left out.
    async fn pledges<C: Curve>(&self, making: &Making<C>) -> Endorsed {
        let mut pledged: Vec<(Contributor, String)> = self
            .own_deal(making)
            .and_then(|(_, own)| self.pledged(making, &own))
            .into_iter()
            .collect();
        let mut asking = tokio::task::JoinSet::new();
        for peer in self.others() {
            let (peers, path) = (self.peers.clone(), making.pledge_path.clone());
            asking.spawn(async move {
                (
                    peer,
                    peers.get::<machine_key::PledgeJson>(peer, &path).await,
                )
            });
        }
        while let Some(answer) = asking.join_next().await {
            if let Ok((peer, Answer::Got(json))) = answer
                && json.dealer == peer
                && let Some(part) = self.pledged(making, &json)
            {
                pledged.push(part);
            }
        }
        Endorsed::new(pledged)
    }

    /// Asks each `(peer, dealer)` at once for `dealer`'s contribution to the secret `making`
    /// names; those that do not come, name another dealer or do not prove their secret are left
    /// out.
    async fn ask_deals<C: Curve>(
        &self,
        making: &Making<C>,
        asked: Vec<(u32, u32)>,
    ) -> Vec<MachineDeal<C>> {
        let mut asking = tokio::task::JoinSet::new();
        for (peer, dealer) in asked {
            let path = format!("{}dealer={dealer}", making.deal_path);
            let peers = self.peers.clone();
            asking.spawn(async move { (dealer, peers.get::<MachineDealJson>(peer, &path).await) });
        }
        let mut bundles = Vec::new();
        while let Some(answer) = asking.join_next().await {
            if let Ok((dealer, Answer::Got(json))) = answer
                && let Ok(deal) = MachineDeal::try_from(&json)
                && deal.bundle.dealer == dealer
                && deal.proves(&making.group)
            {
                bundles.push(deal);
            }
        }
        bundles
    }
}
