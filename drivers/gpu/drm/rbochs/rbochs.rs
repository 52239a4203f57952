// SPDX-License-Identifier: GPL-2.0

//! Rust DRM driver for QEMU's bochs-display (PCI 1234:1111, class 0x0380).
//!
//! The device has its VRAM in BAR 0 and 4 KiB of registers in BAR 2: the display's EDID at 0,
//! the DISPI (VBE) registers at 0x500 (16 bits each) and QEMU's extended registers at 0x600.
//! Reference: the base's `drivers/gpu/drm/tiny/bochs.c`.

use kernel::{
    c_str,
    devres::Devres,
    drm, pci,
    prelude::*,
    sync::Arc,
    types::ARef,
    ThisModule,
};

/// The MMIO BAR: EDID, DISPI and QEMU extended registers.
const MMIO_BAR: u32 = 2;
/// Its size.
const MMIO_SIZE: usize = 0x1000;
/// The VRAM BAR.
const VRAM_BAR: u32 = 0;

/// The DISPI registers (index; the register is at 0x500 + 2 * index).
mod dispi {
    pub(crate) const BASE: usize = 0x500;
    pub(crate) const ID: usize = 0x0;
    pub(crate) const VIDEO_MEMORY_64K: usize = 0xa;

    /// The IDs of the interface versions: 0xB0C0 to 0xB0C5.
    pub(crate) const ID_MASK: u16 = 0xfff0;
    pub(crate) const ID0: u16 = 0xb0c0;
}

/// QEMU's extended registers.
mod qext {
    pub(crate) const SIZE: usize = 0x600;
    pub(crate) const BYTEORDER: usize = 0x604;
    pub(crate) const LITTLE_ENDIAN: u32 = 0x1e1e_1e1e;
}

/// The PCI class of bochs-display ("other display controller"); QEMU's `-device VGA` has the
/// same IDs with the VGA class, and is left alone.
const CLASS_DISPLAY_OTHER: u32 = 0x0380;

type Mmio = pci::Bar<MMIO_SIZE>;

/// The device data of the DRM device.
struct Bochs {
    mmio: Arc<Devres<Mmio>>,
    vram_size: usize,
}

/// Per open file.
struct BochsFile;

impl drm::DriverFile for BochsFile {
    type Driver = Bochs;

    fn open(_dev: &drm::Device<Bochs>) -> Result<Pin<KBox<Self>>> {
        Ok(KBox::pin(BochsFile, GFP_KERNEL)?)
    }
}

impl drm::Driver for Bochs {
    type Data = Bochs;
    type File = BochsFile;
    const INFO: drm::DriverInfo = drm::DriverInfo {
        major: 1,
        minor: 0,
        patchlevel: 0,
        name: c_str!("rbochs"),
        desc: c_str!("Rust driver for QEMU's bochs-display"),
        date: c_str!("20261204"),
    };
    const OWNER: &'static ThisModule = &THIS_MODULE;
}

/// The PCI driver.
struct RbochsDriver {
    _drm: ARef<drm::Device<Bochs>>,
}

kernel::pci_device_table!(
    PCI_TABLE,
    (),
    [(pci::DeviceId::from_id(0x1234, 0x1111), ())]
);

/// Reads DISPI register `index`.
fn dispi_read(io: &Mmio, index: usize) -> Result<u16> {
    io.try_read16(dispi::BASE + 2 * index)
}

impl pci::Driver for RbochsDriver {
    type IdInfo = ();
    const ID_TABLE: &'static dyn pci::IdTable<()> = &PCI_TABLE;

    fn probe(pdev: &pci::Device<pci::Core>, _info: &()) -> Result<Pin<KBox<Self>>> {
        if pdev.class() >> 8 != CLASS_DISPLAY_OTHER {
            return Err(ENODEV);
        }
        pdev.enable_device_mem()?;
        let mmio = Arc::new(
            pdev.iomap_region_sized::<MMIO_SIZE>(MMIO_BAR, c_str!("rbochs"))?,
            GFP_KERNEL,
        )?;
        let vram_size = {
            let io = mmio.access(pdev)?;
            let id = dispi_read(io, dispi::ID)?;
            if id & dispi::ID_MASK != dispi::ID0 {
                dev_err!(pdev, "not a bochs DISPI interface (ID {:#x})\n", id);
                return Err(ENODEV);
            }
            let vram = usize::from(dispi_read(io, dispi::VIDEO_MEMORY_64K)?) * 64 * 1024;
            // QEMU's extended registers: ask for a little-endian framebuffer.
            if io.try_read32(qext::SIZE)? >= 8 {
                io.try_write32(qext::LITTLE_ENDIAN, qext::BYTEORDER)?;
            }
            let bar = pdev.resource_len(VRAM_BAR)? as usize;
            if bar < vram {
                dev_warn!(pdev, "VRAM BAR ({} bytes) smaller than the VRAM ({})\n", bar, vram);
            }
            vram.min(bar)
        };
        let drm = drm::Device::<Bochs>::new(pdev, Bochs { mmio, vram_size })?;
        drm::Registration::new_foreign_owned(&drm, pdev)?;
        dev_info!(
            pdev,
            "rbochs: {} KiB of VRAM\n",
            drm.data().vram_size / 1024
        );
        Ok(KBox::pin(RbochsDriver { _drm: drm }, GFP_KERNEL)?)
    }
}

kernel::module_pci_driver! {
    type: RbochsDriver,
    name: "rbochs",
    author: "linux-rust-lts",
    description: "Rust DRM driver for QEMU's bochs-display",
    license: "GPL",
}
