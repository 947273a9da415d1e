//! Applying a batch of changes on a replica — the one piece of replication whose
//! correctness everything rests on, so it is a plain function the puller and the seeded
//! simulation both drive. In one transaction: changes at or below the stored head are
//! skipped (a repeated delivery changes nothing), the first new one must be exactly head + 1
//! (a gap or a reordering applies nothing), an older epoch than the replica's is refused, as
//! is a record format newer than this build writes, and the new head commits with the data.

use janus_store::Store;
use janus_types::{Change, PoolId, Result, Seq};

/// What applying a batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The head moved to this `seq`.
    Advanced(Seq),
    /// Everything in the batch was already applied.
    Stale,
    /// The batch does not continue the stored log; nothing was applied.
    Gap {
        /// The stored head.
        have: Seq,
        /// The first new `seq` offered.
        next: Seq,
    },
}

/// Apply `changes` of `pool` to `store`. `check` runs inside the transaction first (the
/// puller uses it to make sure the region is still a replica of the pool).
pub fn apply_batch(
    store: &dyn Store,
    pool: &PoolId,
    changes: &[Change],
    now_ms: i64,
    check: impl FnOnce(&dyn janus_store::Read) -> Result<()>,
) -> Result<Applied> {
    let mut tx = store.write(now_ms)?;
    check(&*tx)?;
    let (head, epoch) = tx.log_head(pool)?;
    let fresh: Vec<&Change> = changes.iter().filter(|c| c.pool == *pool && c.seq > head).collect();
    let Some(first) = fresh.first() else { return Ok(Applied::Stale) };
    if first.seq.0 != head.0 + 1 {
        return Ok(Applied::Gap { have: head, next: first.seq });
    }
    let mut last = head;
    for c in fresh {
        if c.seq.0 != last.0 + 1 {
            break; // a hole inside the batch: apply the contiguous prefix only
        }
        if c.v > janus_types::CHANGE_FORMAT {
            return Err(janus_types::Error::internal(anyhow::anyhow!(
                "change {} is in record format {}, newer than this build's {}: upgrade this region",
                c.seq,
                c.v,
                janus_types::CHANGE_FORMAT
            )));
        }
        if c.epoch < epoch {
            return Err(janus_types::Error::internal(anyhow::anyhow!(
                "change {} carries epoch {}, older than this replica's {}: refused",
                c.seq,
                c.epoch.0,
                epoch.0
            )));
        }
        tx.apply(c)?;
        last = c.seq;
    }
    tx.commit()?;
    Ok(Applied::Advanced(last))
}
