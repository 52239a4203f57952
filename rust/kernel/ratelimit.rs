// SPDX-License-Identifier: GPL-2.0

//! Rate-limited logging, for messages that someone else (user space, a device) can trigger.
//!
//! `pr_err_ratelimited!` and `dev_err_ratelimited!` (and the other levels) print like `pr_err!`
//! and `dev_err!`, but each call site prints at most [`BURST`] messages in [`INTERVAL_MS`]
//! milliseconds, the defaults of C's `printk_ratelimited()`; when a new period starts, one line
//! says how many were suppressed. Use them, or the debug level, for anything a user can cause:
//! a user must not be able to flood the kernel log.
//!
//! C header: [`include/linux/ratelimit.h`](srctree/include/linux/ratelimit.h)

use crate::time::Ktime;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// The length of a rate-limiting period (`DEFAULT_RATELIMIT_INTERVAL`, 5 s).
pub const INTERVAL_MS: usize = 5000;

/// How many messages a call site may print in one period (`DEFAULT_RATELIMIT_BURST`).
pub const BURST: u32 = 10;

/// The state of one rate-limited call site.
///
/// Lock-free, so it may be used in any context, interrupts included. Concurrent callers at the
/// start of a period may let a message or two more through than [`BURST`], never fewer.
///
/// # Examples
///
/// ```
/// use kernel::ratelimit::{Ratelimit, BURST};
///
/// static LIMIT: Ratelimit = Ratelimit::new();
///
/// let allowed = (0..3 * BURST).filter(|_| LIMIT.check().is_some()).count();
/// assert_eq!(allowed, BURST as usize);
/// ```
pub struct Ratelimit {
    /// When the current period began, in milliseconds of `ktime_get()`, plus one (0: never).
    begin: AtomicUsize,
    printed: AtomicU32,
    missed: AtomicU32,
}

impl Ratelimit {
    /// Creates the state of a call site that has not printed yet.
    pub const fn new() -> Self {
        Self {
            begin: AtomicUsize::new(0),
            printed: AtomicU32::new(0),
            missed: AtomicU32::new(0),
        }
    }

    /// Returns whether a message may be printed now: `Some(n)` if so, where `n` messages were
    /// suppressed since the last one printed, or `None` if this one is suppressed.
    pub fn check(&self) -> Option<u32> {
        // CAST: Milliseconds since boot; a wrap-around (on 32-bit, after 49 days) only starts a
        // period early.
        let now = (Ktime::ktime_get().to_ms() as usize).wrapping_add(1);
        let begin = self.begin.load(Ordering::Relaxed);
        let mut missed = 0;
        if (begin == 0 || now.wrapping_sub(begin) >= INTERVAL_MS)
            && self
                .begin
                .compare_exchange(begin, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.printed.store(0, Ordering::Relaxed);
            missed = self.missed.swap(0, Ordering::Relaxed);
        }
        if self.printed.load(Ordering::Relaxed) < BURST
            && self.printed.fetch_add(1, Ordering::Relaxed) < BURST
        {
            Some(missed)
        } else {
            self.missed.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

impl Default for Ratelimit {
    fn default() -> Self {
        Self::new()
    }
}

/// Prints with `$print` (a `pr_*!` or `dev_*!` macro of this crate) if the call site's rate
/// limit allows it. Public but hidden: use the `*_ratelimited!` macros.
#[doc(hidden)]
#[macro_export]
macro_rules! print_ratelimited {
    ($print:ident, $($arg:tt)*) => {{
        static LIMIT: $crate::ratelimit::Ratelimit = $crate::ratelimit::Ratelimit::new();
        if let ::core::option::Option::Some(missed) = LIMIT.check() {
            if missed > 0 {
                $crate::pr_notice!(
                    "{} messages suppressed at {}:{}\n",
                    missed,
                    ::core::file!(),
                    ::core::line!()
                );
            }
            $crate::$print!($($arg)*);
        }
    }};
}

/// Prints an error-level message, rate-limited per call site (`pr_err_ratelimited()`).
///
/// # Examples
///
/// ```
/// fn bad_request(len: usize) {
///     pr_err_ratelimited!("request of {} bytes refused\n", len);
/// }
/// # for len in 0..20 { bad_request(len); }
/// ```
#[macro_export]
macro_rules! pr_err_ratelimited {
    ($($arg:tt)*) => { $crate::print_ratelimited!(pr_err, $($arg)*) };
}

/// Prints a warning-level message, rate-limited per call site (`pr_warn_ratelimited()`).
#[macro_export]
macro_rules! pr_warn_ratelimited {
    ($($arg:tt)*) => { $crate::print_ratelimited!(pr_warn, $($arg)*) };
}

/// Prints a notice-level message, rate-limited per call site (`pr_notice_ratelimited()`).
#[macro_export]
macro_rules! pr_notice_ratelimited {
    ($($arg:tt)*) => { $crate::print_ratelimited!(pr_notice, $($arg)*) };
}

/// Prints an info-level message, rate-limited per call site (`pr_info_ratelimited()`).
#[macro_export]
macro_rules! pr_info_ratelimited {
    ($($arg:tt)*) => { $crate::print_ratelimited!(pr_info, $($arg)*) };
}

/// Prints an error-level message with the device's name, rate-limited per call site
/// (`dev_err_ratelimited()`).
///
/// Takes a [`Device`](crate::device::Device) (or anything that dereferences to one) and
/// [`core::format_args!`] arguments.
///
/// # Examples
///
/// ```no_run
/// # use kernel::device::Device;
/// fn bad_ioctl(dev: &Device, cmd: u32) {
///     dev_err_ratelimited!(dev, "unknown ioctl {:#x}\n", cmd);
/// }
/// ```
#[macro_export]
macro_rules! dev_err_ratelimited {
    ($($arg:tt)*) => { $crate::print_ratelimited!(dev_err, $($arg)*) };
}

/// Prints a warning-level message with the device's name, rate-limited per call site
/// (`dev_warn_ratelimited()`).
#[macro_export]
macro_rules! dev_warn_ratelimited {
    ($($arg:tt)*) => { $crate::print_ratelimited!(dev_warn, $($arg)*) };
}

/// Prints a notice-level message with the device's name, rate-limited per call site
/// (`dev_notice_ratelimited()`).
#[macro_export]
macro_rules! dev_notice_ratelimited {
    ($($arg:tt)*) => { $crate::print_ratelimited!(dev_notice, $($arg)*) };
}

/// Prints an info-level message with the device's name, rate-limited per call site
/// (`dev_info_ratelimited()`).
#[macro_export]
macro_rules! dev_info_ratelimited {
    ($($arg:tt)*) => { $crate::print_ratelimited!(dev_info, $($arg)*) };
}
