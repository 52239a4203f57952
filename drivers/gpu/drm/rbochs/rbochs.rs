// SPDX-License-Identifier: GPL-2.0

//! Rust DRM driver for QEMU's bochs-display (PCI 1234:1111, class 0x0380).
//!
//! The device has its VRAM in BAR 0 and 4 KiB of registers in BAR 2: the display's EDID at 0,
//! the DISPI (VBE) registers at 0x500 (16 bits each) and QEMU's extended registers at 0x600.
//! Reference: the base's `drivers/gpu/drm/tiny/bochs.c`.

use kernel::{
    c_str,
    devres::Devres,
    drm::{
        self,
        ioctl::Flags,
        kms::{
            self, format, Connector, ConnectorFuncs, ConnectorType, Crtc, CrtcFuncs, CrtcState,
            DisplayMode, EncoderType, ModeConfigInfo, ModeProbe, ModeStatus, Plane, PlaneFuncs,
            PlaneUpdate, Setup,
        },
    },
    pci,
    prelude::*,
    sync::Arc,
    types::ARef,
    uapi, ThisModule,
};

/// The MMIO BAR: EDID, DISPI and QEMU extended registers.
const MMIO_BAR: u32 = 2;
/// Its size.
const MMIO_SIZE: usize = 0x1000;
/// The VRAM BAR.
const VRAM_BAR: u32 = 0;
/// The EDID blob at the start of the MMIO BAR ends where the (stdvga-only) VGA ports begin.
const EDID_END: usize = 0x400;
/// The size of an EDID block, and the offset of block 0's extension count.
const EDID_BLOCK: usize = 128;
const EDID_EXTENSIONS: usize = 126;

/// The DISPI registers (index; the register is at 0x500 + 2 * index).
mod dispi {
    pub(crate) const BASE: usize = 0x500;
    pub(crate) const ID: usize = 0x0;
    pub(crate) const XRES: usize = 0x1;
    pub(crate) const YRES: usize = 0x2;
    pub(crate) const BPP: usize = 0x3;
    pub(crate) const ENABLE: usize = 0x4;
    pub(crate) const BANK: usize = 0x5;
    pub(crate) const VIRT_WIDTH: usize = 0x6;
    pub(crate) const VIRT_HEIGHT: usize = 0x7;
    pub(crate) const X_OFFSET: usize = 0x8;
    pub(crate) const Y_OFFSET: usize = 0x9;
    pub(crate) const VIDEO_MEMORY_64K: usize = 0xa;

    /// The IDs of the interface versions: 0xB0C0 to 0xB0C5.
    pub(crate) const ID_MASK: u16 = 0xfff0;
    pub(crate) const ID0: u16 = 0xb0c0;

    /// `ENABLE`: display on, with the linear framebuffer.
    pub(crate) const ENABLED: u16 = 0x01;
    pub(crate) const LFB_ENABLED: u16 = 0x40;
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

/// The mode limits: QEMU takes 64x64 and up; the registers are 16 bits.
const MIN_SIZE: u32 = 64;
const MAX_SIZE: u32 = 8192;
/// The preferred mode without an EDID.
const DEFAULT_MODE: (u32, u32) = (1024, 768);
/// Bytes per pixel: the display scans out XRGB8888.
const CPP: usize = 4;

static FORMATS: [u32; 1] = [format::XRGB8888];

type Mmio = pci::Bar<MMIO_SIZE>;

/// The device data of the DRM device.
struct Bochs {
    mmio: Arc<Devres<Mmio>>,
    vram: Devres<pci::Bar>,
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
    const KMS: bool = true;
    const OWNER: &'static ThisModule = &THIS_MODULE;
    const IOCTLS: &'static [drm::ioctl::Desc<Self>] = kernel::drm_ioctls!(Bochs;
        (RBOCHS_INFO, uapi::DRM_RBOCHS_INFO, ReadWrite, Info, Bochs::info, Flags::NONE),
    );
}

kernel::drm_ioctl_arg! {
    /// The argument of `DRM_IOCTL_RBOCHS_INFO` (include/uapi/drm/rbochs_drm.h).
    struct Info(uapi::drm_rbochs_info) {
        flags: u32,
        dispi_id: u32,
        vram_size: u64,
        width: u32,
        height: u32,
    }
}

/// Reads DISPI register `index`.
fn dispi_read(io: &Mmio, index: usize) -> Result<u16> {
    io.try_read16(dispi::BASE + 2 * index)
}

/// Writes DISPI register `index`.
fn dispi_write(io: &Mmio, index: usize, value: u16) -> Result {
    io.try_write16(value, dispi::BASE + 2 * index)
}

