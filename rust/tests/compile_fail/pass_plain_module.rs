// SPDX-License-Identifier: GPL-2.0

//! Positive control: the smallest module the harness wraps, with the safe counterparts of the
//! failing cases (a `Devres` guard dropped in time, a bound device's reference count taken in
//! the `Normal` state).
//!
//! compile_pass

use kernel::{
    device::{Bound, Device},
    devres::Devres,
    prelude::*,
    types::ARef,
};

fn read(res: &Devres<u32>) -> Result<u32> {
    let value = *res.try_access().ok_or(ENXIO)?;
    Ok(value)
}

fn keep(dev: &Device<Bound>) -> ARef<Device> {
    dev.into()
}
