// SPDX-License-Identifier: GPL-2.0

//! A queue pair: a submission queue, its completion queue and their doorbells.

use crate::nvme::{reg, Command, Completion};
use core::sync::atomic::{fence, Ordering};
use kernel::{
    c_str,
    devres::Devres,
    dma::CoherentAllocation,
    irq, pci,
    prelude::*,
    static_lock_class,
    sync::{Arc, SpinLock},
};

/// The controller's registers, shared by the queues and the controller.
pub(crate) type Regs = Arc<Devres<pci::Bar<{ reg::SIZE }>>>;

/// The submission side: entries the driver writes and the device reads.
struct Sq {
    mem: CoherentAllocation<[u32; 16]>,
    tail: u32,
}

/// The completion side: entries the device writes and the driver reads, four dwords each.
struct Cq {
    mem: CoherentAllocation<u32>,
    head: u32,
    phase: bool,
}

/// A queue pair of `depth` entries each.
#[pin_data]
pub(crate) struct Queue {
    /// The queue identifier: 0 for the admin queue.
    pub(crate) qid: u16,
    /// The number of entries of each queue.
    pub(crate) depth: u32,
    regs: Regs,
    sq_doorbell: usize,
    cq_doorbell: usize,
    sq_dma: u64,
    cq_dma: u64,
    #[pin]
    sq: SpinLock<Sq>,
    #[pin]
    cq: SpinLock<Cq>,
}

impl Queue {
    /// Allocates queue pair `qid` of `depth` entries; the doorbells are 4 << `dstrd` bytes
    /// apart. Fails with `EINVAL` if its doorbells are beyond the mapped registers.
    pub(crate) fn new(
        pdev: &pci::Device<pci::Core>,
        regs: &Regs,
        qid: u16,
        depth: u32,
        dstrd: u32,
    ) -> Result<Arc<Self>> {
        let stride = 4usize << dstrd;
        let sq_doorbell = reg::DOORBELLS + 2 * usize::from(qid) * stride;
        let cq_doorbell = sq_doorbell + stride;
        if cq_doorbell + 4 > reg::SIZE || depth < 2 {
            return Err(EINVAL);
        }
        let sq = CoherentAllocation::<[u32; 16]>::alloc_coherent(pdev, depth as usize, GFP_KERNEL)?;
        let cq = CoherentAllocation::<u32>::alloc_coherent(pdev, 4 * depth as usize, GFP_KERNEL)?;
        let (sq_dma, cq_dma) = (sq.dma_handle(), cq.dma_handle());
        // The admin queue is processed in process context, the I/O queues in their interrupt
        // handlers: separate lock classes, so that lockdep tells them apart (every
        // `static_lock_class!()` is a class of its own, which clippy cannot see).
        #[allow(clippy::if_same_then_else)]
        let (sq_key, cq_key) = if qid == 0 {
            (static_lock_class!(), static_lock_class!())
        } else {
            (static_lock_class!(), static_lock_class!())
        };
        Arc::pin_init(
            pin_init!(Self {
                qid,
                depth,
                regs: regs.clone(),
                sq_doorbell,
                cq_doorbell,
                sq_dma,
                cq_dma,
                sq <- SpinLock::new(Sq { mem: sq, tail: 0 }, c_str!("rnvme:sq"), sq_key),
                cq <- SpinLock::new(
                    Cq {
                        mem: cq,
                        head: 0,
                        phase: true,
                    },
                    c_str!("rnvme:cq"),
                    cq_key
                ),
            }),
            GFP_KERNEL,
        )
    }

    /// The device address of the submission queue.
    pub(crate) fn sq_dma(&self) -> u64 {
        self.sq_dma
    }

    /// The device address of the completion queue.
    pub(crate) fn cq_dma(&self) -> u64 {
        self.cq_dma
    }

    /// Writes `cmd` into the next submission entry, calls `before_doorbell` (which gives up
    /// everything the completion may race with) and rings the doorbell.
    ///
    /// Fails with `ENODEV` once the device is unbound. The caller makes sure the queue cannot
    /// overflow (at most `depth - 1` commands outstanding).
    pub(crate) fn submit(&self, cmd: &Command, before_doorbell: impl FnOnce()) -> Result {
        let io = self.regs.try_access().ok_or(ENODEV)?;
        let mut sq = self.sq.lock();
        let tail = sq.tail;
        sq.mem.write(tail as usize, cmd.to_le())?;
        // (No `%`: the division's divide-by-zero panic path is one objtool in 6.12 does not
        // know as noreturn.)
        sq.tail = if tail + 1 >= self.depth { 0 } else { tail + 1 };
        before_doorbell();
        // `writel` orders the entry (coherent memory) before the doorbell.
        io.try_write32(sq.tail, self.sq_doorbell)
    }

    /// Forgets every entry, for a controller that was reset: the queues restart empty, and the
    /// completion entries are cleared so that none of the last lap looks new.
    pub(crate) fn reset(&self) {
        self.sq.lock().tail = 0;
        // The interrupt handler takes the completion lock: keep it out while we hold it.
        irq::with_local_irqs_disabled(|| {
            let mut cq = self.cq.lock();
            for i in 0..4 * self.depth as usize {
                let _ = cq.mem.write(i, 0);
            }
            cq.head = 0;
            cq.phase = true;
        });
    }

    /// Calls `f` with every new completion entry and then updates the completion doorbell.
    /// Returns the number of entries handled.
    pub(crate) fn process(&self, mut f: impl FnMut(Completion)) -> u32 {
        let mut cq = self.cq.lock();
        let mut n = 0;
        loop {
            let base = 4 * cq.head as usize;
            let Ok(dw3) = cq.mem.read(base + 3) else {
                break;
            };
            if (u32::from_le(dw3) >> 16) & 1 != u32::from(cq.phase) {
                break;
            }
            // Read the rest of the entry only after its phase bit says it is complete
            // (`dma_rmb()`).
            fence(Ordering::Acquire);
            let mut e = [0u32; 4];
            for (i, d) in e.iter_mut().enumerate() {
                *d = cq.mem.read(base + i).unwrap_or(0);
            }
            f(Completion::from_le(e));
            n += 1;
            cq.head += 1;
            if cq.head == self.depth {
                cq.head = 0;
                cq.phase = !cq.phase;
            }
        }
        if n > 0 {
            if let Some(io) = self.regs.try_access() {
                let _ = io.try_write32(cq.head, self.cq_doorbell);
            }
        }
        n
    }
}
