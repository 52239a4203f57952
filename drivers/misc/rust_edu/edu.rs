// SPDX-License-Identifier: GPL-2.0

//! A bound edu device: its interrupt handler and the operations the files use.

use crate::{
    regs::{self, BUF_SIZE, DEV_BUF_ADDR, DMA_BITS, FACTORIAL_MAX, REGS_SIZE, TIMEOUT_MS},
    uapi::{Factorial, Info, IOC_FACTORIAL, IOC_INFO},
};
use core::sync::atomic::{AtomicU32, Ordering};
use kernel::{
    c_str,
    devres::Devres,
    dma::{self, CoherentAllocation, DmaMask},
    io::poll_timeout,
    irq::{self, IrqReturn, ThreadedIrqReturn},
    new_condvar, new_mutex, pci,
    prelude::*,
    sync::{Arc, CondVar, CondVarTimeoutResult, Mutex},
    time::msecs_to_jiffies,
    types::ARef,
    uaccess::{UserSlice, UserSliceReader, UserSliceWriter},
};

type Regs = Arc<Devres<pci::Bar<REGS_SIZE>>>;

/// What the interrupt handler shares with the operations waiting for it.
#[pin_data]
struct Events {
    regs: Regs,
    /// Interrupt status bits seen and not yet consumed by an operation.
    pending: AtomicU32,
    /// Interrupts handled since probe.
    count: AtomicU32,
    /// Taken by waiters around their check and by the thread around its notification, so no
    /// wake-up is lost.
    #[pin]
    lock: Mutex<()>,
    #[pin]
    done: CondVar,
}

impl Events {
    /// Consumes the pending status `bit`; returns whether it was pending.
    fn take(&self, bit: u32) -> bool {
        self.pending.fetch_and(!bit, Ordering::AcqRel) & bit != 0
    }

    /// Waits until an interrupt with status `bit` has been handled, and consumes it.
    ///
    /// The device's operations take microseconds to a hundred milliseconds, so a signal does
    /// not abandon them: the wait goes on, uninterruptibly, until the interrupt or the timeout.
    fn wait(&self, bit: u32) -> Result {
        let signalled = {
            let mut guard = self.lock.lock();
            let mut left = msecs_to_jiffies(TIMEOUT_MS);
            loop {
                if self.take(bit) {
                    return Ok(());
                }
                match self.done.wait_interruptible_timeout(&mut guard, left) {
                    CondVarTimeoutResult::Woken { jiffies } => left = jiffies,
                    CondVarTimeoutResult::Timeout => break false,
                    CondVarTimeoutResult::Signal { .. } => break true,
                }
            }
        };
        if self.take(bit) {
            return Ok(());
        }
        if signalled {
            let timeout_us = u64::from(TIMEOUT_MS) * 1000;
            poll_timeout(|| Ok(self.take(bit)), |&seen| seen, 100, timeout_us)?;
            return Ok(());
        }
        Err(ETIMEDOUT)
    }
}

/// The interrupt handler.
struct EduIrq(Arc<Events>);

#[vtable]
impl irq::ThreadedHandler for EduIrq {
    fn handle(&self) -> ThreadedIrqReturn {
        let Some(io) = self.0.regs.try_access() else {
            return ThreadedIrqReturn::None;
        };
        let status = io.read32(regs::IRQ_STATUS);
        if status == 0 {
            // Not ours: an INTx line may be shared.
            return ThreadedIrqReturn::None;
        }
        io.write32(status, regs::IRQ_ACK);
        self.0.pending.fetch_or(status, Ordering::AcqRel);
        self.0.count.fetch_add(1, Ordering::Relaxed);
        ThreadedIrqReturn::WakeThread
    }

    fn handle_threaded(&self) -> IrqReturn {
        let _guard = self.0.lock.lock();
        self.0.done.notify_all();
        IrqReturn::Handled
    }
}

