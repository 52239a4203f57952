// SPDX-License-Identifier: GPL-2.0

//! Positive control: a PCI driver that uses every rule the failing cases rely on the way it is
//! meant to be used; it must build, or the harness would pass cases that fail for any reason.
//!
//! compile_pass

use kernel::{
    c_str,
    device::{Bound, Device},
    devres::Devres,
    dma::CoherentAllocation,
    irq, new_mutex, pci,
    prelude::*,
    sync::{Arc, Mutex},
    types::ARef,
    workqueue,
};

struct Handler(Arc<Devres<pci::Bar<16>>>);

impl irq::Handler for Handler {
    fn handle(&self) -> irq::IrqReturn {
        match self.0.try_access() {
            Some(bar) if bar.read32(0) != 0 => irq::IrqReturn::Handled,
            _ => irq::IrqReturn::None,
        }
    }
}

struct Sample {
    _irq: Pin<KBox<irq::Registration<Handler>>>,
    _counter: Devres<u32>,
    _dma: Arc<Mutex<CoherentAllocation<u32>>>,
    _pdev: ARef<pci::Device>,
}

kernel::pci_device_table!(IDS, (), [(pci::DeviceId::from_id(0x1234, 0x11e8), ())]);

fn counter(dev: &Device<Bound>) -> Result<Devres<u32>> {
    let res = Devres::new(dev, 0u32, GFP_KERNEL)?;
    let _value: u32 = *res.access(dev)?;
    Ok(res)
}

impl pci::Driver for Sample {
    type IdInfo = ();
    const ID_TABLE: &'static dyn pci::IdTable<()> = &IDS;

    fn probe(pdev: &pci::Device<pci::Core>, _info: &()) -> Result<Pin<KBox<Self>>> {
        pdev.enable_device_mem()?;
        let bar = Arc::new(
            pdev.iomap_region_sized::<16>(0, c_str!("pass"))?,
            GFP_KERNEL,
        )?;
        pdev.alloc_irq_vectors(1, 1, pci::IrqTypes::ALL)?;
        let irq = KBox::pin_init(
            irq::Registration::new(
                pdev.irq_vector(0)?,
                irq::Flags::SHARED,
                c_str!("pass"),
                Handler(bar),
            ),
            GFP_KERNEL,
        )?;
        irq.synchronize(pdev)?;
        let buf = CoherentAllocation::<u32>::alloc_coherent(pdev, 4, GFP_KERNEL)?;
        // Shared between threads behind a lock.
        let dma = Arc::pin_init(new_mutex!(buf), GFP_KERNEL)?;
        let other = dma.clone();
        workqueue::system().try_spawn(GFP_KERNEL, move || {
            let _ = other.lock().write(0, 1);
        })?;
        Ok(KBox::pin(
            Self {
                _irq: irq,
                _counter: counter(pdev)?,
                _dma: dma,
                _pdev: pdev.into(),
            },
            GFP_KERNEL,
        )?)
    }
}

kernel::module_pci_driver! {
    type: Sample,
    name: "pass_bound_driver",
    license: "GPL",
}
