// SPDX-License-Identifier: GPL-2.0

//! Rust driver for QEMU's educational PCI device (`-device edu`, 1234:11e8).
//!
//! Each bound device becomes a misc device `/dev/rust-eduN`, whose interface is in
//! `include/uapi/misc/rust_edu.h`:
//!
//! - the `RUST_EDU_IOC_FACTORIAL` ioctl computes a factorial with the device's factorial unit;
//! - `read()` and `write()` move data between user memory and the device's 4 KiB buffer (less
//!   its last byte, see [`BUF_SIZE`]) with the device's DMA engine, through a coherent bounce
//!   buffer, at the file position;
//! - `lseek()` moves within the buffer, and `RUST_EDU_IOC_INFO` reports the identification
//!   register and the number of interrupts handled.
//!
//! Factorials and DMA transfers complete by interrupt (MSI if available, else INTx). The hard
//! interrupt handler acknowledges the device and records the status; its thread wakes the
//! waiting operation. Operations are serialised per device, since the device has one factorial
//! unit and one DMA engine.
//!
//! Open files hold the device state, so they may outlive the binding: after unbind, every
//! operation on them fails with `ENODEV`. The registers and the interrupt are `Devres` and are
//! revoked on unbind, and unbind waits for a running operation, so no operation touches the
//! device or its DMA buffer afterwards.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kernel::{
    c_str,
    devres::Devres,
    dma::{self, CoherentAllocation, DmaMask},
    fmt,
    io::poll_timeout,
    ioctl::{_IOR, _IOWR},
    irq::{self, IrqReturn, ThreadedIrqReturn},
    miscdevice::{self, MiscDevice, MiscDeviceRegistration, Whence},
    new_condvar, new_mutex, pci,
    prelude::*,
    str::CString,
    sync::{Arc, ArcBorrow, CondVar, CondVarTimeoutResult, Mutex},
    time::msecs_to_jiffies,
    types::{ARef, AsBytes, FromBytes},
    uaccess::{UserSlice, UserSliceReader, UserSliceWriter},
    ThisModule,
};

/// The register block the driver uses, at the start of BAR 0.
const REGS_SIZE: usize = 0x100;
/// The part of the device's 4 KiB DMA buffer that transfers may reach.
///
/// QEMU's edu before 8.0 checks the end of a transfer with `end < 0x41000` instead of `<=`, and
/// stops the whole virtual machine when the check fails, so no transfer may reach the last
/// byte: it is left out, and `RUST_EDU_IOC_INFO` reports the size.
const BUF_SIZE: usize = 4095;
/// The address of the DMA buffer on the device side of a transfer.
const DEV_BUF_ADDR: u64 = 0x40000;
/// The device's DMA engine drops address bits above this.
const DMA_BITS: u32 = 28;
/// How long an operation may take until the device is declared broken.
const TIMEOUT_MS: u32 = 1000;
/// The largest factorial input: the device loops `n` times, and n! mod 2^32 is 0 from 34 on.
const FACTORIAL_MAX: u32 = 0xffff;

mod regs {
    pub(crate) const ID: usize = 0x00;
    pub(crate) const LIVENESS: usize = 0x04;
    pub(crate) const FACTORIAL: usize = 0x08;
    pub(crate) const STATUS: usize = 0x20;
    pub(crate) const IRQ_STATUS: usize = 0x24;
    pub(crate) const IRQ_ACK: usize = 0x64;
    pub(crate) const DMA_SRC: usize = 0x80;
    pub(crate) const DMA_DST: usize = 0x88;
    pub(crate) const DMA_COUNT: usize = 0x90;
    pub(crate) const DMA_CMD: usize = 0x98;

    /// `STATUS`: a factorial is being computed.
    pub(crate) const STATUS_COMPUTING: u32 = 0x01;
    /// `STATUS`: raise an interrupt when a factorial is done.
    pub(crate) const STATUS_IRQ_FACTORIAL: u32 = 0x80;
    /// Interrupt status of a finished factorial.
    pub(crate) const IRQ_FACTORIAL: u32 = 0x001;
    /// Interrupt status of a finished DMA transfer.
    pub(crate) const IRQ_DMA: u32 = 0x100;
    /// `DMA_CMD`: start (reads 1 while the transfer runs).
    pub(crate) const DMA_START: u64 = 0x1;
    /// `DMA_CMD`: from the device buffer to RAM.
    pub(crate) const DMA_TO_RAM: u64 = 0x2;
    /// `DMA_CMD`: raise an interrupt when done.
    pub(crate) const DMA_IRQ: u64 = 0x4;
}

/// `struct rust_edu_factorial` of the user interface.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Factorial {
    n: u32,
    result: u32,
}

// SAFETY: Two `u32`s: no padding, and every bit pattern is valid.
unsafe impl AsBytes for Factorial {}
// SAFETY: As above.
unsafe impl FromBytes for Factorial {}