/// What operations serialise on.
struct OpState {
    /// The bounce buffer of DMA transfers; the device only touches it during a transfer. Freed
    /// on unbind (`None` from then on), after the device can no longer reach it.
    buf: Option<CoherentAllocation<u8>>,
    /// The device was unbound.
    gone: bool,
    /// An operation timed out: the device cannot be trusted any more, and its DMA engine may
    /// still write to the buffer, which is therefore kept until bus mastering is off.
    broken: bool,
}

/// A bound edu device, shared by the driver and the open files.
#[pin_data]
pub(crate) struct Edu {
    /// The PCI device.
    pub(crate) pdev: ARef<pci::Device>,
    /// The identification register.
    pub(crate) id: u32,
    events: Arc<Events>,
    _irq: Pin<KBox<irq::ThreadedRegistration<EduIrq>>>,
    #[pin]
    op: Mutex<OpState>,
}

impl Edu {
    /// Sets up a probing device: enables it, maps its registers, checks them, sets the DMA mask,
    /// allocates the bounce buffer and requests the interrupt.
    pub(crate) fn new(pdev: &pci::Device<pci::Core>) -> Result<Arc<Self>> {
        use dma::Device as _;

        pdev.enable_device_mem()?;
        let regs: Regs = Arc::new(
            pdev.iomap_region_sized::<REGS_SIZE>(0, c_str!("rust_edu"))?,
            GFP_KERNEL,
        )?;
        let id = identify(pdev, &regs)?;

        pdev.dma_set_mask_and_coherent(DmaMask::new::<DMA_BITS>())
            .inspect_err(|e| dev_err!(pdev, "no {}-bit DMA: {:?}\n", DMA_BITS, e))?;
        let buf = CoherentAllocation::<u8>::alloc_coherent(pdev, BUF_SIZE, GFP_KERNEL)?;
        // DMA and MSI messages are memory writes by the device: they need bus mastering.
        pdev.set_master();
        pdev.alloc_irq_vectors(1, 1, pci::IrqTypes::MSI | pci::IrqTypes::INTX)?;

        let events = Arc::pin_init(
            pin_init!(Events {
                regs,
                pending: AtomicU32::new(0),
                count: AtomicU32::new(0),
                lock <- new_mutex!(()),
                done <- new_condvar!(),
            }),
            GFP_KERNEL,
        )?;
        let irq = pdev.request_threaded_irq(
            0,
            irq::Flags::SHARED,
            c_str!("rust_edu"),
            EduIrq(events.clone()),
        )?;
        let edu = Arc::pin_init(
            pin_init!(Edu {
                pdev: pdev.into(),
                id,
                events,
                _irq: irq,
                op <- new_mutex!(OpState {
                    buf: Some(buf),
                    gone: false,
                    broken: false,
                }),
            }),
            GFP_KERNEL,
        )?;
        Ok(edu)
    }

    /// Fails with `ENODEV` once the device is unbound, or `EIO` once it is broken.
    pub(crate) fn check_alive(&self) -> Result {
        self.with_op(|_| Ok(()))
    }

    /// Runs `f` with the operation lock held, if the device is usable.
    fn with_op<R>(&self, f: impl FnOnce(&mut OpState) -> Result<R>) -> Result<R> {
        let mut op = self.op.lock();
        if op.gone {
            return Err(ENODEV);
        }
        if op.broken {
            return Err(EIO);
        }
        f(&mut op)
    }

    /// Waits for the interrupt `bit`; on a timeout, declares the device broken.
    fn complete(&self, op: &mut OpState, bit: u32, what: &str) -> Result {
        self.events.wait(bit).inspect_err(|e| {
            op.broken = true;
            dev_err!(
                self.pdev,
                "{} did not complete within {} ms ({:?}); device disabled\n",
                what,
                TIMEOUT_MS,
                e
            );
        })
    }

