// SPDX-License-Identifier: GPL-2.0

#include <linux/error-injection.h>
#include <linux/pci.h>

resource_size_t rust_helper_pci_resource_len(const struct pci_dev *pdev, int bar)
{
	return pci_resource_len(pdev, bar);
}

resource_size_t rust_helper_pci_resource_start(const struct pci_dev *pdev, int bar)
{
	return pci_resource_start(pdev, bar);
}

int rust_helper_pcibios_err_to_errno(int err)
{
	return pcibios_err_to_errno(err);
}

bool rust_helper_pci_is_enabled(struct pci_dev *pdev)
{
	return pci_is_enabled(pdev);
}

/*
 * Error-injection points: the PCI abstraction calls these wrappers instead of the functions they
 * wrap, so that fail_function can fail exactly the Rust driver stack's calls, in the task of a
 * probe (see Documentation/fault-injection/fault-injection.rst).
 */
int rust_helper_ei_pci_enable_device_mem(struct pci_dev *pdev)
{
	return pci_enable_device_mem(pdev);
}
ALLOW_ERROR_INJECTION(rust_helper_ei_pci_enable_device_mem, ERRNO);

int rust_helper_ei_pci_request_region(struct pci_dev *pdev, int bar, const char *name)
{
	return pci_request_region(pdev, bar, name);
}
ALLOW_ERROR_INJECTION(rust_helper_ei_pci_request_region, ERRNO);

void __iomem *rust_helper_ei_pci_iomap(struct pci_dev *pdev, int bar, unsigned long maxlen)
{
	return pci_iomap(pdev, bar, maxlen);
}
ALLOW_ERROR_INJECTION(rust_helper_ei_pci_iomap, NULL);

int rust_helper_ei_pci_alloc_irq_vectors(struct pci_dev *pdev, unsigned int min_vecs,
					 unsigned int max_vecs, unsigned int flags,
					 struct irq_affinity *affd)
{
	return pci_alloc_irq_vectors_affinity(pdev, min_vecs, max_vecs, flags, affd);
}
ALLOW_ERROR_INJECTION(rust_helper_ei_pci_alloc_irq_vectors, ERRNO);
