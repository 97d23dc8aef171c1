//! The one small cache of the core (a leaf): grain tables in `vmdk`, guest blocks in `guest`.

use crate::error::Result;

/// A bounded least-recently-used cache: few entries (grain tables keyed by directory index,
/// guest blocks keyed by block number), so a linear search beats hashing, and the bound keeps
/// memory independent of the disk size.
pub struct Lru<K, V> {
    cap: usize,
    /// Most recently used last.
    items: Vec<(K, V)>,
}

impl<K: Copy + PartialEq, V: Clone> Lru<K, V> {
    /// A cache of at most `cap` entries (at least one).
    pub fn new(cap: usize) -> Self {
        Lru { cap: cap.max(1), items: Vec::new() }
    }

    /// Whether the next new entry pushes the least recently used one out.
    pub fn is_full(&self) -> bool {
        self.items.len() >= self.cap
    }

    /// The value for `key`, loading it with `load` on a miss (a failed load is not cached).
    pub fn get(&mut self, key: K, load: impl FnOnce() -> Result<V>) -> Result<V> {
        // From the most recent end: a walk hits the entry it used last.
        if let Some(i) = self.items.iter().rposition(|(k, _)| *k == key) {
            let hit = self.items.remove(i);
            let v = hit.1.clone();
            self.items.push(hit);
            return Ok(v);
        }
        let v = load()?;
        if self.items.len() >= self.cap {
            self.items.remove(0);
        }
        self.items.push((key, v.clone()));
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use std::cell::Cell;

    #[test]
    fn lru_keeps_the_most_recent_and_evicts_the_least() {
        let loads = Cell::new(0);
        let mut c: Lru<u64, u64> = Lru::new(2);
        let get = |c: &mut Lru<u64, u64>, k: u64| {
            c.get(k, || {
                loads.set(loads.get() + 1);
                Ok(k * 10)
            })
            .unwrap()
        };
        assert_eq!(get(&mut c, 1), 10);
        assert_eq!(get(&mut c, 2), 20);
        assert_eq!(get(&mut c, 1), 10); // hit: 1 becomes the most recent
        assert_eq!(loads.get(), 2);
        get(&mut c, 3); // evicts 2, the least recently used
        get(&mut c, 1);
        assert_eq!(loads.get(), 3);
        get(&mut c, 2);
        assert_eq!(loads.get(), 4);
        assert!(c.items.len() <= 2);
    }

    #[test]
    fn lru_does_not_cache_a_failed_load_and_has_room_for_one() {
        let mut c: Lru<u64, u8> = Lru::new(0);
        assert!(c.get(1, || Err(Error::invalid("no"))).is_err());
        assert!(c.items.is_empty());
        assert_eq!(c.get(1, || Ok(5)).unwrap(), 5);
        assert_eq!(c.get(1, || Err(Error::invalid("cached, not loaded"))).unwrap(), 5);
    }
}
