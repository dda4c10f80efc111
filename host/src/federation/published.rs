//! The messages a member made in the key generation, which it serves to the others.

use carol_federation::wire::{ConfirmationJson, DealJson, JustificationJson, ResponseJson};

/// The messages a member made in the key generation, as it serves them.
#[derive(Debug, Clone, Default)]
pub struct Published {
    /// Its deal bundle.
    pub deal: Option<DealJson>,
    /// Its response bundle.
    pub response: Option<ResponseJson>,
    /// Its justification bundle once it knows whether it needs one (`Some(None)`: none needed).
    pub justification: Option<Option<JustificationJson>>,
    /// Its confirmation of the key it made.
    pub confirmation: Option<ConfirmationJson>,
}
