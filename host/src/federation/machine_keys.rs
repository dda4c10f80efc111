//! A machine's own BLS key on a federation member ([`carol_federation::machine_key`]): made on
//! its first use by a key generation of its own. Each member deals its contribution on request
//! (`GET /federation/machines/{id}/deal`, derived from its node key and the machine id, so the
//! same whenever asked); the members agree on the contributors once and for good
//! ([`super::agreement`]): at least the threshold of members whose contributions the proposer
//! could use. Each member keeps the decision and the contributors' bundles (all public) in its
//! record, so its share is made again after a restart without asking anyone; it holds the share
//! in memory only.

use super::agreement::AgreementError;
use super::carried::share_from_record;
use super::peers::Answer;
use super::{Member, Ready};
use carol_core::ids::MachineId;
use carol_federation::agreement::{Certificate, Contributor};
use carol_federation::dkg::Group;
use carol_federation::machine_key::{
    self, MachineDeal, MachineDealJson, MachineKeyError as KeyError,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How many of its contributions to machines' keys a member remembers.
const DEALS_REMEMBERED: usize = 4096;

/// How long a member waits before asking again for a decided contribution it lacks.
const GATHER_PAUSE: Duration = Duration::from_millis(100);

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
        // One machine's key at a time: this member never races itself to propose.
        let Ok(making) = tokio::time::timeout_at(deadline, self.making.lock()).await else {
            return Err(MachineKeyError::Agreement(AgreementError::TooFew {
                reached: 0,
                threshold: self.file.threshold,
            }));
        };
        if let Some(ready) = self.kept_machine_key(machine)? {
            return Ok(ready);
        }
        let me = self.index.ok_or(AgreementError::NoMember)?;
        let group = machine_key::group(&self.group, machine.as_bytes());
        let decree = machine_key::decree(machine.as_bytes());
        let mut bundles = self.deals(machine, &group).await;
        let usable =
            machine_key::usable(&group, me, &self.identity, &bundles).map_err(KeyError::from)?;
        if usable.len() < self.file.threshold {
            return Err(MachineKeyError::TooFewDealt {
                dealt: usable.len(),
                threshold: self.file.threshold,
            });
        }
        let Certificate { value, .. } = self.decide(&decree, &usable, deadline).await?;
        // Decided: what is left cannot race, and must not hold up other machines' keys.
        drop(making);
        bundles.retain(|b| value.contains(&b.contributor(&group)));
        self.gather(machine, &group, &value, &mut bundles, deadline)
            .await;
        let (share, public) = machine_key::share(&group, me, &self.identity, &value, &bundles)?;
        self.update_record(&decree, |record| {
            record.bundles = bundles.iter().map(MachineDealJson::from).collect();
        })?;
        tracing::info!(machine = %machine, contributors = ?value, public_key = %public.public_key(), "made the machine's own key with the other members");
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
        let record = self.record(&machine_key::decree(machine.as_bytes()))?;
        let made = share_from_record(&self.group, machine, me, &self.identity, &record)?;
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

    /// Member `dealer`'s contribution to machine `machine`'s key (`GET
    /// /federation/machines/{id}/deal?dealer=N`): this member's own, or one its record of the
    /// decision holds.
    pub fn machine_deal(&self, machine: &MachineId, dealer: u32) -> Option<MachineDealJson> {
        if Some(dealer) != self.index {
            let record = self.record(&machine_key::decree(machine.as_bytes())).ok()?;
            return record
                .bundles
                .into_iter()
                .find(|json| json.bundle.dealer == dealer);
        }
        // A key carried over a resharing is never made again.
        if self.is_carried(machine) {
            return None;
        }
        // Dealing costs a seal per member: deals made are remembered, a bounded number of them,
        // so that asking again (any client may) costs a lookup.
        if let Some(deal) = self.deals_made.lock().expect("member lock").get(machine) {
            return Some(deal.clone());
        }
        let group = machine_key::group(&self.group, machine.as_bytes());
        let deal =
            MachineDealJson::from(&machine_key::deal(&group, self.index?, &self.identity).ok()?);
        let mut made = self.deals_made.lock().expect("member lock");
        if made.len() >= DEALS_REMEMBERED {
            made.clear();
        }
        made.insert(*machine, deal.clone());
        Some(deal)
    }

    /// Every member's contribution to machine `machine`'s key, this member's own made here,
    /// the others' asked of them at once; those that do not come are left out.
    async fn deals(&self, machine: &MachineId, group: &Group) -> Vec<MachineDeal> {
        let mut bundles = Vec::new();
        if let Some(me) = self.index
            && let Ok(own) = machine_key::deal(group, me, &self.identity)
        {
            bundles.push(own);
        }
        let asked = self.others().map(|dealer| (dealer, dealer));
        bundles.extend(self.ask_deals(machine, group, asked.collect()).await);
        bundles.sort_by_key(|b| b.bundle.dealer);
        bundles
    }

    /// Adds to `bundles` the contributions `decided` names that it lacks, by `deadline`: a
    /// dealer may have shown this member another contribution than the one decided, so every
    /// other member is asked for it too, and only the one whose digest the decision names is
    /// taken.
    async fn gather(
        &self,
        machine: &MachineId,
        group: &Group,
        decided: &[Contributor],
        bundles: &mut Vec<MachineDeal>,
        deadline: Instant,
    ) {
        let held: Vec<Contributor> = bundles.iter().map(|b| b.contributor(group)).collect();
        let mut lacking: Vec<Contributor> = decided
            .iter()
            .filter(|c| !held.contains(c))
            .copied()
            .collect();
        while !lacking.is_empty() && Instant::now() + GATHER_PAUSE < deadline {
            let asked = lacking
                .iter()
                .flat_map(|c| self.others().map(move |peer| (peer, c.member)));
            let answers = self.ask_deals(machine, group, asked.collect());
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
                tokio::time::sleep(GATHER_PAUSE).await;
            }
        }
    }

    /// Asks each `(peer, dealer)` at once for `dealer`'s contribution to machine `machine`'s
    /// key (in `group`); those that do not come, name another dealer or do not prove their
    /// secret are left out.
    async fn ask_deals(
        &self,
        machine: &MachineId,
        group: &Group,
        asked: Vec<(u32, u32)>,
    ) -> Vec<MachineDeal> {
        let mut asking = tokio::task::JoinSet::new();
        for (peer, dealer) in asked {
            let path = format!("/federation/machines/{machine}/deal?dealer={dealer}");
            let peers = self.peers.clone();
            asking.spawn(async move { (dealer, peers.get::<MachineDealJson>(peer, &path).await) });
        }
        let mut bundles = Vec::new();
        while let Some(answer) = asking.join_next().await {
            if let Ok((dealer, Answer::Got(json))) = answer
                && let Ok(deal) = MachineDeal::try_from(&json)
                && deal.bundle.dealer == dealer
                && deal.proves(group)
            {
                bundles.push(deal);
            }
        }
        bundles
    }
}
