// SPDX-License-Identifier: GPL-2.0

//! Rust PCI driver sample, for QEMU's `edu` device (`-device edu`).
//!
//! Binds to the device, maps its registers and checks them: the identification register and
//! the liveness register (which reads back the inverse of what was written). Then it allocates
//! an interrupt vector (MSI if it can, else INTx), raises an interrupt through the device and
//! computes a factorial whose completion the device signals by interrupt. The results are
//! logged with `dev_info!`.

use core::sync::atomic::{AtomicU32, Ordering};
use kernel::{
    c_str,
    devres::Devres,
    io::poll_timeout,
    irq::{self, IrqReturn},
    pci,
    prelude::*,
    sync::Arc,
    types::ARef,
};

/// The register block this driver uses, at the start of BAR 0 (which is 1 MiB).
const EDU_REGS_SIZE: usize = 0x100;

mod regs {
    pub(crate) const ID: usize = 0x00;
    pub(crate) const LIVENESS: usize = 0x04;
    pub(crate) const FACTORIAL: usize = 0x08;
    pub(crate) const STATUS: usize = 0x20;
    pub(crate) const IRQ_STATUS: usize = 0x24;
    pub(crate) const IRQ_RAISE: usize = 0x60;
    pub(crate) const IRQ_ACK: usize = 0x64;

    /// Set in `STATUS` to get an interrupt when a factorial is done.
    pub(crate) const STATUS_IRQ_FACTORIAL: u32 = 0x80;
    /// The interrupt status value of a finished factorial.
    pub(crate) const IRQ_FACTORIAL: u32 = 0x01;
}

/// How long to wait for an interrupt, in microseconds.
const IRQ_TIMEOUT_US: u64 = 1_000_000;

/// The mapped registers, shared by the driver and its interrupt handler.
type Regs = Arc<Devres<pci::Bar<EDU_REGS_SIZE>>>;

/// The interrupt handler: acknowledges what the device raised and counts it.
struct EduIrq {
    regs: Regs,
    count: AtomicU32,
    last_status: AtomicU32,
}

impl irq::Handler for EduIrq {
    fn handle(&self) -> IrqReturn {
        let Some(io) = self.regs.try_access() else {
            return IrqReturn::None;
        };
        let status = io.read32(regs::IRQ_STATUS);
        if status == 0 {
            // Not ours: INTx lines may be shared.
            return IrqReturn::None;
        }
        io.write32(status, regs::IRQ_ACK);
        self.last_status.store(status, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Release);
        IrqReturn::Handled
    }
}

/// Per-device data of the sample. The interrupt is declared first so that it is freed before
/// the registers are unmapped.
struct SampleDriver {
    irq: Pin<KBox<irq::Registration<EduIrq>>>,
    regs: Regs,
    pdev: ARef<pci::Device>,
}

/// The devices the sample binds to.
#[derive(Clone, Copy)]
enum Kind {
    /// QEMU's `edu`: mapped, checked and driven.
    Edu,
    /// QEMU's `pci-testdev`, whose BAR 1 is an I/O-port BAR: the sample checks that the MMIO
    /// mapping refuses it, then declines the device.
    TestDev,
}

kernel::pci_device_table!(
    PCI_TABLE,
    Kind,
    [
        (pci::DeviceId::from_id(0x1234, 0x11e8), Kind::Edu),
        (pci::DeviceId::from_id(0x1b36, 0x0005), Kind::TestDev),
    ]
);

/// Checks that `pci-testdev`'s memory BAR 0 maps and its I/O-port BAR 1 is refused, then
/// declines the device (`ENODEV`, which the driver core does not log).
fn check_io_bar(pdev: &pci::Device<pci::Core>) -> Result<Pin<KBox<SampleDriver>>> {
    pdev.enable_device_mem()?;
    let mem = pdev.iomap_region(0, c_str!("rust_driver_pci"));
    let io = pdev.iomap_region(1, c_str!("rust_driver_pci"));
    match (&mem, &io) {
        (Ok(_), Err(e)) if *e == EINVAL && pdev.resource_is_io(1)? => {
            dev_info!(
                pdev,
                "pci-testdev: memory BAR 0 mapped, I/O-port BAR 1 refused\n"
            );
        }
        _ => dev_err!(
            pdev,
            "pci-testdev: BAR 0 mapped: {}, BAR 1 mapped: {}\n",
            mem.is_ok(),
            io.is_ok()
        ),
    }
    Err(ENODEV)
}