/// `struct rust_edu_info` of the user interface.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Info {
    id: u32,
    irqs: u32,
    buf_size: u32,
    dma_bits: u32,
}

// SAFETY: Four `u32`s: no padding, and every bit pattern is valid.
unsafe impl AsBytes for Info {}

const IOC_MAGIC: u32 = 0xED;
const IOC_FACTORIAL: u32 = _IOWR::<Factorial>(IOC_MAGIC, 0x01);
const IOC_INFO: u32 = _IOR::<Info>(IOC_MAGIC, 0x02);

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
    /// The bounce buffer of DMA transfers; the device only touches it during a transfer.
    buf: CoherentAllocation<u8>,
    /// The device was unbound.
    gone: bool,
    /// An operation timed out: the device cannot be trusted any more.
    broken: bool,
}

/// A bound edu device, shared by the driver and the open files.
#[pin_data]
struct Edu {
    pdev: ARef<pci::Device>,
    id: u32,
    events: Arc<Events>,
    _irq: Devres<Pin<KBox<irq::ThreadedRegistration<EduIrq>>>>,
    #[pin]
    op: Mutex<OpState>,
}

impl Edu {
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
    fn factorial(&self, n: u32) -> Result<u32> {
        if n > FACTORIAL_MAX {
            dev_err!(
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
            let io = self.events.regs.try_access().ok_or(ENODEV)?;
            // CAST: `pos` and `len` are at most `BUF_SIZE`.
            let dev = DEV_BUF_ADDR + pos as u64;
            let ram = op.buf.dma_handle();
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

    /// Marks the device gone, after any running operation.
    fn shutdown(&self) {
        self.op.lock().gone = true;
    }

    fn read(&self, mut writer: UserSliceWriter, pos: &mut i64) -> Result<usize> {
        let start = self.buffer_pos(*pos)?;
        let len = writer.len().min(BUF_SIZE - start);
        if len == 0 {
            return Ok(0);
        }
        self.with_op(|op| {
            self.dma(op, start, len, true)?;
            // SAFETY: The transfer has completed (its interrupt was handled) and no other one
            // starts while the operation lock is held: the device leaves the buffer alone.
            let data = unsafe { op.buf.as_slice(0, len)? };
            writer.write_slice(data)
        })?;
        // CAST: `len` is at most `BUF_SIZE`.
        *pos += len as i64;
        Ok(len)
    }

    fn write(&self, mut reader: UserSliceReader, pos: &mut i64) -> Result<usize> {
        let start = self.buffer_pos(*pos)?;
        let len = reader.len();
        if len == 0 {
            return Ok(0);
        }
        if len > BUF_SIZE - start {
            // Refused whole: a partial write would lose the caller's data silently.
            dev_err!(
                self.pdev,
                "write of {} bytes at {} does not fit the {} byte buffer\n",
                len,
                start,
                BUF_SIZE
            );
            return Err(ENOSPC);
        }
        self.with_op(|op| {
            // SAFETY: No transfer runs while the operation lock is held, so the device leaves
            // the buffer alone.
            reader.read_slice(unsafe { op.buf.as_slice_mut(0, len)? })?;
            self.dma(op, start, len, false)
        })?;
        // CAST: `len` is at most `BUF_SIZE`.
        *pos += len as i64;
        Ok(len)
    }

    /// Checks a file position against the buffer.
    fn buffer_pos(&self, pos: i64) -> Result<usize> {
        match usize::try_from(pos) {
            Ok(start) if start <= BUF_SIZE => Ok(start),
            _ => {
                dev_err!(self.pdev, "position {} is outside the buffer\n", pos);
                Err(EINVAL)
            }
        }
    }

    fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            IOC_FACTORIAL => {
                let (mut reader, mut writer) =
                    UserSlice::new(arg, core::mem::size_of::<Factorial>()).reader_writer();
                let mut f: Factorial = reader.read()?;
                f.result = self.factorial(f.n)?;
                writer.write(&f)?;
                Ok(0)
            }
            IOC_INFO => {
                self.with_op(|_| Ok(()))?;
                let info = Info {
                    id: self.id,
                    irqs: self.events.count.load(Ordering::Relaxed),
                    // CAST: Both are small constants.
                    buf_size: BUF_SIZE as u32,
                    dma_bits: DMA_BITS,
                };
                let mut writer = UserSlice::new(arg, core::mem::size_of::<Info>()).writer();
                writer.write(&info)?;
                Ok(0)
            }
            _ => {
                dev_err!(self.pdev, "unknown ioctl {:#x}\n", cmd);
                Err(ENOTTY)
            }
        }
    }
}

/// The file operations of `/dev/rust-eduN`.
struct EduFile;

#[vtable]
impl MiscDevice for EduFile {
    type Ptr = Arc<Edu>;
    type RegistrationData = Arc<Edu>;
    const OWNER: &'static ThisModule = &THIS_MODULE;

