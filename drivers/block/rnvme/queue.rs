// SPDX-License-Identifier: GPL-2.0

//! A queue pair: a submission queue, its completion queue and their doorbells.

use crate::nvme::{reg, Command, Completion, PAGE};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::{
    c_str,
    devres::Devres,
    dma::{self, CoherentAllocation},
    irq, new_spinlock, pci,
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

/// The shadow doorbells and event indexes of a controller's I/O queues (Doorbell Buffer Config,
/// which emulated controllers such as QEMU's offer): the driver writes each new submission
/// tail and completion head into memory, and rings the MMIO doorbell, a trap to the hypervisor,
/// only when the controller's event index says that it waits for one. One page each, for the
/// queues whose doorbells fit in it; entries are at the doorbells' register offsets.
#[pin_data]
pub(crate) struct Shadow {
    #[pin]
    bufs: SpinLock<ShadowBufs>,
    /// Whether the controller uses the buffers: the config command succeeded since the last
    /// enable. Until then the doorbells are rung every time, and the shadows kept up to date.
    on: AtomicBool,
    dbs_dma: u64,
    eis_dma: u64,
    /// The first entry of the I/O queues (those of the admin queue come first).
    first_io: usize,
}

/// The two pages of a [`Shadow`].
struct ShadowBufs {
    /// What the driver writes: the shadow doorbells.
    dbs: CoherentAllocation<u32>,
    /// What the controller writes: the event indexes.
    eis: CoherentAllocation<u32>,
}

impl Shadow {
    /// Entries of each page.
    const ENTRIES: usize = PAGE / 4;

    /// Allocates the buffers, if the doorbells of queues 0 to `max_qid`, 4 << `dstrd` bytes
    /// apart, fit in a page; `None` if they do not.
    pub(crate) fn new(
        pdev: &pci::Device<pci::Core>,
        max_qid: u16,
        dstrd: u32,
    ) -> Result<Option<Arc<Self>>> {
        if ((usize::from(max_qid) + 1) * 2) << dstrd > Self::ENTRIES {
            return Ok(None);
        }
        let dbs = CoherentAllocation::<u32>::alloc_coherent(pdev, Self::ENTRIES, GFP_KERNEL)?;
        let eis = CoherentAllocation::<u32>::alloc_coherent(pdev, Self::ENTRIES, GFP_KERNEL)?;
        let (dbs_dma, eis_dma) = (dbs.dma_handle(), eis.dma_handle());
        Arc::pin_init(
            pin_init!(Self {
                bufs <- new_spinlock!(ShadowBufs { dbs, eis }, "rnvme:shadow"),
                on: AtomicBool::new(false),
                dbs_dma,
                eis_dma,
                first_io: 2 << dstrd,
            }),
            GFP_KERNEL,
        )
        .map(Some)
    }

    /// The device addresses of the shadow doorbells and of the event indexes.
    pub(crate) fn dma(&self) -> (u64, u64) {
        (self.dbs_dma, self.eis_dma)
    }

    /// Turns the use of the buffers on (the controller took them) or off (it is about to be
    /// disabled, which makes it forget them).
    pub(crate) fn set_on(&self, on: bool) {
        self.on.store(on, Ordering::Release);
    }

    /// Whether the controller uses the buffers.
    pub(crate) fn is_on(&self) -> bool {
        self.on.load(Ordering::Acquire)
    }

    /// Clears the entries of the I/O queues, for queues that were just created (empty, at 0)
    /// and carry no command yet: the controller reads the shadow doorbells when it takes the
    /// buffers, and the event indexes must not be ahead of the queues.
    pub(crate) fn clear(&self) {
        // The interrupt handlers take the lock: keep them out while we hold it.
        irq::with_local_irqs_disabled(|| {
            let b = self.bufs.lock();
            for i in self.first_io..Self::ENTRIES {
                let _ = b.dbs.write(i, 0);
                let _ = b.eis.write(i, 0);
            }
        });
    }

    /// Writes `value` into shadow doorbell `idx`, after the queue entries written before, and
    /// returns whether the MMIO doorbell must be rung as well: always while the buffers are
    /// off, otherwise when the new value passed the controller's event index (it is idle on
    /// that queue, and polls it no more).
    fn update(&self, idx: usize, value: u32) -> bool {
        // Completions take the lock in interrupt context.
        irq::with_local_irqs_disabled(|| {
            let b = self.bufs.lock();
            // The queue entries before the shadow doorbell that publishes them.
            dma::dma_wmb();
            let old = b.dbs.read(idx).map(u32::from_le).unwrap_or(0);
            if b.dbs.write(idx, value.to_le()).is_err() {
                return true;
            }
            if !self.on.load(Ordering::Acquire) {
                return true;
            }
            // The shadow doorbell before the event index it is compared with: the controller
            // writes the index and then reads the shadow, so one of the two sides sees the
            // other's write.
            dma::mb();
            let Ok(event) = b.eis.read(idx).map(u32::from_le) else {
                return true;
            };
            // As `nvme_dbbuf_need_event()`: did the value move past the event index?
            let (new, old, event) = (value as u16, old as u16, event as u16);
            new.wrapping_sub(event).wrapping_sub(1) < new.wrapping_sub(old)
        })
    }
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
    /// The shadow doorbells, with the indexes of this queue's submission and completion
    /// doorbells in them.
    shadow: Option<(Arc<Shadow>, usize, usize)>,
    sq_dma: u64,
    cq_dma: u64,
    #[pin]
    sq: SpinLock<Sq>,
    #[pin]
    cq: SpinLock<Cq>,
}

impl Queue {
    /// Allocates queue pair `qid` of `depth` entries; the doorbells are 4 << `dstrd` bytes
    /// apart, and shadowed in `shadow` if given. Fails with `EINVAL` if its doorbells are
    /// beyond the mapped registers or the shadow pages.
    pub(crate) fn new(
        pdev: &pci::Device<pci::Core>,
        regs: &Regs,
        qid: u16,
        depth: u32,
        dstrd: u32,
        shadow: Option<&Arc<Shadow>>,
    ) -> Result<Arc<Self>> {
        let stride = 4usize << dstrd;
        let sq_doorbell = reg::DOORBELLS + 2 * usize::from(qid) * stride;
        let cq_doorbell = sq_doorbell + stride;
        if cq_doorbell + 4 > reg::SIZE || depth < 2 {
            return Err(EINVAL);
        }
        let shadow = match shadow {
            Some(s) => {
                let (sq, cq) = (
                    (sq_doorbell - reg::DOORBELLS) / 4,
                    (cq_doorbell - reg::DOORBELLS) / 4,
                );
                if cq >= Shadow::ENTRIES {
                    return Err(EINVAL);
                }
                Some((s.clone(), sq, cq))
            }
            None => None,
        };
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
                shadow,
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
        if let Some((shadow, idx, _)) = &self.shadow {
            if !shadow.update(*idx, sq.tail) {
                return Ok(());
            }
        }
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
            // Read the rest of the entry only after its phase bit says it is complete.
            dma::dma_rmb();
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
        let ring = match &self.shadow {
            Some((shadow, _, idx)) if n > 0 => shadow.update(*idx, cq.head),
            _ => n > 0,
        };
        if ring {
            if let Some(io) = self.regs.try_access() {
                let _ = io.try_write32(cq.head, self.cq_doorbell);
            }
        }
        n
    }
}
