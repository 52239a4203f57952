// SPDX-License-Identifier: GPL-2.0

//! The block side: the blk-mq operations, the commands they build and the completion path.

use crate::{
    ctrl::Ctrl,
    nvme::{self, io, Command, Completion},
    queue::{Queue, Shadow},
};
use core::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use kernel::{
    block::mq::{self, ioctl::Ioctl, Request, TagSet, TimeoutAction},
    dma::{Pool, PoolBuffer},
    new_mutex, new_spinlock,
    prelude::*,
    sync::{Arc, ArcBorrow, Mutex, SpinLock},
    types::ARef,
};

/// [`nvme::PAGE`], in the unit of DMA addresses.
const PAGE: u64 = nvme::PAGE as u64;
/// Entries of one PRP list (one page of them): transfers up to 2 MiB need no chaining.
pub(crate) const PRP_LIST_ENTRIES: usize = 512;
/// Scatterlist entries per request, as the C driver's `NVME_MAX_SEGS`.
const MAX_SEGMENTS: u16 = 128;
/// Bits of the command identifier that hold the tag; the rest is a generation count.
const TAG_BITS: u32 = 12;

/// The I/O side of a controller, shared by its queues, disks and interrupt handlers.
#[pin_data]
pub(crate) struct IoShared {
    pub(crate) ctrl: Arc<Ctrl>,
    /// The I/O queues; hardware queue `i` is I/O queue `i + 1`.
    pub(crate) queues: KVec<Arc<Queue>>,
    /// PRP lists and DSM ranges, one block per request.
    pub(crate) pool: Pool<u64>,
    /// The shadow doorbells of the I/O queues, if the controller offers them.
    pub(crate) shadow: Option<Arc<Shadow>>,
    /// Serialises controller resets.
    #[pin]
    reset_lock: Mutex<()>,
}

impl IoShared {
    /// Makes the shared data of a controller with I/O queues `queues`.
    pub(crate) fn new(
        ctrl: Arc<Ctrl>,
        queues: KVec<Arc<Queue>>,
        pool: Pool<u64>,
        shadow: Option<Arc<Shadow>>,
    ) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                ctrl,
                queues,
                pool,
                shadow,
                reset_lock <- new_mutex!(()),
            }),
            GFP_KERNEL,
        )
    }

    /// Resets the controller: stops submissions, disables it (it drops every command and
    /// stops its DMA), fails every pending request with `EIO`, enables it again and recreates
    /// the I/O queues. If that fails, the controller stays disabled and dead: every later
    /// request fails with `EIO`.
    pub(crate) fn reset(&self, set: &TagSet<NvmeOps>) -> Result {
        let _guard = self.reset_lock.lock();
        if self.ctrl.dead.load(Ordering::Acquire) {
            return Err(ENODEV);
        }
        set.quiesce();
        // No admin command may run from the disable until the queues are back: the disable
        // drops it, and the enable rewinds the admin queue under it.
        let admin = self.ctrl.admin();
        // The controller forgets the shadow doorbells when disabled; the queues restart at 0.
        if let Some(s) = &self.shadow {
            s.set_on(false);
        }
        let res = self.ctrl.disable().and_then(|()| {
            fail_all(set);
            self.ctrl.enable()?;
            let n = self.queues.len() as u32;
            if admin.set_queue_count(n)? < n {
                return Err(EIO);
            }
            for q in self.queues.iter() {
                q.reset();
                admin.create_io_queue(q, q.qid)?;
            }
            if let Some(s) = &self.shadow {
                // Refused, the doorbells are rung every time; a timeout killed the controller.
                match admin.set_shadow(s) {
                    Err(e) if e == EIO => {
                        dev_warn!(self.ctrl.pdev, "shadow doorbells refused after reset\n")
                    }
                    r => r?,
                }
            }
            Ok(())
        });
        if res.is_err() {
            self.ctrl.kill();
            fail_all(set);
        }
        drop(admin);
        set.unquiesce();
        res
    }
}

/// A namespace: the data of one disk.
pub(crate) struct Namespace {
    /// The controller, for the disk's ioctls.
    pub(crate) ctrl: Arc<Ctrl>,
    pub(crate) nsid: u32,
    /// log2 of the logical block size.
    pub(crate) lba_shift: u32,
}

/// Per request (per tag) data.
#[pin_data]
pub(crate) struct Cmd {
    /// The generation of the command identifier, changed for every submission, so that a
    /// completion for an earlier use of the tag is recognised.
    generation: AtomicU16,
    /// The status of the completion (0: success).
    status: AtomicU32,
    /// The PRP list or DSM range buffer of the request.
    #[pin]
    list: SpinLock<PoolBuffer<u64>>,
}

