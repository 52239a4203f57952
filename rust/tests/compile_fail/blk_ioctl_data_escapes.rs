// SPDX-License-Identifier: GPL-2.0

//! The queue data an ioctl borrows cannot outlive the call: dropping the disk reclaims it once
//! the ioctls that run are done, so a driver that kept the borrow would use freed memory.
//!
//! compile_fail: E0521
//! expect: borrowed data escapes outside of associated function

use core::cell::Cell;
use kernel::{
    block::mq::{ioctl::Ioctl, Operations, Request, TagSet},
    prelude::*,
    sync::{Arc, ArcBorrow},
    types::ARef,
};

pub struct Namespace;
pub struct Driver;

pub struct Kept(Cell<Option<ArcBorrow<'static, Namespace>>>);
// SAFETY: Not used from several threads; only there to hold the escaping borrow.
unsafe impl Sync for Kept {}
pub static KEPT: Kept = Kept(Cell::new(None));

#[vtable]
impl Operations for Driver {
    type TagSetData = Arc<Namespace>;
    type HwData = Arc<Namespace>;
    type QueueData = Arc<Namespace>;
    type RequestData = ();

    fn init_hctx(data: ArcBorrow<'_, Namespace>, _index: u32) -> Result<Arc<Namespace>> {
        Ok(data.into())
    }

    fn init_request(_set: &TagSet<Self>, _hctx: u32, _node: u32) -> impl PinInit<(), Error> {
        kernel::init::zeroed()
    }

    fn queue_rq(_hw: ArcBorrow<'_, Namespace>, rq: ARef<Request<Self>>, _last: bool) -> Result {
        let _ = Request::end_ok(rq);
        Ok(())
    }

    fn ioctl(ns: ArcBorrow<'_, Namespace>, _ioctl: &Ioctl) -> Result<i32> {
        KEPT.0.set(Some(ns));
        Ok(0)
    }
}
