// SPDX-License-Identifier: GPL-2.0

//! The `&Device<Core>` a bus hands to `probe` cannot be kept past the call.
//!
//! compile_fail: lifetime
//! expect: lifetime may not live long enough

use kernel::pci;

fn keep(dev: &pci::Device<pci::Core>) -> &'static pci::Device<pci::Core> {
    dev
}