/// The blk-mq operations of the driver.
pub(crate) struct NvmeOps;

#[vtable]
impl mq::Operations for NvmeOps {
    type TagSetData = Arc<IoShared>;
    type HwData = Arc<Queue>;
    type QueueData = Arc<Namespace>;
    type RequestData = Cmd;
    const DMA_SEGMENTS: u16 = MAX_SEGMENTS;

    fn init_hctx(shared: ArcBorrow<'_, IoShared>, index: u32) -> Result<Arc<Queue>> {
        shared.queues.get(index as usize).cloned().ok_or(EINVAL)
    }

    fn init_request(
        set: &TagSet<Self>,
        _hctx_index: u32,
        _numa_node: u32,
    ) -> impl PinInit<Cmd, Error> {
        let list = set.data().pool.alloc(GFP_KERNEL);
        try_pin_init!(Cmd {
            generation: AtomicU16::new(0),
            status: AtomicU32::new(0),
            list <- new_spinlock!(list?),
        }? Error)
    }

    fn queue_rq(queue: ArcBorrow<'_, Queue>, rq: ARef<Request<Self>>, _is_last: bool) -> Result {
        let ns = rq.queue_data();
        let shared = rq.tag_set().data();
        if shared.ctrl.dead.load(Ordering::Acquire) {
            return Err(EIO);
        }
        let mut cmd = build(&shared, &ns, &rq)?;
        let data = rq.data();
        let generation = data
            .generation
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1);
        let tag = rq.tag();
        if tag >= 1 << TAG_BITS {
            return Err(EIO);
        }
        cmd.set_cid(((generation << TAG_BITS) as u32 | tag) as u16);
        data.status.store(0, Ordering::Relaxed);
        // Once the doorbell rings, the interrupt handler may complete the request: it must find
        // no other reference to it.
        queue.submit(&cmd, move || drop(rq))
    }

    fn complete(rq: ARef<Request<Self>>) {
        let status = rq.data().status.load(Ordering::Relaxed) as u16;
        let result = if status == 0 {
            Ok(())
        } else {
            Err(nvme::status_to_errno(status))
        };
        // Another reference (the timeout handler's) ends it otherwise.
        let _ = Request::end(rq, result);
    }

    fn timeout(set: &TagSet<Self>, rq: ARef<Request<Self>>) -> TimeoutAction {
        let shared = set.data();
        let (qid, tag) = (rq.hw_queue_index() + 1, rq.tag());
        // The reset fails this request too, which needs the only reference.
        drop(rq);
        match shared.reset(set) {
            Ok(()) => dev_warn!(
                shared.ctrl.pdev,
                "I/O tag {} on queue {} timed out: controller reset, pending I/O failed\n",
                tag,
                qid
            ),
            Err(e) if e != ENODEV => dev_err!(
                shared.ctrl.pdev,
                "I/O tag {} on queue {} timed out; reset failed ({:?}): controller disabled\n",
                tag,
                qid,
                e
            ),
            Err(_) => fail_all(set),
        }
        TimeoutAction::Done
    }

    fn ioctl(ns: ArcBorrow<'_, Namespace>, ioctl: &Ioctl) -> Result<i32> {
        crate::ioctl::ioctl(ns, ioctl)
    }

    fn map_queues(set: &TagSet<Self>, map: &mut mq::QueueMap<'_>) {
        let shared = set.data();
        let n = shared.queues.len() as u32;
        // Vector 0 is the admin queue's; I/O queue `i` (hardware queue `i - 1`) has vector `i`.
        if map.map_pci(0, n, 0, &shared.ctrl.pdev, 1).is_err() {
            let _ = map.map_default(0, n, 0);
        }
    }
}

/// Ends every request the driver owns with `EIO`.
pub(crate) fn fail_all(set: &TagSet<NvmeOps>) {
    set.for_each_busy(|rq| {
        let _ = Request::end(rq, Err(EIO));
    });
}

