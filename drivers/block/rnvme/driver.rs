// SPDX-License-Identifier: GPL-2.0

//! Binding to NVMe controllers: probe, unbind and the controller numbers.

use crate::{
    blk::{IoShared, Namespace, NvmeOps, QueueIrq, PRP_LIST_ENTRIES},
    ctrl::{Ctrl, CtrlInfo},
    nvme::{cap, id_ctrl, reg},
    queue::{Queue, Regs, Shadow},
};
use kernel::{
    block::mq::{gen_disk::GenDisk, gen_disk::GenDiskBuilder, TagSet},
    c_str,
    devres::Devres,
    dma::{self, DmaMask, Pool},
    irq, new_mutex, pci,
    prelude::*,
    sync::{Arc, Index, IndexSet, Mutex},
    types::ScopeGuard,
};

/// The most I/O queues a controller gets.
const MAX_IO_QUEUES: u32 = 64;
/// Entries of each I/O queue, if the controller takes that many.
const IO_DEPTH: u32 = 256;

/// The controller numbers in use: `rnvmeN` for number `N`.
static INDICES: IndexSet = IndexSet::new();

/// Per-controller driver data. The disks go first on unbind, then the interrupts, the tag set
/// and the queues. The disks are tied to the binding: whatever becomes of the handles, the
/// unbinding deletes them.
#[pin_data]
pub(crate) struct RnvmeDriver {
    #[pin]
    disks: Mutex<KVec<Devres<GenDisk<NvmeOps>>>>,
    _irqs: KVec<Pin<KBox<irq::Registration<QueueIrq>>>>,
    _tagset: Arc<TagSet<NvmeOps>>,
    shared: Arc<IoShared>,
    index: Index,
}

kernel::pci_device_table!(
    PCI_TABLE,
    (),
    [(pci::DeviceId::from_class(0x010802, 0xffffff), ())]
);

/// Trims the space padding of an identify string.
fn trimmed(s: &[u8]) -> &[u8] {
    let end = s
        .iter()
        .rposition(|&c| c != b' ' && c != 0)
        .map_or(0, |p| p + 1);
    &s[..end]
}

impl pci::Driver for RnvmeDriver {
    type IdInfo = ();
    const ID_TABLE: &'static dyn pci::IdTable<()> = &PCI_TABLE;

    fn probe(pdev: &pci::Device<pci::Core>, _info: &()) -> Result<Pin<KBox<Self>>> {
        use dma::Device as _;

        pdev.enable_device_mem()?;
        pdev.set_master();
        pdev.dma_set_mask_and_coherent(DmaMask::new::<64>())?;
        // PRPs take segments of any length.
        pdev.dma_set_max_seg_size(u32::MAX)?;
        let regs: Regs = Arc::new(
            pdev.iomap_region_sized::<{ reg::SIZE }>(0, c_str!("rnvme"))?,
            GFP_KERNEL,
        )?;
        // Vector 0 for the admin queue, one per I/O queue after it, spread over the CPUs.
        let vectors =
            pdev.alloc_irq_vectors_affinity(2, MAX_IO_QUEUES + 1, pci::IrqTypes::MSIX, 1)?;
        let ctrl = Ctrl::new(pdev, regs)?;
        // If probe fails from here on, the enabled controller is disabled first, and only then
        // is the memory it was given freed: the guard keeps the controller (its admin queue and
        // buffer), the I/O queues and the shadow doorbells until it has run.
        let mut given = ScopeGuard::new_with_data(
            (ctrl.clone(), KVec::<Arc<Queue>>::new(), None::<Arc<Shadow>>),
            |(ctrl, _queues, _shadow)| {
                ctrl.kill();
            },
        );
        let admin = ctrl.admin();
        let info = admin.identify_ctrl()?;
        let nr = admin.set_queue_count(vectors - 1)?;
        let depth = IO_DEPTH.min(cap::mqes(ctrl.cap) + 1);
        let dstrd = cap::dstrd(ctrl.cap);
        // Shadow doorbells where the controller offers them (an emulated one: each MMIO
        // doorbell write is a trap to the hypervisor), as the C driver uses them.
        let shadow = if info.oacs & id_ctrl::OACS_DBBUF != 0 {
            Shadow::new(pdev, nr as u16, dstrd).unwrap_or_else(|e| {
                dev_warn!(pdev, "no shadow doorbells ({:?})\n", e);
                None
            })
        } else {
            None
        };
        given.2 = shadow.clone();
        let mut queues = KVec::with_capacity(nr as usize, GFP_KERNEL)?;
        given.1.reserve(nr as usize, GFP_KERNEL)?;
        for qid in 1..=nr as u16 {
            let q = Queue::new(pdev, &ctrl.regs, qid, depth, dstrd, shadow.as_ref())?;
            given.1.push(q.clone(), GFP_KERNEL)?;
            admin.create_io_queue(&q, qid)?;
            queues.push(q, GFP_KERNEL)?;
        }
        if let Some(s) = &shadow {
            // Refused, the doorbells are rung every time; a timeout killed the controller.
            match admin.set_shadow(s) {
                Err(e) if e == EIO => dev_warn!(pdev, "shadow doorbells refused\n"),
                r => r?,
            }
        }
        drop(admin);
        let pool = Pool::<u64>::new(pdev, c_str!("rnvme prp"), PRP_LIST_ENTRIES, 4096)?;
        let shared = IoShared::new(ctrl.clone(), queues, pool, shadow)?;
        let tagset = Arc::pin_init(TagSet::new(nr, depth - 1, 1, shared.clone()), GFP_KERNEL)?;
        let mut irqs = KVec::with_capacity(nr as usize, GFP_KERNEL)?;
        for q in shared.queues.iter() {
            let handler = QueueIrq {
                queue: q.clone(),
                tagset: tagset.clone(),
            };
            irqs.push(
                pdev.request_irq(u32::from(q.qid), irq::Flags::NONE, c_str!("rnvme"), handler)?,
                GFP_KERNEL,
            )?;
        }

        let index = INDICES
            .alloc()
            .inspect_err(|_| dev_err!(pdev, "no free controller number\n"))?;
        let disks = add_disks(pdev, &ctrl, &info, &tagset, index.get())?;
        dev_info!(
            pdev,
            "rnvme{}: {}, serial {}: {} I/O queues of {}{}, {} namespace(s)\n",
            index.get(),
            kernel::str::BStr::from_bytes(trimmed(&info.model)),
            kernel::str::BStr::from_bytes(trimmed(&info.serial)),
            nr,
            depth,
            if shared.shadow.as_ref().is_some_and(|s| s.is_on()) {
                " (shadow doorbells)"
            } else {
                ""
            },
            disks.len()
        );
        let res = KBox::pin_init(
            try_pin_init!(Self {
                disks <- new_mutex!(disks),
                _irqs: irqs,
                _tagset: tagset,
                shared,
                index,
            }),
            GFP_KERNEL,
        )?;
        given.dismiss();
        Ok(res)
    }

