// SPDX-License-Identifier: GPL-2.0

//! Logging with the name of a device.
//!
//! The `dev_*!` macros print like the `pr_*!` macros, prefixed with the driver and device name
//! (`edu 0000:00:04.0: ...`), through the C `dev_printk()` machinery.
//!
//! C header: [`include/linux/dev_printk.h`](srctree/include/linux/dev_printk.h)

use super::Device;
use crate::bindings;
use core::{ffi::c_void, fmt};

impl Device {
    /// Prints a message at `klevel` (a `KERN_*` string) with this device's name.
    fn printk(&self, klevel: &[u8], msg: fmt::Arguments<'_>) {
        // `msg` is unused if `CONFIG_PRINTK` is not set.
        #[cfg(not(CONFIG_PRINTK))]
        let _ = (klevel, msg);

        #[cfg(CONFIG_PRINTK)]
        // SAFETY: `klevel` is a NUL-terminated `KERN_*` level, the format string is a
        // NUL-terminated string whose `%pA` takes a pointer to `fmt::Arguments`, and `self` is a
        // valid device.
        unsafe {
            bindings::_dev_printk(
                klevel.as_ptr().cast(),
                self.as_raw(),
                c"%pA".as_ptr().cast(),
                core::ptr::from_ref(&msg).cast::<c_void>(),
            )
        };
    }

    /// Prints an emergency-level message (level 0) prefixed with the device name.
    ///
    /// Prefer the [`dev_emerg!`](crate::dev_emerg) macro.
    pub fn pr_emerg(&self, args: fmt::Arguments<'_>) {
        self.printk(bindings::KERN_EMERG, args);
    }

    /// Prints an alert-level message (level 1) prefixed with the device name.
    ///
    /// Prefer the [`dev_alert!`](crate::dev_alert) macro.
    pub fn pr_alert(&self, args: fmt::Arguments<'_>) {
        self.printk(bindings::KERN_ALERT, args);
    }

    /// Prints a critical-level message (level 2) prefixed with the device name.
    ///
    /// Prefer the [`dev_crit!`](crate::dev_crit) macro.
    pub fn pr_crit(&self, args: fmt::Arguments<'_>) {
        self.printk(bindings::KERN_CRIT, args);
    }

    /// Prints an error-level message (level 3) prefixed with the device name.
    ///
    /// Prefer the [`dev_err!`](crate::dev_err) macro.
    pub fn pr_err(&self, args: fmt::Arguments<'_>) {
        self.printk(bindings::KERN_ERR, args);
    }

    /// Prints a warning-level message (level 4) prefixed with the device name.
    ///
    /// Prefer the [`dev_warn!`](crate::dev_warn) macro.
    pub fn pr_warn(&self, args: fmt::Arguments<'_>) {
        self.printk(bindings::KERN_WARNING, args);
    }

    /// Prints a notice-level message (level 5) prefixed with the device name.
    ///
    /// Prefer the [`dev_notice!`](crate::dev_notice) macro.
    pub fn pr_notice(&self, args: fmt::Arguments<'_>) {
        self.printk(bindings::KERN_NOTICE, args);
    }

    /// Prints an info-level message (level 6) prefixed with the device name.
    ///
    /// Prefer the [`dev_info!`](crate::dev_info) macro.
    pub fn pr_info(&self, args: fmt::Arguments<'_>) {
        self.printk(bindings::KERN_INFO, args);
    }

    /// Prints a debug-level message (level 7) prefixed with the device name.
    ///
    /// Printed only when debug assertions are enabled (`CONFIG_RUST_DEBUG_ASSERTIONS`), like
    /// [`pr_debug!`](crate::pr_debug), and then on every call: never on a path that user space
    /// can take at will (a bad ioctl number, say), where any user could flood the log; use a
    /// `*_ratelimited!` macro or nothing there. Prefer the [`dev_dbg!`](crate::dev_dbg) macro.
    pub fn pr_dbg(&self, args: fmt::Arguments<'_>) {
        if cfg!(debug_assertions) {
            self.printk(bindings::KERN_DEBUG, args);
        }
    }
}