    fn open(edu: &Arc<Edu>) -> Result<Arc<Edu>> {
        edu.with_op(|_| Ok(()))?;
        Ok(edu.clone())
    }

    fn read(edu: ArcBorrow<'_, Edu>, writer: UserSliceWriter, pos: &mut i64) -> Result<usize> {
        edu.read(writer, pos)
    }

    fn write(edu: ArcBorrow<'_, Edu>, reader: UserSliceReader, pos: &mut i64) -> Result<usize> {
        edu.write(reader, pos)
    }

    fn ioctl(edu: ArcBorrow<'_, Edu>, cmd: u32, arg: usize) -> Result<isize> {
        edu.ioctl(cmd, arg)
    }

    fn llseek(edu: ArcBorrow<'_, Edu>, pos: i64, offset: i64, whence: Whence) -> Result<i64> {
        edu.with_op(|_| Ok(()))?;
        // CAST: `BUF_SIZE` is a small constant.
        miscdevice::seek_in_size(pos, offset, whence, BUF_SIZE as i64).inspect_err(|_| {
            dev_err!(
                edu.pdev,
                "seek to {} from {:?} is outside the buffer\n",
                offset,
                whence
            );
        })
    }
}

/// The device numbers in use, one bit each: `/dev/rust-eduN` for bit `N`.
static INDICES: AtomicU64 = AtomicU64::new(0);

/// A device number, given back on drop.
struct Index(u32);

impl Index {
    fn new() -> Result<Self> {
        let mut used = INDICES.load(Ordering::Relaxed);
        loop {
            let free = (!used).trailing_zeros();
            if free >= u64::BITS {
                pr_err!("rust_edu: no free device number\n");
                return Err(ENOSPC);
            }
            match INDICES.compare_exchange(
                used,
                used | (1 << free),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(Self(free)),
                Err(now) => used = now,
            }
        }
    }
}

impl Drop for Index {
    fn drop(&mut self) {
        INDICES.fetch_and(!(1 << self.0), Ordering::AcqRel);
    }
}

/// Per-device driver data. The misc device is declared first so that it is deregistered
/// before anything else goes.
struct EduDriver {
    misc: Pin<KBox<MiscDeviceRegistration<EduFile>>>,
    edu: Arc<Edu>,
    _index: Index,
}

kernel::pci_device_table!(
    PCI_TABLE,
    (),
    [(pci::DeviceId::from_id(0x1234, 0x11e8), ())]
);

/// Checks the identification and liveness registers; returns the identification.
fn identify(pdev: &pci::Device<pci::Core>, regs: &Devres<pci::Bar<REGS_SIZE>>) -> Result<u32> {
    let io = regs.try_access().ok_or(ENXIO)?;
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

impl pci::Driver for EduDriver {
    type IdInfo = ();
    const ID_TABLE: &'static dyn pci::IdTable<()> = &PCI_TABLE;

    fn probe(pdev: &pci::Device<pci::Core>, _info: &()) -> Result<Pin<KBox<Self>>> {
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
        let pdev_ref: &pci::Device = pdev;
        let edu = Arc::pin_init(
            pin_init!(Edu {
                pdev: pdev_ref.into(),
                id,
                events,
                _irq: irq,
                op <- new_mutex!(OpState {
                    buf,
                    gone: false,
                    broken: false,
                }),
            }),
            GFP_KERNEL,
        )?;

        // Prove the interrupt path before user space can reach the device.
        let fact = edu.factorial(5)?;
        if fact != 120 {
            dev_err!(pdev, "5! computed as {}\n", fact);
            return Err(EIO);
        }

        let index = Index::new()?;
        let name = CString::try_from_fmt(fmt!("rust-edu{}", index.0))?;
        let misc = KBox::pin_init(
            MiscDeviceRegistration::register(name, Some(pdev_ref), edu.clone()),
            GFP_KERNEL,
        )?;
        dev_info!(
            pdev,
            "edu {}.{} as /dev/{}: {}-bit DMA, 5! = {} by interrupt\n",
            id >> 24,
            (id >> 16) & 0xff,
            misc.name(),
            DMA_BITS,
            fact
        );
        Ok(KBox::pin(
            Self {
                misc,
                edu,
                _index: index,
            },
            GFP_KERNEL,
        )?)
    }

    fn unbind(_pdev: &pci::Device<pci::Core>, this: Pin<&Self>) {
        // Waits for a running operation; later ones, on files still open, get `ENODEV`.
        this.edu.shutdown();
        dev_info!(this.edu.pdev, "/dev/{} removed\n", this.misc.name());
    }
}

kernel::module_pci_driver! {
    type: EduDriver,
    name: "rust_edu",
    author: "linux-rust-lts",
    description: "Rust driver for QEMU's edu PCI device",
    license: "GPL",
}
