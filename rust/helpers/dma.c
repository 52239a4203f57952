// SPDX-License-Identifier: GPL-2.0

#include <linux/dma-mapping.h>
#include <linux/dmapool.h>
#include <linux/error-injection.h>

/*
 * Error-injection points: the DMA abstraction calls these wrappers instead of the functions they
 * wrap, so that fail_function can fail exactly the Rust driver stack's calls (see
 * Documentation/fault-injection/fault-injection.rst).
 */
int rust_helper_ei_dma_set_mask(struct device *dev, u64 mask)
{
	return dma_set_mask(dev, mask);
}
ALLOW_ERROR_INJECTION(rust_helper_ei_dma_set_mask, ERRNO);

int rust_helper_ei_dma_set_coherent_mask(struct device *dev, u64 mask)
{
	return dma_set_coherent_mask(dev, mask);
}
ALLOW_ERROR_INJECTION(rust_helper_ei_dma_set_coherent_mask, ERRNO);

void *rust_helper_ei_dma_alloc_attrs(struct device *dev, size_t size, dma_addr_t *dma_handle,
				     gfp_t flag, unsigned long attrs)
{
	return dma_alloc_attrs(dev, size, dma_handle, flag, attrs);
}
ALLOW_ERROR_INJECTION(rust_helper_ei_dma_alloc_attrs, NULL);

void *rust_helper_ei_dma_pool_alloc(struct dma_pool *pool, gfp_t mem_flags, dma_addr_t *handle)
{
	return dma_pool_alloc(pool, mem_flags, handle);
}
ALLOW_ERROR_INJECTION(rust_helper_ei_dma_pool_alloc, NULL);

/* dma_set_max_seg_size() warns about a device without DMA parameters: refuse it here. */
int rust_helper_dma_set_max_seg_size(struct device *dev, unsigned int size)
{
	if (!dev->dma_parms)
		return -EIO;
	dma_set_max_seg_size(dev, size);
	return 0;
}

/*
 * The barriers of asm/barrier.h, which are macros. What each orders is the caller's to say:
 * see kernel::dma::{mb, dma_rmb, dma_wmb}.
 */
void rust_helper_mb(void)
{
	mb(); /* all earlier reads and writes before all later ones, as devices see them */
}

void rust_helper_dma_rmb(void)
{
	dma_rmb(); /* earlier reads of coherent memory before later ones */
}

void rust_helper_dma_wmb(void)
{
	dma_wmb(); /* earlier writes to coherent memory before later ones */
}