/// Prints a message with `method` (one of the [`Device`] `pr_*` methods) and the name of `dev`.
///
/// Public but hidden: use `dev_err!`, `dev_info!` and the other `dev_*!` macros. `dev` is a
/// [`Device`] or anything that dereferences to one; the rest are [`core::format_args!`] arguments.
#[doc(hidden)]
#[macro_export]
macro_rules! dev_printk {
    ($method:ident, $dev:expr, $($f:tt)*) => {
        $crate::device::Device::$method(&*$dev, ::core::format_args!($($f)*))
    };
}

/// Prints an emergency-level message (level 0) prefixed with the device name.
///
/// Takes a [`Device`] (or anything that dereferences to one) and [`core::format_args!`]
/// arguments.
#[macro_export]
macro_rules! dev_emerg {
    ($($arg:tt)*) => {
        $crate::dev_printk!(pr_emerg, $($arg)*)
    };
}

/// Prints an alert-level message (level 1) prefixed with the device name.
///
/// Takes a [`Device`] (or anything that dereferences to one) and [`core::format_args!`]
/// arguments.
#[macro_export]
macro_rules! dev_alert {
    ($($arg:tt)*) => {
        $crate::dev_printk!(pr_alert, $($arg)*)
    };
}

/// Prints a critical-level message (level 2) prefixed with the device name.
///
/// Takes a [`Device`] (or anything that dereferences to one) and [`core::format_args!`]
/// arguments.
#[macro_export]
macro_rules! dev_crit {
    ($($arg:tt)*) => {
        $crate::dev_printk!(pr_crit, $($arg)*)
    };
}

/// Prints an error-level message (level 3) prefixed with the device name.
///
/// Takes a [`Device`] (or anything that dereferences to one) and [`core::format_args!`]
/// arguments.
///
/// # Examples
///
/// ```no_run
/// # use kernel::device::Device;
/// fn report(dev: &Device, status: u32) {
///     dev_err!(dev, "bad status {:#x}\n", status);
/// }
/// ```
#[macro_export]
macro_rules! dev_err {
    ($($arg:tt)*) => {
        $crate::dev_printk!(pr_err, $($arg)*)
    };
}

/// Prints a warning-level message (level 4) prefixed with the device name.
///
/// Takes a [`Device`] (or anything that dereferences to one) and [`core::format_args!`]
/// arguments.
#[macro_export]
macro_rules! dev_warn {
    ($($arg:tt)*) => {
        $crate::dev_printk!(pr_warn, $($arg)*)
    };
}

/// Prints a notice-level message (level 5) prefixed with the device name.
///
/// Takes a [`Device`] (or anything that dereferences to one) and [`core::format_args!`]
/// arguments.
#[macro_export]
macro_rules! dev_notice {
    ($($arg:tt)*) => {
        $crate::dev_printk!(pr_notice, $($arg)*)
    };
}

/// Prints an info-level message (level 6) prefixed with the device name.
///
/// Takes a [`Device`] (or anything that dereferences to one) and [`core::format_args!`]
/// arguments.
///
/// # Examples
///
/// ```no_run
/// # use kernel::device::Device;
/// fn probed(dev: &Device, version: (u8, u8)) {
///     dev_info!(dev, "version {}.{}\n", version.0, version.1);
/// }
/// ```
#[macro_export]
macro_rules! dev_info {
    ($($arg:tt)*) => {
        $crate::dev_printk!(pr_info, $($arg)*)
    };
}

/// Prints a debug-level message (level 7) prefixed with the device name.
///
/// Takes a [`Device`] (or anything that dereferences to one) and [`core::format_args!`]
/// arguments. Printed on every call where debug assertions are on: not for paths that user
/// space can take at will (see [`Device::pr_dbg`]).
#[macro_export]
macro_rules! dev_dbg {
    ($($arg:tt)*) => {
        $crate::dev_printk!(pr_dbg, $($arg)*)
    };
}