    fn unbind(pdev: &pci::Device<pci::Core>, this: Pin<&Self>) {
        // Deleting a disk waits for its requests: the controller completes them, or the
        // timeout handler disables it and fails them.
        let disks = core::mem::take(&mut *this.disks.lock());
        drop(disks);
        this.shared.ctrl.shutdown();
        dev_info!(pdev, "rnvme{} removed\n", this.index.get());
    }
}

/// Adds a disk for every active namespace the driver can drive.
fn add_disks(
    pdev: &pci::Device<pci::Core>,
    ctrl: &Arc<Ctrl>,
    info: &CtrlInfo,
    tagset: &Arc<TagSet<NvmeOps>>,
    index: u32,
) -> Result<KVec<Devres<GenDisk<NvmeOps>>>> {
    // One PRP list covers the transfer (the first page may be partial).
    let mut max_bytes = (PRP_LIST_ENTRIES as u32) * 4096;
    if info.max_transfer != 0 {
        max_bytes = max_bytes.min(info.max_transfer);
    }
    let mut disks = KVec::new();
    // Identified first, so that the admin lock is not held while the disks are added (udev
    // may send admin commands to them meanwhile).
    let mut found = KVec::new();
    {
        let admin = ctrl.admin();
        for nsid in admin.active_namespaces()?.iter().copied() {
            found.push((nsid, admin.identify_ns(nsid)?), GFP_KERNEL)?;
        }
    }
    for (nsid, ns) in found {
        if !(9..=12).contains(&ns.lba_shift) || ns.blocks == 0 {
            dev_warn!(
                pdev,
                "namespace {}: unsupported block size 2^{} or empty, skipped\n",
                nsid,
                ns.lba_shift
            );
            continue;
        }
        let bs = 1u32 << ns.lba_shift;
        let to_sectors = ns.lba_shift - 9;
        let mut b = GenDiskBuilder::new()
            .capacity_sectors(ns.blocks << to_sectors)
            .logical_block_size(bs)?
            .physical_block_size(bs)?
            .max_hw_sectors(max_bytes / 512)
            .virt_boundary_mask(4095)
            .dma_alignment(3)
            .write_cache(info.vwc)
            .fua(info.vwc);
        if info.oncs & id_ctrl::ONCS_DSM != 0 {
            b = b.discard((u32::MAX >> 1) & !((1 << to_sectors) - 1), 1, bs);
        }
        if info.oncs & id_ctrl::ONCS_WRITE_ZEROES != 0 {
            b = b.write_zeroes(0x10000 << to_sectors);
        }
        let data = Arc::new(
            Namespace {
                ctrl: ctrl.clone(),
                nsid,
                lba_shift: ns.lba_shift,
            },
            GFP_KERNEL,
        )?;
        let disk = b.build_bound(
            pdev,
            format_args!("rnvme{}n{}", index, nsid),
            tagset.clone(),
            data,
        )?;
        disks.push(disk, GFP_KERNEL)?;
    }
    Ok(disks)
}
