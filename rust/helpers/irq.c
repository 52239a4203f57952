// SPDX-License-Identifier: GPL-2.0

#include <linux/error-injection.h>
#include <linux/interrupt.h>

/*
 * Both are error-injection points: fail_function can fail the Rust interrupt abstraction's
 * requests (see Documentation/fault-injection/fault-injection.rst). request_irq() is inline in C;
 * request_threaded_irq() gets a wrapper of its own so that only the Rust callers fail.
 */
int rust_helper_request_irq(unsigned int irq, irq_handler_t handler, unsigned long flags,
			    const char *name, void *dev)
{
	return request_irq(irq, handler, flags, name, dev);
}
ALLOW_ERROR_INJECTION(rust_helper_request_irq, ERRNO);

int rust_helper_ei_request_threaded_irq(unsigned int irq, irq_handler_t handler,
					irq_handler_t thread_fn, unsigned long flags,
					const char *name, void *dev)
{
	return request_threaded_irq(irq, handler, thread_fn, flags, name, dev);
}
ALLOW_ERROR_INJECTION(rust_helper_ei_request_threaded_irq, ERRNO);

unsigned long rust_helper_local_irq_save(void)
{
	unsigned long flags;

	local_irq_save(flags);
	return flags;
}

void rust_helper_local_irq_restore(unsigned long flags)
{
	local_irq_restore(flags);
}
