//! How many activations run at once, and how many may wait: past both, the node says it is
//! busy instead of queueing without bound.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Bounds on concurrent activations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcurrencyLimits {
    /// Activations running at once.
    pub running: usize,
    /// Activations waiting for a turn; more are refused at once.
    pub waiting: usize,
    /// How long one may wait before it is refused.
    pub wait: Duration,
}

impl Default for ConcurrencyLimits {
    fn default() -> Self {
        Self {
            running: 64,
            waiting: 256,
            wait: Duration::from_secs(2),
        }
    }
}

/// The turnstile in front of the runtime.
pub struct Admission {
    running: Semaphore,
    waiting: AtomicUsize,
    limits: ConcurrencyLimits,
}

/// An activation was refused a turn.
#[derive(Debug, thiserror::Error)]
#[error(
    "the node is busy: {running} activations are running and {waiting} waiting, its limits; retry shortly"
)]
pub struct Busy {
    /// The running limit.
    pub running: usize,
    /// The waiting limit.
    pub waiting: usize,
}

/// Leaves the queue when dropped, also when a waiting request is abandoned: a count of waiters,
/// one of them.
pub(crate) struct InQueue<'a>(pub(crate) &'a AtomicUsize);

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Admission {
    /// A turnstile with these limits.
    pub fn new(limits: ConcurrencyLimits) -> Self {
        Self {
            running: Semaphore::new(limits.running),
            waiting: AtomicUsize::new(0),
            limits,
        }
    }

    /// Waits for a turn; the permit is the turn, held until dropped.
    pub async fn enter(&self) -> Result<SemaphorePermit<'_>, Busy> {
        if let Ok(permit) = self.running.try_acquire() {
            return Ok(permit);
        }
        let busy = || Busy {
            running: self.limits.running,
            waiting: self.limits.waiting,
        };
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.limits.waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(busy());
        }
        let _queued = InQueue(&self.waiting);
        match tokio::time::timeout(self.limits.wait, self.running.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(busy()),
        }
    }

    /// Activations running and waiting now.
    pub fn load(&self) -> (usize, usize) {
        (
            self.limits.running - self.running.available_permits(),
            self.waiting.load(Ordering::Acquire),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_past_running_and_waiting_limits_and_admits_again_after() {
        let admission = Admission::new(ConcurrencyLimits {
            running: 1,
            waiting: 1,
            wait: Duration::from_millis(50),
        });
        let first = admission.enter().await.unwrap();
        assert_eq!(admission.load(), (1, 0));
        // The queue's one place is taken by a waiter; a third is refused at once.
        let (waited, refused) = tokio::join!(admission.enter(), async {
            tokio::task::yield_now().await;
            admission.enter().await
        });
        assert!(waited.is_err(), "waited past its time");
        assert!(refused.is_err(), "no room in the queue");
        assert_eq!(admission.load(), (1, 0), "nobody is left waiting");
        drop(first);
        assert!(admission.enter().await.is_ok());
    }
}
