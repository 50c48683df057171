//! Hosts to rings: a stable hash of the host id picks one of 10,000
//! buckets; ring `i` holds the buckets below its cumulative share. A host
//! stays in its ring release after release (canary hosts are always the
//! same hosts, and their operators know it), and no coordination or host
//! list is needed to know who is in which ring.

use super::channel::Channel;
use sha2::{Digest, Sha256};

/// Number of buckets (basis points of the fleet).
pub const BUCKETS: u32 = 10_000;

/// The host's bucket, `0..BUCKETS`.
pub fn bucket(host_id: &str) -> u32 {
    let h = Sha256::new().chain_update(b"vigil ring\0").chain_update(host_id.as_bytes()).finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&h[..8]);
    (u64::from_le_bytes(first) % u64::from(BUCKETS)) as u32
}

/// Index of the first ring of `channel` that includes `host_id`.
pub fn ring_of(channel: &Channel, host_id: &str) -> usize {
    let b = bucket(host_id);
    (0..channel.rings.len()).find(|&i| b < channel.reach_bp(i)).unwrap_or(channel.rings.len().saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_proportional() {
        let c = Channel::standard();
        assert_eq!(bucket("WS-0001"), bucket("WS-0001"));
        let mut per_ring = [0u32; 3];
        for i in 0..10_000 {
            per_ring[ring_of(&c, &format!("host-{i:05}"))] += 1;
        }
        assert!((70..=130).contains(&per_ring[0]), "canary {per_ring:?}");
        assert!((800..=1_000).contains(&per_ring[1]), "early {per_ring:?}");
        assert_eq!(per_ring.iter().sum::<u32>(), 10_000);
    }
}
