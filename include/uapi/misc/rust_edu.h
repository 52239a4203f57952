/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * User interface of the Rust driver for QEMU's edu PCI device (drivers/misc/rust_edu).
 *
 * Each bound device is a misc device /dev/rust-eduN. read() and write() move data between
 * user memory and the device's DMA buffer through the device's DMA engine, at the file
 * position; lseek() moves within the buffer. The ioctls below use the device's other units.
 */
#ifndef _UAPI_MISC_RUST_EDU_H
#define _UAPI_MISC_RUST_EDU_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * Size of the device buffer that read() and write() reach. The device has 4096 bytes, but
 * QEMU's edu before version 8.0 stops the whole virtual machine on a DMA transfer that reaches
 * the last one (an off-by-one in its range check), so the driver leaves that byte out.
 */
#define RUST_EDU_BUF_SIZE	4095

/**
 * struct rust_edu_factorial - a factorial computed by the device
 * @n: input
 * @result: output: n! modulo 2^32
 */
struct rust_edu_factorial {
	__u32 n;
	__u32 result;
};

/**
 * struct rust_edu_info - device information
 * @id: identification register (0xRRrr00ed for version RR.rr)
 * @irqs: interrupts handled since the device was bound
 * @buf_size: size of the device buffer in bytes
 * @dma_bits: width of the DMA mask in bits
 */
struct rust_edu_info {
	__u32 id;
	__u32 irqs;
	__u32 buf_size;
	__u32 dma_bits;
};

#define RUST_EDU_IOC_MAGIC	0xED

/* Compute n! with the device's factorial unit; completes by interrupt. */
#define RUST_EDU_IOC_FACTORIAL	_IOWR(RUST_EDU_IOC_MAGIC, 0x01, struct rust_edu_factorial)
/* Read device information. */
#define RUST_EDU_IOC_INFO	_IOR(RUST_EDU_IOC_MAGIC, 0x02, struct rust_edu_info)

#endif /* _UAPI_MISC_RUST_EDU_H */
