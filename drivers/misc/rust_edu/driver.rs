// SPDX-License-Identifier: GPL-2.0

//! Binding to edu devices: probe, unbind and the device numbers.

use crate::{edu::Edu, file::EduFile, regs::DMA_BITS};
use kernel::{
    fmt,
    miscdevice::MiscDeviceRegistration,
    pci,
    prelude::*,
    str::CString,
    sync::{Arc, Index, IndexSet},
};

/// The device numbers in use: `/dev/rust-eduN` for number `N`.
static INDICES: IndexSet = IndexSet::new();

/// Per-device driver data. The misc device is declared first so that it is deregistered
/// before anything else goes.
pub(crate) struct EduDriver {
    misc: Pin<KBox<MiscDeviceRegistration<EduFile>>>,
    edu: Arc<Edu>,
    _index: Index,
}

kernel::pci_device_table!(
    PCI_TABLE,
    (),
    [(pci::DeviceId::from_id(0x1234, 0x11e8), ())]
);

impl pci::Driver for EduDriver {
    type IdInfo = ();
    const ID_TABLE: &'static dyn pci::IdTable<()> = &PCI_TABLE;

    fn probe(pdev: &pci::Device<pci::Core>, _info: &()) -> Result<Pin<KBox<Self>>> {
        let edu = Edu::new(pdev)?;
        let id = edu.id;
        let parent: &kernel::device::Device = pdev;

        // Prove the interrupt path before user space can reach the device.
        let fact = edu.factorial(5)?;
        if fact != 120 {
            dev_err!(pdev, "5! computed as {}\n", fact);
            return Err(EIO);
        }

        let index = INDICES
            .alloc()
            .inspect_err(|_| pr_err!("rust_edu: no free device number\n"))?;
        let name = CString::try_from_fmt(fmt!("rust-edu{}", index.get()))?;
        let misc = KBox::pin_init(
            MiscDeviceRegistration::register(name, Some(parent), edu.clone()),
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

    fn unbind(pdev: &pci::Device<pci::Core>, this: Pin<&Self>) {
        // Waits for a running operation; later ones, on files still open, get `ENODEV`.
        this.edu.shutdown(pdev);
        dev_info!(this.edu.pdev, "/dev/{} removed\n", this.misc.name());
    }
}
