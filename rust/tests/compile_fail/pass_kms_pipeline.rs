// SPDX-License-Identifier: GPL-2.0

//! A positive control for the KMS cases: the same pipeline, built correctly, compiles.
//!
//! compile_pass
//! with: drm
//! with: kms
//! with: kms_plane
//! with: kms_connector

use kernel::{
    drm::{self, kms::Setup},
    prelude::*,
};

pub fn build(drm: &drm::Device<Drv>) -> Result {
    let setup = Setup::new(drm, &INFO)?;
    let plane = setup.primary_plane::<P>(&FORMATS)?;
    let crtc = setup.crtc::<C, _>(plane)?;
    let encoder = setup.encoder(drm::kms::EncoderType::Virtual, crtc)?;
    setup.connector::<K>(drm::kms::ConnectorType::Virtual, encoder)?;
    setup.finish()
}
