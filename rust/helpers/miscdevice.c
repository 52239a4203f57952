// SPDX-License-Identifier: GPL-2.0

#include <linux/error-injection.h>
#include <linux/miscdevice.h>

/*
 * An error-injection point: the misc device abstraction registers through this wrapper, so that
 * fail_function can fail exactly the Rust drivers' registrations (see
 * Documentation/fault-injection/fault-injection.rst).
 */
int rust_helper_ei_misc_register(struct miscdevice *misc)
{
	return misc_register(misc);
}
ALLOW_ERROR_INJECTION(rust_helper_ei_misc_register, ERRNO);
