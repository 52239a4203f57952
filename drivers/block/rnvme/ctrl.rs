// SPDX-License-Identifier: GPL-2.0

//! The controller: enabling and disabling it, and admin commands.

use crate::{
    nvme::{admin, cap, cc, csts, id_ctrl, id_ns, reg, Command, Completion, PAGE},
    queue::{Queue, Regs, Shadow},
};
use core::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use kernel::{
    dma::CoherentAllocation,
    io::poll_timeout,
    new_mutex, pci,
    prelude::*,
    sync::{lock::mutex::MutexBackend, lock::Guard, Arc, Mutex},
    types::ARef,
};

/// Entries of the admin queue.
pub(crate) const ADMIN_DEPTH: u32 = 32;
/// How long an admin command may take.
const ADMIN_TIMEOUT_US: u64 = 60_000_000;
/// How long a normal shutdown may take (the C driver's default `shutdown_timeout`).
const SHUTDOWN_TIMEOUT_MS: u32 = 5_000;
/// The largest data transfer of an admin command: the admin buffer.
pub(crate) const ADMIN_BUF_SIZE: usize = 16 * PAGE;

/// The memory admin commands transfer data through: one buffer, contiguous for the device, and
/// the PRP list that describes its pages after the first.
pub(crate) struct AdminBuf {
    pub(crate) data: CoherentAllocation<u8>,
    prps: CoherentAllocation<u64>,
}

impl AdminBuf {
    fn new(pdev: &pci::Device<pci::Core>) -> Result<Self> {
        let data = CoherentAllocation::<u8>::alloc_coherent(pdev, ADMIN_BUF_SIZE, GFP_KERNEL)?;
        let pages = ADMIN_BUF_SIZE / PAGE;
        let prps = CoherentAllocation::<u64>::alloc_coherent(pdev, pages - 1, GFP_KERNEL)?;
        for i in 1..pages {
            prps.write(i - 1, data.dma_handle_at(i * PAGE)?.to_le())?;
        }
        Ok(Self { data, prps })
    }

    /// PRP entries 1 and 2 for a transfer of `len` bytes from the start of the buffer.
    fn prps(&self, len: usize) -> (u64, u64) {
        let first = self.data.dma_handle();
        if len <= PAGE {
            (first, 0)
        } else if len <= 2 * PAGE {
            (first, first + PAGE as u64)
        } else {
            (first, self.prps.dma_handle())
        }
    }
}

/// What Identify Controller says that the driver uses.
pub(crate) struct CtrlInfo {
    pub(crate) serial: [u8; 20],
    pub(crate) model: [u8; 40],
    /// The largest transfer in bytes (0: no limit).
    pub(crate) max_transfer: u32,
    pub(crate) oacs: u16,
    pub(crate) oncs: u16,
    pub(crate) vwc: bool,
}

/// What Identify Namespace says that the driver uses.
pub(crate) struct NsInfo {
    /// Size in logical blocks.
    pub(crate) blocks: u64,
    /// log2 of the logical block size.
    pub(crate) lba_shift: u32,
}

/// A controller: registers, capabilities and the admin queue.
#[pin_data]
pub(crate) struct Ctrl {
    pub(crate) pdev: ARef<pci::Device>,
    pub(crate) regs: Regs,
    pub(crate) cap: u64,
    /// Set when the controller was disabled because it failed: no command may be sent any more.
    pub(crate) dead: AtomicBool,
    admin: Arc<Queue>,
    /// Serialises admin commands (one at a time) and owns the buffer they transfer data with.
    #[pin]
    admin_lock: Mutex<AdminBuf>,
    next_cid: AtomicU16,
}

/// Reads a little-endian integer of `n` bytes at `off` of an identify buffer.
fn le(buf: &CoherentAllocation<u8>, off: usize, n: usize) -> Result<u64> {
    let mut v = 0u64;
    for i in (0..n).rev() {
        v = (v << 8) | u64::from(buf.read(off + i)?);
    }
    Ok(v)
}

