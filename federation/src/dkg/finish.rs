//! The finish phase (drand: "Finish phase"): which dealers qualify, and what this member ends
//! with: in a fresh key generation the sum of the qualified dealers' contributions, in a
//! resharing their Lagrange combination, which is a share of the previous key.

use super::{Dkg, DkgError, Output};
use crate::curve::Curve;
use crate::poly::{PublicPoly, lagrange_at_zero};
use crate::threshold::Share;

impl<C: Curve> Dkg<C> {
    /// The share `dealer` justified for `holder`, if it did and it matches its commitments.
    fn justified(
        &self,
        dealer: u32,
        holder: u32,
        commitments: &PublicPoly<C>,
    ) -> Option<C::Scalar> {
        let bundle = self.justifications.get(&dealer)?;
        let found = bundle.justifications.iter().find(|j| j.holder == holder)?;
        commitments
            .verifies(holder, &found.share)
            .then_some(found.share)
    }

    /// Whether `dealer` qualifies (drand: "Finish phase"), and this member's share from it
    /// (`Some(None)` for a qualified dealer when this node holds no share).
    fn qualify(&self, dealer: u32) -> Option<Option<C::Scalar>> {
        let dealt = self.deals.get(&dealer)?;
        let commitments = dealt.commitments.as_ref()?;
        let complaints = self.complaints(dealer);
        // Revealing `t` shares would reveal the dealer's secret (drand's rule).
        if complaints.len() >= self.group.threshold {
            return None;
        }
        for &holder in &complaints {
            self.justified(dealer, holder, commitments)?;
        }
        match self.holder {
            None => Some(None),
            Some(me) if complaints.contains(&me) => {
                Some(Some(self.justified(dealer, me, commitments)?))
            }
            Some(_) => Some(Some(dealt.share?)),
        }
    }

    /// Ends the key generation: the qualified dealers, this member's share and the federation
    /// key's commitments. Every member that took in the same bundles gets the same commitments.
    /// In a resharing, the key is the previous federation's.
    pub fn finish(self) -> Result<Output<C>, DkgError> {
        let me = self.holder.ok_or(DkgError::NotAHolder)?;
        self.missing_deals()?;
        self.missing_responses()?;
        let contributions: Vec<(u32, C::Scalar)> = self
            .group
            .dealer_indices()
            .filter_map(|dealer| {
                let share = self.qualify(dealer)?.expect("a holder has its shares");
                Some((dealer, share))
            })
            .collect();
        let needed = match &self.group.previous {
            Some(previous) => previous.threshold,
            None => self.group.threshold,
        };
        if contributions.len() < needed {
            return Err(DkgError::TooFewQualified {
                qualified: contributions.len(),
                threshold: needed,
            });
        }
        let qualified: Vec<u32> = contributions.iter().map(|(dealer, _)| *dealer).collect();
        // A fresh key is the sum of the dealers' secrets; a reshared one the interpolation at
        // 0 of the dealers' old shares, which their secrets are.
        let weights = match &self.group.previous {
            Some(_) => {
                lagrange_at_zero::<C>(&qualified).expect("dealer indices are distinct, from 1")
            }
            None => vec![C::one(); qualified.len()],
        };
        let public = PublicPoly::weighted_sum(qualified.iter().zip(&weights).map(|(d, w)| {
            let commitments = self.deals[d].commitments.as_ref();
            (
                *w,
                commitments.expect("qualified dealers' commitments are whole"),
            )
        }))
        .expect("qualified commitments have the threshold's length");
        let secret = contributions
            .iter()
            .zip(&weights)
            .fold(C::zero(), |sum, ((_, share), w)| sum + *share * *w);
        let same_key = self
            .group
            .previous
            .as_ref()
            .is_none_or(|previous| previous.public.commitments()[0] == public.commitments()[0]);
        if !same_key || !public.verifies(me, &secret) {
            return Err(DkgError::Inconsistent);
        }
        Ok(Output {
            share: Share::new(me, secret),
            public,
            qualified,
        })
    }
}
