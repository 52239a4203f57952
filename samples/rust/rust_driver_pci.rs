// SPDX-License-Identifier: GPL-2.0

//! Rust PCI driver sample, for QEMU's `edu` device (`-device edu`).
//!
//! Binds to the device, maps its registers and checks them: the identification register, the
//! liveness register (which reads back the inverse of what was written), and one factorial
//! computed by polling the status register. The results are logged with `dev_info!`.

use kernel::{c_str, devres::Devres, io::poll_timeout, pci, prelude::*, types::ARef};

/// The register block this driver uses, at the start of BAR 0 (which is 1 MiB).
const EDU_REGS_SIZE: usize = 0x100;

mod regs {
    pub(crate) const ID: usize = 0x00;
    pub(crate) const LIVENESS: usize = 0x04;
    pub(crate) const FACTORIAL: usize = 0x08;
    pub(crate) const STATUS: usize = 0x20;

    /// Set in `STATUS` while the device computes a factorial.
    pub(crate) const STATUS_COMPUTING: u32 = 0x01;
}

/// Per-device data of the sample.
struct SampleDriver {
    pdev: ARef<pci::Device>,
    bar: Devres<pci::Bar<EDU_REGS_SIZE>>,
}

kernel::pci_device_table!(
    PCI_TABLE,
    (),
    [(pci::DeviceId::from_id(0x1234, 0x11e8), ())]
);

impl SampleDriver {
    /// Asks the device for `n!` and polls until it is computed.
    fn factorial(&self, n: u32) -> Result<u32> {
        let bar = &self.bar;
        bar.try_access().ok_or(ENXIO)?.write32(n, regs::FACTORIAL);
        poll_timeout(
            || {
                bar.try_access_with(|io| io.read32(regs::STATUS))
                    .ok_or(ENXIO)
            },
            |status| status & regs::STATUS_COMPUTING == 0,
            10,
            100_000,
        )?;
        Ok(bar.try_access().ok_or(ENXIO)?.read32(regs::FACTORIAL))
    }
}

impl pci::Driver for SampleDriver {
    type IdInfo = ();
    const ID_TABLE: &'static dyn pci::IdTable<()> = &PCI_TABLE;

    fn probe(pdev: &pci::Device<pci::Core>, _info: &()) -> Result<Pin<KBox<Self>>> {
        pdev.enable_device_mem()?;
        let bar = pdev.iomap_region_sized::<EDU_REGS_SIZE>(0, c_str!("rust_driver_pci"))?;

        let (id, alive) = {
            let io = bar.try_access().ok_or(ENXIO)?;
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

        let pdev_ref: &pci::Device = pdev;
        let this = KBox::pin(
            Self {
                pdev: pdev_ref.into(),
                bar,
            },
            GFP_KERNEL,
        )?;
        let fact = this.factorial(5)?;
        dev_info!(
            pdev,
            "edu {}.{} (revision {}): liveness ok, 5! = {}\n",
            id >> 24,
            (id >> 16) & 0xff,
            pdev.revision_id(),
            fact
        );
        Ok(this)
    }

    fn unbind(_dev: &pci::Device<pci::Core>, this: Pin<&Self>) {
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
