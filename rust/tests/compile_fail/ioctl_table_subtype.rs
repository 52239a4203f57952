// SPDX-License-Identifier: GPL-2.0

//! `Desc<T>` is invariant in `T`: two driver types of which one is a subtype of the other
//! (`L<for<'a> fn(&'a ())>` and `L<fn(&'static ())>`, which coherence lets implement `Driver`
//! differently) cannot share a table, whose handlers would take one's device for the other's.
//!
//! compile_fail: E0308
//! expect: mismatched types

#![allow(coherence_leak_check)]

use kernel::{
    drm::{self, ioctl::Flags},
    prelude::*,
};

const DRV_INFO: drm::DriverInfo = drm::DriverInfo {
    major: 1,
    minor: 0,
    patchlevel: 0,
    name: kernel::c_str!("cf"),
    desc: kernel::c_str!("compile-fail case"),
    date: kernel::c_str!("20261204"),
};

pub struct L<T>(core::marker::PhantomData<T>);

/// The subtype.
type A = L<for<'a> fn(&'a ())>;
/// The supertype.
type B = L<fn(&'static ())>;

pub struct AFile;
pub struct BFile(u64);

impl drm::DriverFile for AFile {
    type Driver = A;

    fn open(_dev: &drm::Device<A>) -> Result<Pin<KBox<Self>>> {
        Ok(KBox::pin(AFile, GFP_KERNEL)?)
    }
}

impl drm::DriverFile for BFile {
    type Driver = B;

    fn open(_dev: &drm::Device<B>) -> Result<Pin<KBox<Self>>> {
        Ok(KBox::pin(BFile(0), GFP_KERNEL)?)
    }
}

fn handle(_: &drm::Device<A>, _: &mut u64, _: &drm::File<AFile>) -> Result {
    Ok(())
}

impl drm::Driver for A {
    type Data = ();
    type File = AFile;
    const INFO: drm::DriverInfo = DRV_INFO;
    const OWNER: &'static kernel::ThisModule = &THIS_MODULE;
    const IOCTLS: &'static [drm::ioctl::Desc<Self>] = kernel::drm_ioctls!(A;
        (CF_A, 0, ReadWrite, u64, handle, Flags::NONE),
    );
}

impl drm::Driver for B {
    type Data = u64;
    type File = BFile;
    const INFO: drm::DriverInfo = DRV_INFO;
    const OWNER: &'static kernel::ThisModule = &THIS_MODULE;
    const IOCTLS: &'static [drm::ioctl::Desc<Self>] = <A as drm::Driver>::IOCTLS;
}