impl Bochs {
    /// Sets the mode: `width` x `height` at 32 bits per pixel, scanned out from the start of
    /// the VRAM with a pitch of `width` pixels (the order of bochs.c).
    fn set_mode(&self, width: u16, height: u16) -> Result {
        let mmio = self.mmio.try_access().ok_or(ENODEV)?;
        for (reg, value) in [
            (dispi::ENABLE, 0),
            (dispi::BPP, 32),
            (dispi::XRES, width),
            (dispi::YRES, height),
            (dispi::BANK, 0),
            (dispi::VIRT_WIDTH, width),
            (dispi::VIRT_HEIGHT, height),
            (dispi::X_OFFSET, 0),
            (dispi::Y_OFFSET, 0),
            (dispi::ENABLE, dispi::ENABLED | dispi::LFB_ENABLED),
        ] {
            dispi_write(&mmio, reg, value)?;
        }
        Ok(())
    }

    /// `DRM_IOCTL_RBOCHS_INFO`: the interface version, the VRAM size and the mode the display
    /// scans out, read from the registers.
    fn info(drm: &drm::Device<Bochs>, info: &mut Info, _file: &drm::File<BochsFile>) -> Result {
        if info.flags != 0 {
            return Err(EINVAL);
        }
        let bochs = drm.data();
        let mmio = bochs.mmio.try_access().ok_or(ENODEV)?;
        let on = dispi_read(&mmio, dispi::ENABLE)? & dispi::ENABLED != 0;
        info.dispi_id = dispi_read(&mmio, dispi::ID)?.into();
        info.vram_size = bochs.vram_size as u64;
        (info.width, info.height) = if on {
            (
                dispi_read(&mmio, dispi::XRES)?.into(),
                dispi_read(&mmio, dispi::YRES)?.into(),
            )
        } else {
            (0, 0)
        };
        Ok(())
    }

    /// Turns the display off.
    fn disable(&self) -> Result {
        let mmio = self.mmio.try_access().ok_or(ENODEV)?;
        dispi_write(&mmio, dispi::ENABLE, 0)
    }

    /// Copies the EDID QEMU shows at the start of the MMIO BAR (with `edid=on`, its default):
    /// block 0 and the extension blocks it announces, as far as the blob reaches.
    ///
    /// The copy is made under the MMIO guard (an RCU read-side section: nothing in it may
    /// sleep); the DRM core parses it afterwards, taking its locks.
    fn copy_edid(&self) -> Option<(KBox<[u8; EDID_END]>, usize)> {
        // Allocated before the guard is taken: an allocation may sleep.
        let mut edid = KBox::new([0u8; EDID_END], GFP_KERNEL).ok()?;
        let mmio = self.mmio.try_access()?;
        for (i, b) in edid[..EDID_BLOCK].iter_mut().enumerate() {
            *b = mmio.try_read8(i).ok()?;
        }
        if edid[..8] != kms::connector::EDID_HEADER {
            return None;
        }
        let len = ((1 + usize::from(edid[EDID_EXTENSIONS])) * EDID_BLOCK).min(EDID_END);
        for (i, b) in edid[EDID_BLOCK..len].iter_mut().enumerate() {
            *b = mmio.try_read8(EDID_BLOCK + i).ok()?;
        }
        Some((edid, len))
    }

    /// Reads the display's EDID, if QEMU shows one.
    fn read_edid(&self, probe: &mut ModeProbe<'_>) -> Option<kms::Edid> {
        let (blob, len) = self.copy_edid()?;
        probe.read_edid(|block, buf| {
            let start = usize::try_from(block).map_err(|_| EINVAL)? * EDID_BLOCK;
            let src = blob[..len].get(start..start + buf.len()).ok_or(EINVAL)?;
            buf.copy_from_slice(src);
            Ok(())
        })
    }
}

/// The primary plane: copies damage from the shmem framebuffer to the VRAM.
struct BochsPlane;

#[vtable]
impl PlaneFuncs for BochsPlane {
    type Driver = Bochs;

    fn atomic_update(plane: &Plane<Self>, update: &PlaneUpdate<'_>) {
        let bochs = plane.device().data();
        let Some(mode) = update.state().crtc_mode() else {
            return;
        };
        let pitch = mode.hdisplay() as usize * CPP;
        let Some(vram) = bochs.vram.try_access() else {
            return;
        };
        if let Err(e) = update.copy_damage(&vram, pitch) {
            kernel::pr_err_ratelimited!("rbochs: copying the framebuffer failed: {:?}\n", e);
        }
    }
}

/// The CRTC: the DISPI mode registers.
struct BochsCrtc;

#[vtable]
impl CrtcFuncs for BochsCrtc {
    type Driver = Bochs;