impl Ctrl {
    /// Resets the controller, sets up the admin queue and enables the controller.
    pub(crate) fn new(pdev: &pci::Device<pci::Core>, regs: Regs) -> Result<Arc<Self>> {
        let (cap, vs) = {
            let io = regs.try_access().ok_or(ENODEV)?;
            (io.read64(reg::CAP), io.read32(reg::VS))
        };
        if cap == u64::MAX {
            dev_err!(
                pdev,
                "the controller does not answer (CAP reads all ones)\n"
            );
            return Err(ENODEV);
        }
        if !cap::css_nvm(cap) || cap::mpsmin(cap) != 0 {
            dev_err!(pdev, "unsupported controller: CAP {:#x}\n", cap);
            return Err(ENODEV);
        }
        dev_dbg!(
            pdev,
            "NVMe {}.{}, CAP {:#x}\n",
            vs >> 16,
            (vs >> 8) & 0xff,
            cap
        );
        let admin = Queue::new(
            pdev,
            &regs,
            0,
            ADMIN_DEPTH.min(cap::mqes(cap) + 1),
            cap::dstrd(cap),
            None,
        )?;
        let buf = AdminBuf::new(pdev)?;
        let ctrl = Arc::pin_init(
            pin_init!(Self {
                pdev: pdev.into(),
                regs,
                cap,
                dead: AtomicBool::new(false),
                admin,
                admin_lock <- new_mutex!(buf),
                next_cid: AtomicU16::new(0),
            }),
            GFP_KERNEL,
        )?;
        ctrl.disable()?;
        ctrl.enable()?;
        Ok(ctrl)
    }

    /// Enables a disabled controller with an empty admin queue, and waits until it is ready.
    pub(crate) fn enable(&self) -> Result {
        self.admin.reset();
        {
            let io = self.regs.try_access().ok_or(ENODEV)?;
            let d = self.admin.depth - 1;
            io.write32((d << 16) | d, reg::AQA);
            let (sq, cq) = (self.admin.sq_dma(), self.admin.cq_dma());
            io.write32(sq as u32, reg::ASQ);
            io.write32((sq >> 32) as u32, reg::ASQ + 4);
            io.write32(cq as u32, reg::ACQ);
            io.write32((cq >> 32) as u32, reg::ACQ + 4);
            io.write32(cc::EN | cc::IOSQES | cc::IOCQES, reg::CC);
        }
        self.wait_ready(true)
    }

    /// Waits until `CSTS.RDY` is `ready`, for at most the time `CAP.TO` allows.
    fn wait_ready(&self, ready: bool) -> Result {
        let timeout_us = u64::from(cap::timeout_ms(self.cap)) * 1000;
        let csts = poll_timeout(
            || {
                self.regs
                    .try_access()
                    .map(|io| io.read32(reg::CSTS))
                    .ok_or(ENODEV)
            },
            |&v| v == u32::MAX || v & csts::CFS != 0 || (v & csts::RDY != 0) == ready,
            1000,
            timeout_us,
        )
        .inspect_err(|_| {
            dev_err!(
                self.pdev,
                "controller not {} in time\n",
                if ready { "ready" } else { "disabled" }
            )
        })?;
        if csts == u32::MAX || (ready && csts & csts::CFS != 0) {
            dev_err!(self.pdev, "controller failed: CSTS {:#x}\n", csts);
            return Err(EIO);
        }
        Ok(())
    }

    /// Disables the controller: it drops every command and stops doing DMA.
    pub(crate) fn disable(&self) -> Result {
        {
            let io = self.regs.try_access().ok_or(ENODEV)?;
            let cc = io.read32(reg::CC);
            if cc & cc::EN == 0 && io.read32(reg::CSTS) & csts::RDY == 0 {
                return Ok(());
            }
            io.write32(cc & !cc::EN, reg::CC);
        }
        self.wait_ready(false)
    }

    /// Marks the controller dead (no command is sent any more) and disables it; returns whether
    /// this call did it.
    pub(crate) fn kill(&self) -> bool {
        if self.dead.swap(true, Ordering::AcqRel) {
            return false;
        }
        let _ = self.disable();
        true
    }

    /// Tells the controller to shut down normally (it flushes its cache), waits for it, and
    /// disables it.
    pub(crate) fn shutdown(&self) {
        if !self.dead.load(Ordering::Acquire) {
            if let Some(io) = self.regs.try_access() {
                let cc = io.read32(reg::CC);
                io.write32((cc & !cc::SHN_MASK) | cc::SHN_NORMAL, reg::CC);
            }
            let done = poll_timeout(
                || {
                    self.regs
                        .try_access()
                        .map(|io| io.read32(reg::CSTS))
                        .ok_or(ENODEV)
                },
                |&v| v == u32::MAX || v & csts::SHST_MASK == csts::SHST_CMPLT,
                1000,
                u64::from(SHUTDOWN_TIMEOUT_MS) * 1000,
            );
            if done.is_err() {
                dev_warn!(self.pdev, "shutdown did not complete in time\n");
            }
        }
        self.dead.store(true, Ordering::Release);
        let _ = self.disable();
    }

