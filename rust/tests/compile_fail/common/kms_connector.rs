// SPDX-License-Identifier: GPL-2.0

// `K`'s connector callbacks: the no-EDID modes (`//! with: kms_connector`, after `kms`).

#[kernel::prelude::vtable]
impl kernel::drm::kms::ConnectorFuncs for K {
    type Driver = Drv;

    fn get_modes(
        _c: &kernel::drm::kms::Connector<Self>,
        probe: &mut kernel::drm::kms::ModeProbe<'_>,
    ) -> u32 {
        probe.add_modes_noedid(1024, 768)
    }
}