    fn mode_valid(crtc: &Crtc<Self>, mode: &DisplayMode) -> ModeStatus {
        let (w, h) = (mode.hdisplay(), mode.vdisplay());
        if !(MIN_SIZE..=MAX_SIZE).contains(&w) {
            return ModeStatus::HorizontalIllegal;
        }
        if !(MIN_SIZE..=MAX_SIZE).contains(&h) {
            return ModeStatus::VerticalIllegal;
        }
        if w as usize * h as usize * CPP > crtc.device().data().vram_size {
            return ModeStatus::NoMemory;
        }
        ModeStatus::Ok
    }

    fn atomic_enable(crtc: &Crtc<Self>, state: &CrtcState<'_>) {
        let mode = state.mode();
        // `mode_valid` keeps both in 64..=8192.
        let (Ok(w), Ok(h)) = (
            u16::try_from(mode.hdisplay()),
            u16::try_from(mode.vdisplay()),
        ) else {
            return;
        };
        if let Err(e) = crtc.device().data().set_mode(w, h) {
            kernel::pr_err_ratelimited!("rbochs: setting {}x{} failed: {:?}\n", w, h, e);
        }
    }

    fn atomic_disable(crtc: &Crtc<Self>) {
        let _ = crtc.device().data().disable();
    }
}

/// The connector: modes from QEMU's EDID, or the standard ones up to 8192x8192.
struct BochsConnector;

#[vtable]
impl ConnectorFuncs for BochsConnector {
    type Driver = Bochs;

    fn get_modes(connector: &Connector<Self>, probe: &mut ModeProbe<'_>) -> u32 {
        let edid = connector.device().data().read_edid(probe);
        let _ = probe.update_edid(edid.as_ref());
        if edid.is_some() {
            let n = probe.add_edid_modes();
            if n > 0 {
                return n;
            }
        }
        let n = probe.add_modes_noedid(MAX_SIZE, MAX_SIZE);
        probe.set_preferred(DEFAULT_MODE.0, DEFAULT_MODE.1);
        n
    }
}

/// Builds the display pipeline: plane, CRTC, encoder, connector.
fn setup_kms(drm: &drm::Device<Bochs>) -> Result {
    let setup = Setup::new(
        drm,
        &ModeConfigInfo {
            min_width: 0,
            max_width: MAX_SIZE,
            min_height: 0,
            max_height: MAX_SIZE,
            preferred_depth: 24,
        },
    )?;
    let plane = setup.primary_plane::<BochsPlane>(&FORMATS)?;
    let crtc = setup.crtc::<BochsCrtc, _>(plane)?;
    let encoder = setup.encoder(EncoderType::Dac, crtc)?;
    setup.connector::<BochsConnector>(ConnectorType::Virtual, encoder)?;
    setup.finish()
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

impl pci::Driver for RbochsDriver {
    type IdInfo = ();
    const ID_TABLE: &'static dyn pci::IdTable<()> = &PCI_TABLE;

    fn probe(pdev: &pci::Device<pci::Core>, _info: &()) -> Result<Pin<KBox<Self>>> {
        if pdev.class() >> 8 != CLASS_DISPLAY_OTHER {
            return Err(ENODEV);
        }
        // A firmware framebuffer (efifb, simpledrm) may scan out of the VRAM: take it over.
        drm::Device::<Bochs>::remove_firmware_framebuffers(pdev)?;
        pdev.enable_device_mem()?;
        let mmio = Arc::new(
            pdev.iomap_region_sized::<MMIO_SIZE>(MMIO_BAR, c_str!("rbochs"))?,
            GFP_KERNEL,
        )?;
        let vram = pdev.iomap_region(VRAM_BAR, c_str!("rbochs-vram"))?;
        let vram_size = {
            let io = mmio.access(pdev)?;
            let id = dispi_read(io, dispi::ID)?;
            if id & dispi::ID_MASK != dispi::ID0 {
                dev_err!(pdev, "not a bochs DISPI interface (ID {:#x})\n", id);
                return Err(ENODEV);
            }
            let mem = usize::from(dispi_read(io, dispi::VIDEO_MEMORY_64K)?) * 64 * 1024;
            // QEMU's extended registers: ask for a little-endian framebuffer.
            if io.try_read32(qext::SIZE)? >= 8 {
                io.try_write32(qext::LITTLE_ENDIAN, qext::BYTEORDER)?;
            }
            let bar = vram.access(pdev)?.maxsize();
            if bar < mem {
                dev_warn!(
                    pdev,
                    "VRAM BAR ({} bytes) smaller than the VRAM ({})\n",
                    bar,
                    mem
                );
            }
            mem.min(bar)
        };
        let drm = drm::Device::<Bochs>::new(
            pdev,
            Bochs {
                mmio,
                vram,
                vram_size,
            },
        )?;
        setup_kms(&drm)?;
        drm::Registration::new_foreign_owned(&drm, pdev)?;
        kms::fbdev_setup(&drm, pdev, 32)?;
        dev_info!(pdev, "rbochs: {} KiB of VRAM\n", vram_size / 1024);
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
