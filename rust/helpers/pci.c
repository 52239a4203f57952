// SPDX-License-Identifier: GPL-2.0

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
