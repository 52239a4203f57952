// SPDX-License-Identifier: GPL-2.0

//! A block request cannot be ended twice: ending it consumes the driver's reference, and the
//! block layer may reuse the request at once.
//!
//! compile_fail: E0382
//! expect: use of moved value: `rq`

use kernel::{
    block::mq::{Operations, Request},
    types::ARef,
};

pub fn finish<T: Operations>(rq: ARef<Request<T>>) {
    let _ = Request::end_ok(rq);
    let _ = Request::end_ok(rq);
}