    /// Takes the admin lock: admin commands run one at a time, and not while the controller is
    /// reset (which holds it from the disable until its I/O queues are created again).
    pub(crate) fn admin(&self) -> Admin<'_> {
        Admin {
            ctrl: self,
            buf: self.admin_lock.lock(),
        }
    }
}

/// The admin lock of a controller, held: admin commands run through it.
pub(crate) struct Admin<'a> {
    ctrl: &'a Ctrl,
    buf: Guard<'a, AdminBuf, MutexBackend>,
}

impl Admin<'_> {
    /// Runs an admin command with the transfer buffer (`fill` sees it before, `take` after)
    /// and returns what `take` makes of it and the result dword.
    fn admin_cmd_with<R>(
        &self,
        mut cmd: Command,
        fill: impl FnOnce(&CoherentAllocation<u8>) -> Result,
        take: impl FnOnce(&CoherentAllocation<u8>, u32) -> Result<R>,
    ) -> Result<R> {
        fill(&self.buf.data)?;
        cmd.set_prp(self.buf.data.dma_handle(), 0);
        let result = self.admin_cmd(cmd)?;
        take(&self.buf.data, result)
    }

    /// Runs an admin command from user space through the admin buffer: `fill` prepares the
    /// buffer before, `take` sees it after the command completed, whatever its status. `xfer`
    /// is what the command makes the controller transfer, at most [`ADMIN_BUF_SIZE`] bytes: the
    /// data pointer describes that much of the buffer, and nothing outside it. Returns the
    /// completion.
    pub(crate) fn admin_passthru(
        &self,
        mut cmd: Command,
        xfer: usize,
        fill: impl FnOnce(&CoherentAllocation<u8>) -> Result,
        take: impl FnOnce(&CoherentAllocation<u8>) -> Result,
    ) -> Result<Completion> {
        if xfer > ADMIN_BUF_SIZE {
            return Err(EINVAL);
        }
        fill(&self.buf.data)?;
        let (prp1, prp2) = self.buf.prps(xfer);
        cmd.set_prp(prp1, prp2);
        let c = self.exec_raw(cmd)?;
        take(&self.buf.data)?;
        Ok(c)
    }

    /// Runs an admin command without data, or whose data pointer the caller set, and returns
    /// its result dword; a status other than success is `EIO`.
    pub(crate) fn admin_cmd(&self, cmd: Command) -> Result<u32> {
        let c = self.exec_raw(cmd)?;
        if c.status != 0 {
            dev_dbg!(
                self.ctrl.pdev,
                "admin command {:#x}: status {:#x}\n",
                cmd.opcode(),
                c.status
            );
            return Err(EIO);
        }
        Ok(c.result)
    }

    /// Runs an admin command whose data pointer the caller set, and returns its completion. A
    /// command that times out kills the controller.
    fn exec_raw(&self, mut cmd: Command) -> Result<Completion> {
        let ctrl = self.ctrl;
        if ctrl.dead.load(Ordering::Acquire) {
            return Err(ENODEV);
        }
        let cid = ctrl.next_cid.fetch_add(1, Ordering::Relaxed);
        cmd.set_cid(cid);
        // Completions of commands that timed out earlier may still come: skip them.
        ctrl.admin.process(|_| {});
        ctrl.admin.submit(&cmd, || {})?;
        let mut done = None;
        let res = poll_timeout(
            || {
                ctrl.admin.process(|c| {
                    if c.cid == cid {
                        done = Some(c);
                    }
                });
                Ok(done)
            },
            |d| d.is_some(),
            20,
            ADMIN_TIMEOUT_US,
        );
        match res {
            Ok(Some(c)) => Ok(c),
            _ => {
                dev_err!(ctrl.pdev, "admin command {:#x} timed out\n", cmd.opcode());
                ctrl.kill();
                Err(ETIMEDOUT)
            }
        }
    }

    /// Identify Controller.
    pub(crate) fn identify_ctrl(&self) -> Result<CtrlInfo> {
        let mut cmd = Command::new(admin::IDENTIFY, 0);
        cmd.set_cdw(10, admin::CNS_CTRL);
        self.admin_cmd_with(
            cmd,
            |_| Ok(()),
            |b, _| {
                let mut serial = [0u8; 20];
                for (i, c) in serial.iter_mut().enumerate() {
                    *c = b.read(id_ctrl::SN + i)?;
                }
                let mut model = [0u8; 40];
                for (i, c) in model.iter_mut().enumerate() {
                    *c = b.read(id_ctrl::MN + i)?;
                }
                let mdts = b.read(id_ctrl::MDTS)?;
                let max_transfer = if mdts == 0 || mdts > 20 {
                    0
                } else {
                    ((PAGE as u64) << mdts).min(u64::from(u32::MAX)) as u32
                };
                Ok(CtrlInfo {
                    serial,
                    model,
                    max_transfer,
                    oacs: le(b, id_ctrl::OACS, 2)? as u16,
                    oncs: le(b, id_ctrl::ONCS, 2)? as u16,
                    vwc: b.read(id_ctrl::VWC)? & 1 != 0,
                })
            },
        )
    }

    /// The active namespace identifiers (up to 1024).
    pub(crate) fn active_namespaces(&self) -> Result<KVec<u32>> {
        let mut cmd = Command::new(admin::IDENTIFY, 0);
        cmd.set_cdw(10, admin::CNS_NS_ACTIVE_LIST);
        self.admin_cmd_with(
            cmd,
            |_| Ok(()),
            |b, _| {
                let mut ids = KVec::new();
                for i in 0..1024 {
                    let id = le(b, 4 * i, 4)? as u32;
                    if id == 0 {
                        break;
                    }
                    ids.push(id, GFP_KERNEL)?;
                }
                Ok(ids)
            },
        )
    }

    /// Identify Namespace `nsid`.
    pub(crate) fn identify_ns(&self, nsid: u32) -> Result<NsInfo> {
        let mut cmd = Command::new(admin::IDENTIFY, nsid);
        cmd.set_cdw(10, admin::CNS_NS);
        self.admin_cmd_with(
            cmd,
            |_| Ok(()),
            |b, _| {
                let blocks = le(b, id_ns::NSZE, 8)?;
                let fmt = usize::from(b.read(id_ns::FLBAS)? & 0xf);
                let lbaf = le(b, id_ns::LBAF + 4 * fmt, 4)? as u32;
                Ok(NsInfo {
                    blocks,
                    lba_shift: (lbaf >> 16) & 0xff,
                })
            },
        )
    }

    /// Set Features (Number of Queues): asks for `n` I/O queue pairs, returns how many were
    /// granted.
    pub(crate) fn set_queue_count(&self, n: u32) -> Result<u32> {
        let mut cmd = Command::new(admin::SET_FEATURES, 0);
        cmd.set_cdw(10, admin::FEAT_NUM_QUEUES)
            .set_cdw(11, ((n - 1) << 16) | (n - 1));
        let r = self.admin_cmd(cmd)?;
        Ok(((r & 0xffff) + 1).min((r >> 16) + 1).min(n))
    }

    /// Creates I/O queue pair `q` on the controller, its completions raising vector `vector`.
    pub(crate) fn create_io_queue(&self, q: &Queue, vector: u16) -> Result {
        let size = ((q.depth - 1) << 16) | u32::from(q.qid);
        let mut cmd = Command::new(admin::CREATE_CQ, 0);
        cmd.set_cdw(10, size)
            .set_cdw(11, (u32::from(vector) << 16) | 0x3);
        cmd.set_prp(q.cq_dma(), 0);
        self.admin_cmd(cmd)?;
        let mut cmd = Command::new(admin::CREATE_SQ, 0);
        cmd.set_cdw(10, size)
            .set_cdw(11, (u32::from(q.qid) << 16) | 0x1);
        cmd.set_prp(q.sq_dma(), 0);
        self.admin_cmd(cmd)
            .inspect_err(|_| {
                let _ = self.delete_io_queue(q.qid, false);
            })
            .map(|_| ())
    }

    /// Doorbell Buffer Config: gives the controller the shadow doorbells of the I/O queues,
    /// and turns their use on if it takes them. Sent once the I/O queues exist, before they
    /// carry any command (after every enable: disabling the controller makes it forget them).
    /// A refusal is `EIO`: the doorbells are then rung every time, as without the buffers.
    pub(crate) fn set_shadow(&self, shadow: &Shadow) -> Result {
        shadow.set_on(false);
        shadow.clear();
        let (dbs, eis) = shadow.dma();
        let mut cmd = Command::new(admin::DBBUF, 0);
        cmd.set_prp(dbs, eis);
        self.admin_cmd(cmd)?;
        shadow.set_on(true);
        Ok(())
    }

    /// Deletes I/O queue pair `qid` (its submission queue first, if `sq`).
    pub(crate) fn delete_io_queue(&self, qid: u16, sq: bool) -> Result {
        if sq {
            let mut cmd = Command::new(admin::DELETE_SQ, 0);
            cmd.set_cdw(10, u32::from(qid));
            self.admin_cmd(cmd)?;
        }
        let mut cmd = Command::new(admin::DELETE_CQ, 0);
        cmd.set_cdw(10, u32::from(qid));
        self.admin_cmd(cmd).map(|_| ())
    }
}