/// Builds the command for a request.
fn build(shared: &IoShared, ns: &Namespace, rq: &Request<NvmeOps>) -> Result<Command> {
    let slba = rq.sector() >> (ns.lba_shift - 9);
    let bytes = u64::from(rq.bytes());
    let blocks = bytes >> ns.lba_shift;
    match rq.command() {
        mq::Command::Read | mq::Command::Write => {
            if blocks == 0 || blocks > 0x10000 || bytes & ((1 << ns.lba_shift) - 1) != 0 {
                return Err(EIO);
            }
            let opcode = if rq.command() == mq::Command::Read {
                io::READ
            } else {
                io::WRITE
            };
            let mut cmd = Command::new(opcode, ns.nsid);
            cmd.set_cdw(10, slba as u32)
                .set_cdw(11, (slba >> 32) as u32)
                .set_cdw(
                    12,
                    (blocks - 1) as u32 | if rq.is_fua() { io::RW_FUA } else { 0 },
                );
            let (prp1, prp2) = map_prps(shared, rq, bytes)?;
            cmd.set_prp(prp1, prp2);
            Ok(cmd)
        }
        mq::Command::Flush => Ok(Command::new(io::FLUSH, ns.nsid)),
        mq::Command::WriteZeroes => {
            if blocks == 0 || blocks > 0x10000 {
                return Err(EIO);
            }
            let mut cmd = Command::new(io::WRITE_ZEROES, ns.nsid);
            cmd.set_cdw(10, slba as u32)
                .set_cdw(11, (slba >> 32) as u32)
                .set_cdw(12, (blocks - 1) as u32);
            Ok(cmd)
        }
        mq::Command::Discard => {
            if blocks == 0 || blocks > u64::from(u32::MAX) {
                return Err(EIO);
            }
            // One range: context attributes, length in blocks, starting block.
            let data = rq.data();
            let list = data.list.lock();
            list.write_from(0, &[blocks << 32, slba])?;
            let mut cmd = Command::new(io::DSM, ns.nsid);
            cmd.set_cdw(10, 0).set_cdw(11, io::DSM_AD);
            cmd.set_prp(list.dma_handle(), 0);
            Ok(cmd)
        }
        _ => Err(EOPNOTSUPP),
    }
}

/// Maps a request's data and returns PRP entries 1 and 2 for it (PRP 2 pointing to the
/// request's PRP list when more than two pages are needed).
fn map_prps(shared: &IoShared, rq: &Request<NvmeOps>, bytes: u64) -> Result<(u64, u64)> {
    let dev: &kernel::device::Device = &shared.ctrl.pdev;
    let mut segs = rq.dma_map(dev)?;
    let (first, first_len) = segs.next().ok_or(EIO)?;
    let first_len = u64::from(first_len);
    let data = rq.data();
    let list = data.list.lock();
    // Every page of the transfer after the first one is an entry.
    let mut n = 0usize;
    let mut single = 0u64;
    let mut push = |addr: u64| -> Result {
        if n == 0 {
            single = addr;
        }
        if n >= PRP_LIST_ENTRIES {
            return Err(EIO);
        }
        list.write(n, addr)?;
        n += 1;
        Ok(())
    };
    let mut covered = (PAGE - (first & (PAGE - 1))).min(first_len);
    let mut page = (first & !(PAGE - 1)) + PAGE;
    while covered < first_len {
        push(page)?;
        page += PAGE;
        covered += PAGE;
    }
    let mut total = first_len;
    for (addr, len) in segs {
        let len = u64::from(len);
        // The virtual boundary makes every later segment start on a page.
        if addr & (PAGE - 1) != 0 {
            return Err(EIO);
        }
        let mut off = 0;
        while off < len {
            push(addr + off)?;
            off += PAGE;
        }
        total += len;
    }
    if total != bytes {
        return Err(EIO);
    }
    Ok(match n {
        0 => (first, 0),
        1 => (first, single),
        _ => (first, list.dma_handle()),
    })
}

/// The interrupt handler of an I/O queue.
pub(crate) struct QueueIrq {
    pub(crate) queue: Arc<Queue>,
    pub(crate) tagset: Arc<TagSet<NvmeOps>>,
}

impl kernel::irq::Handler for QueueIrq {
    fn handle(&self) -> kernel::irq::IrqReturn {
        let hwq = u32::from(self.queue.qid) - 1;
        let n = self.queue.process(|c: Completion| {
            let tag = u32::from(c.cid) & ((1 << TAG_BITS) - 1);
            let generation = c.cid >> TAG_BITS;
            match self.tagset.tag_to_rq(hwq, tag) {
                Some(rq) if rq.data().generation.load(Ordering::Relaxed) & 0xf == generation => {
                    rq.data()
                        .status
                        .store(u32::from(c.status), Ordering::Relaxed);
                    Request::complete(rq);
                }
                _ => {
                    let ctrl = &self.tagset.data().ctrl;
                    dev_warn_ratelimited!(
                        ctrl.pdev,
                        "queue {}: completion for unknown command {:#x}\n",
                        self.queue.qid,
                        c.cid
                    );
                }
            }
        });
        if n > 0 {
            kernel::irq::IrqReturn::Handled
        } else {
            kernel::irq::IrqReturn::None
        }
    }
}
