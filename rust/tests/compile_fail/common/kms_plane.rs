// SPDX-License-Identifier: GPL-2.0

// `P`'s plane callbacks, none of its own (`//! with: kms_plane`, after `kms`).

#[kernel::prelude::vtable]
impl kernel::drm::kms::PlaneFuncs for P {
    type Driver = Drv;
}
