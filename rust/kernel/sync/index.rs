// SPDX-License-Identifier: GPL-2.0

//! Small numbers handed out one at a time, such as the instance numbers of devices.

use crate::prelude::*;
use core::sync::atomic::{AtomicU64, Ordering};

/// A set of the numbers 0 to 63, each handed out at most once at a time as an [`Index`], which
/// gives it back when dropped. Drivers keep one in a `static` for their device names
/// (`/dev/rust-edu0`, `rnvme1`, ...).
///
/// # Examples
///
/// ```
/// use kernel::sync::IndexSet;
///
/// static DEVICES: IndexSet = IndexSet::new();
///
/// let a = DEVICES.alloc()?;
/// let b = DEVICES.alloc()?;
/// assert_eq!((a.get(), b.get()), (0, 1));
/// drop(a);
/// // The lowest free number comes first.
/// assert_eq!(DEVICES.alloc()?.get(), 0);
/// # Ok::<(), Error>(())
/// ```
pub struct IndexSet(AtomicU64);

impl IndexSet {
    /// Creates a set with every number free.
    pub const fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    /// Hands out the lowest free number; fails with `ENOSPC` when all 64 are in use.
    pub fn alloc(&'static self) -> Result<Index> {
        let mut used = self.0.load(Ordering::Relaxed);
        loop {
            let free = (!used).trailing_zeros();
            if free >= u64::BITS {
                return Err(ENOSPC);
            }
            match self.0.compare_exchange(
                used,
                used | (1 << free),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(Index { set: self, n: free }),
                Err(now) => used = now,
            }
        }
    }
}

impl Default for IndexSet {
    fn default() -> Self {
        Self::new()
    }
}

/// A number of an [`IndexSet`], given back when dropped.
pub struct Index {
    set: &'static IndexSet,
    n: u32,
}

impl Index {
    /// Returns the number.
    pub fn get(&self) -> u32 {
        self.n
    }
}

impl Drop for Index {
    fn drop(&mut self) {
        self.set.0.fetch_and(!(1 << self.n), Ordering::AcqRel);
    }
}