impl SampleDriver {
    /// Returns how many interrupts the handler has seen.
    fn irq_count(&self) -> Result<u32> {
        Ok(self.irq.handler().count.load(Ordering::Acquire))
    }

    /// Waits until the handler has seen more than `seen` interrupts.
    fn wait_irq(&self, seen: u32) -> Result<u32> {
        poll_timeout(|| self.irq_count(), |&n| n > seen, 100, IRQ_TIMEOUT_US).inspect_err(|_| {
            dev_err!(self.pdev, "no interrupt within {} us\n", IRQ_TIMEOUT_US);
        })
    }

    /// Raises an interrupt through the device and waits for the handler to see it.
    fn raise_irq(&self) -> Result {
        let seen = self.irq_count()?;
        self.regs
            .try_access()
            .ok_or(ENXIO)?
            .write32(0x1000, regs::IRQ_RAISE);
        self.wait_irq(seen)?;
        Ok(())
    }

    /// Asks the device for `n!` and waits for the interrupt that says it is done.
    fn factorial(&self, n: u32) -> Result<u32> {
        let seen = self.irq_count()?;
        {
            let io = self.regs.try_access().ok_or(ENXIO)?;
            io.write32(regs::STATUS_IRQ_FACTORIAL, regs::STATUS);
            io.write32(n, regs::FACTORIAL);
        }
        self.wait_irq(seen)?;
        let status = self.irq.handler().last_status.load(Ordering::Relaxed);
        if status & regs::IRQ_FACTORIAL == 0 {
            dev_err!(self.pdev, "unexpected interrupt status {:#x}\n", status);
            return Err(EIO);
        }
        Ok(self.regs.try_access().ok_or(ENXIO)?.read32(regs::FACTORIAL))
    }
}

impl pci::Driver for SampleDriver {
    type IdInfo = Kind;
    const ID_TABLE: &'static dyn pci::IdTable<Kind> = &PCI_TABLE;

    fn probe(pdev: &pci::Device<pci::Core>, info: &Kind) -> Result<Pin<KBox<Self>>> {
        if let Kind::TestDev = info {
            return check_io_bar(pdev);
        }
        pdev.enable_device_mem()?;
        let bar = pdev.iomap_region_sized::<EDU_REGS_SIZE>(0, c_str!("rust_driver_pci"))?;

        let (id, alive) = {
            // Probing: the device is bound, so the BAR is accessible without RCU.
            let io = bar.access(pdev)?;
            let id = io.read32(regs::ID);
            io.write32(0x1234_5678, regs::LIVENESS);
            (id, io.read32(regs::LIVENESS) == !0x1234_5678)
        };
        if id & 0xffff != 0x00ed || !alive {
            dev_err!(
                pdev,
                "not an edu device (id {:#010x}, liveness {})\n",
                id,
                alive
            );
            return Err(ENODEV);
        }

        let regs: Regs = Arc::new(bar, GFP_KERNEL)?;
        // MSI messages are memory writes by the device: they need bus mastering.
        pdev.set_master();
        pdev.alloc_irq_vectors(1, 1, pci::IrqTypes::MSI | pci::IrqTypes::INTX)?;
        let handler = EduIrq {
            regs: regs.clone(),
            count: AtomicU32::new(0),
            last_status: AtomicU32::new(0),
        };
        let irq = pdev.request_irq(0, irq::Flags::SHARED, c_str!("rust_driver_pci"), handler)?;

        let this = KBox::pin(
            Self {
                irq,
                regs,
                pdev: pdev.into(),
            },
            GFP_KERNEL,
        )?;
        this.raise_irq()?;
        let fact = this.factorial(5)?;
        dev_info!(
            pdev,
            "edu {}.{} (revision {}): liveness ok, 5! = {} by interrupt, {} interrupts\n",
            id >> 24,
            (id >> 16) & 0xff,
            pdev.revision_id(),
            fact,
            this.irq_count()?
        );
        Ok(this)
    }

    fn unbind(dev: &pci::Device<pci::Core>, this: Pin<&Self>) {
        // The interrupt stays requested until the registration is dropped with `this`; wait
        // for a handler that may still be running on another CPU.
        if let Err(e) = this.irq.synchronize(dev) {
            dev_err!(dev, "cannot synchronize the interrupt: {:?}\n", e);
        }
        dev_info!(this.pdev, "unbinding\n");
    }
}

kernel::module_pci_driver! {
    type: SampleDriver,
    name: "rust_driver_pci",
    author: "linux-rust-lts",
    description: "Rust PCI driver sample for QEMU's edu device",
    license: "GPL",
}