    /// Computes `n!` (modulo 2^32) with the device.
    pub(crate) fn factorial(&self, n: u32) -> Result<u32> {
        if n > FACTORIAL_MAX {
            dev_err_ratelimited!(
                self.pdev,
                "factorial input {} is above {}\n",
                n,
                FACTORIAL_MAX
            );
            return Err(EINVAL);
        }
        self.with_op(|op| {
            self.events.take(regs::IRQ_FACTORIAL);
            {
                let io = self.events.regs.try_access().ok_or(ENODEV)?;
                if io.read32(regs::STATUS) & regs::STATUS_COMPUTING != 0 {
                    // Every factorial we start completes before the lock is released.
                    dev_err!(self.pdev, "factorial unit busy\n");
                    return Err(EBUSY);
                }
                io.write32(regs::STATUS_IRQ_FACTORIAL, regs::STATUS);
                io.write32(n, regs::FACTORIAL);
            }
            self.complete(op, regs::IRQ_FACTORIAL, "factorial")?;
            let io = self.events.regs.try_access().ok_or(ENODEV)?;
            Ok(io.read32(regs::FACTORIAL))
        })
    }

    /// Runs one DMA transfer of `len` bytes between the bounce buffer and the device buffer at
    /// `pos`.
    fn dma(&self, op: &mut OpState, pos: usize, len: usize, to_ram: bool) -> Result {
        self.events.take(regs::IRQ_DMA);
        {
            let ram = op.buf.as_ref().ok_or(ENODEV)?.dma_handle();
            let io = self.events.regs.try_access().ok_or(ENODEV)?;
            // CAST: `pos` and `len` are at most `BUF_SIZE`.
            let dev = DEV_BUF_ADDR + pos as u64;
            // The register is 64 bits wide whatever the width of `dma_addr_t`.
            #[allow(
                clippy::useless_conversion,
                reason = "`dma_addr_t` is 32 bits wide on some configurations"
            )]
            let ram = u64::from(ram);
            let (src, dst, dir) = if to_ram {
                (dev, ram, regs::DMA_TO_RAM)
            } else {
                (ram, dev, 0)
            };
            io.write64(src, regs::DMA_SRC);
            io.write64(dst, regs::DMA_DST);
            io.write64(len as u64, regs::DMA_COUNT);
            io.write64(regs::DMA_START | regs::DMA_IRQ | dir, regs::DMA_CMD);
        }
        self.complete(op, regs::IRQ_DMA, "DMA transfer")
    }

    /// Marks the device gone, after any running operation, and frees the DMA buffer once the
    /// device can no longer reach it. Called on unbind, with the device lock held.
    pub(crate) fn shutdown(&self, pdev: &pci::Device<pci::Core>) {
        let mut op = self.op.lock();
        op.gone = true;
        if op.broken {
            // A timed-out transfer may still be running: stop the device's DMA first.
            pdev.clear_master();
        }
        // Otherwise every transfer completed before the lock was released.
        op.buf = None;
    }

    pub(crate) fn read(&self, mut writer: UserSliceWriter, pos: &mut i64) -> Result<usize> {
        self.check_alive()?;
        let start = self.buffer_pos(*pos)?;
        let len = writer.len().min(BUF_SIZE - start);
        if len == 0 {
            return Ok(0);
        }
        // Copied to user space after the operation lock is released, so that a user page that
        // is slow to fault in does not hold up the device (or its unbinding).
        let mut data = KVec::with_capacity(len, GFP_KERNEL)?;
        self.with_op(|op| {
            self.dma(op, start, len, true)?;
            let buf = op.buf.as_ref().ok_or(ENODEV)?;
            // SAFETY: The transfer has completed (its interrupt was handled) and no other one
            // starts while the operation lock is held: the device leaves the buffer alone, and
            // the closure only reads it. The capacity is reserved, so copying does not allocate
            // (the closure runs under RCU: `GFP_NOWAIT` says so anyway).
            unsafe { buf.with_slice(0, len, |s| data.extend_from_slice(s, GFP_NOWAIT)) }??;
            Ok(())
        })?;
        writer
            .write_slice(&data)
            .inspect_err(|e| self.user_fault(e))?;
        // CAST: `len` is at most `BUF_SIZE`.
        *pos += len as i64;
        Ok(len)
    }

    pub(crate) fn write(&self, reader: UserSliceReader, pos: &mut i64) -> Result<usize> {
        self.check_alive()?;
        let start = self.buffer_pos(*pos)?;
        let len = reader.len();
        if len == 0 {
            return Ok(0);
        }
        if len > BUF_SIZE - start {
            // Refused whole: a partial write would lose the caller's data silently.
            dev_err_ratelimited!(
                self.pdev,
                "write of {} bytes at {} does not fit the {} byte buffer\n",
                len,
                start,
                BUF_SIZE
            );
            return Err(ENOSPC);
        }
        // Copied from user space before the operation lock is taken (see `read`).
        let mut data = KVec::with_capacity(len, GFP_KERNEL)?;
        reader
            .read_all(&mut data, GFP_KERNEL)
            .inspect_err(|e| self.user_fault(e))?;
        self.with_op(|op| {
            let buf = op.buf.as_ref().ok_or(ENODEV)?;
            // SAFETY: No transfer runs while the operation lock is held, so the device leaves
            // the buffer alone, and the closure only writes it through the slice.
            unsafe {
                buf.with_slice_mut(0, len, |s| {
                    // Both are `len` bytes long. (Not `copy_from_slice()`: its length-mismatch
                    // panic is a no-return function this kernel's objtool does not know.)
                    for (to, from) in s.iter_mut().zip(data.iter()) {
                        *to = *from;
                    }
                })?
            };
            self.dma(op, start, len, false)
        })?;
        // CAST: `len` is at most `BUF_SIZE`.
        *pos += len as i64;
        Ok(len)
    }

    /// Logs a failed copy from or to user space (a bad user pointer).
    fn user_fault(&self, e: &Error) {
        dev_err_ratelimited!(self.pdev, "bad user buffer: {:?}\n", e);
    }

    /// Checks a file position against the buffer.
    fn buffer_pos(&self, pos: i64) -> Result<usize> {
        match usize::try_from(pos) {
            Ok(start) if start <= BUF_SIZE => Ok(start),
            _ => {
                dev_err_ratelimited!(self.pdev, "position {} is outside the buffer\n", pos);
                Err(EINVAL)
            }
        }
    }

    pub(crate) fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize> {
        self.check_alive()?;
        match cmd {
            IOC_FACTORIAL => {
                let (mut reader, mut writer) =
                    UserSlice::new(arg, core::mem::size_of::<Factorial>()).reader_writer();
                let mut f: Factorial = reader.read().inspect_err(|e| self.user_fault(e))?;
                f.result = self.factorial(f.n)?;
                writer.write(&f).inspect_err(|e| self.user_fault(e))?;
                Ok(0)
            }
            IOC_INFO => {
                let info = Info {
                    id: self.id,
                    irqs: self.events.count.load(Ordering::Relaxed),
                    // CAST: Both are small constants.
                    buf_size: BUF_SIZE as u32,
                    dma_bits: DMA_BITS,
                };
                let mut writer = UserSlice::new(arg, core::mem::size_of::<Info>()).writer();
                writer.write(&info).inspect_err(|e| self.user_fault(e))?;
                Ok(0)
            }
            // Not ours (e.g. `TCGETS` from `isatty()`): refused without a log line, as user
            // space asks such things of any file (a debug line would be printed on every call
            // where debug assertions are on, and any user could flood the log with it).
            _ => Err(ENOTTY),
        }
    }
}

/// Checks the identification and liveness registers; returns the identification.
fn identify(pdev: &pci::Device<pci::Core>, io: &Devres<pci::Bar<REGS_SIZE>>) -> Result<u32> {
    // Probing: the device is bound, so the registers are accessible without RCU.
    let io = io.access(pdev)?;
    let id = io.read32(regs::ID);
    io.write32(0x5a5a_0f0f, regs::LIVENESS);
    let alive = io.read32(regs::LIVENESS) == !0x5a5a_0f0f;
    if id & 0xffff != 0x00ed || !alive {
        dev_err!(
            pdev,
            "not an edu device (id {:#010x}, liveness {})\n",
            id,
            alive
        );
        return Err(ENODEV);
    }
    Ok(id)
}
