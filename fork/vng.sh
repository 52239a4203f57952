# SPDX-License-Identifier: GPL-2.0
#
# Booting the built fork kernel in QEMU with virtme-ng, shared by the tools that run something in
# the guest (fork/boot, fork/bench). Sourced after lib.sh, never run.
#
# The guest runs under TCG (KVM does not work on these machines) and sees the host's root file
# system read-only over 9p: it runs the host's userland (fio, modprobe, ...) and reads the
# kernel's modules from $VNG_MODROOT in the build folder. Extra QEMU devices (e.g. -device edu)
# come from fork/guest/qemu-devices; the two NVMe controllers, which need disk images, from
# vng_nvme_devices below.

# The INSTALL_MOD_PATH the guest loads modules from, with modprobe -d.
VNG_MODROOT=$FORK_OUT/modroot

# The NVMe controllers' disk images: raw, sparse, 512 MiB (1048576 sectors of 512 B, which
# fork/guest/checks.d/nvme.sh expects), kept from boot to boot and never deleted. One pair per
# build folder, so that two kernels can boot at once (QEMU locks an image it writes).
VNG_NVME_IMAGES=$FORK_CACHE/images/$(basename "$FORK_OUT")
VNG_NVME_IMAGE_SIZE=$((512 << 20))

# vng_require: dies unless virtme-ng, QEMU and a built kernel are there.
vng_require() {
	require_tools vng qemu-system-x86_64 modprobe timeout
	[ -f "$FORK_OUT/arch/x86/boot/bzImage" ] ||
		die "no kernel at $FORK_OUT/arch/x86/boot/bzImage: build it first (make LLVM=1, or fork/setup)"
}

# vng_install_modules: installs the build's modules into $VNG_MODROOT, afresh.
vng_install_modules() {
	rm -rf "$VNG_MODROOT"
	kmake -s modules_install INSTALL_MOD_PATH="$VNG_MODROOT" >/dev/null ||
		die "modules_install into $VNG_MODROOT failed"
	vng_install_selftests
}

# vng_install_selftests: builds the user-space tests of our drivers into $VNG_MODROOT/selftests,
# against the fork's own uapi headers (searched after the system's, which have the rest): the
# edu driver's test, rbochs_test (the DRM display checks) and misc_fuzz, the device-node fuzzer
# of the reliability checks. All are ours, built from the repository as it is now (the
# materialized tree is refreshed only by a build), with the base's kselftest.h.
vng_install_selftests() {
	local t=$FORK_ROOT/tools/testing/selftests/drivers
	mkdir -p "$VNG_MODROOT/selftests"
	clang -O2 -Wall -Werror -idirafter "$FORK_ROOT/include/uapi" \
		-iquote "$FORK_SRC/tools/testing/selftests/drivers/rust_edu" -o "$VNG_MODROOT/selftests/rust_edu_test" \
		"$t/rust_edu/rust_edu_test.c" || die "building $t/rust_edu/rust_edu_test.c failed"
	clang -O2 -Wall -Werror -pthread -o "$VNG_MODROOT/selftests/misc_fuzz" "$t/misc_fuzz/misc_fuzz.c" ||
		die "building $t/misc_fuzz/misc_fuzz.c failed"
	# The DRM uapi headers of the base, unprocessed by headers_install: __user means nothing here.
	clang -O2 -Wall -Werror -D__user= -idirafter "$FORK_SRC/include/uapi" \
		-o "$VNG_MODROOT/selftests/rbochs_test" "$t/rbochs/rbochs_test.c" ||
		die "building $t/rbochs/rbochs_test.c failed"
}

# vng_nvme_devices: prints the QEMU options of the guest's two NVMe controllers (QEMU's nvme,
# PCI 1b36:0010), creating their images if they are missing:
#   serial RUSTNVME0, image rnvme0.img: behind the PCIe root port at 0000:00:18.0, for rnvme;
#   serial CNVME0,    image cnvme0.img: behind the PCIe root port at 0000:00:19.0, for the C
#                     twin, nvme.
# Both are alike (one namespace, 512 B blocks, the image's size) so that the drivers are held to
# the same device. The guest checks tell them apart by their root port, whose address is fixed
# here (vng's own devices and those of qemu-devices take the lowest free slots, 01.0 to 0c.0 on
# q35 today: slots 18 and 19 leave room for more); the firmware numbers their buses (3 and 4).
# Behind root ports, QEMU's device_del can hot-unplug them (ids nvme-rust and nvme-c), as it does
# the edu devices. discard=unmap: the guest's deallocate (DSM) punches a hole in the image, so
# that the blocks read back as zeroes, as the namespace's DLFEAT (reads of deallocated blocks
# return zeroes) says, and the image stays sparse; QEMU's default ignores discards.
vng_nvme_devices() {
	local img name serial slot chassis opts=
	mkdir -p "$VNG_NVME_IMAGES" || die "cannot create $VNG_NVME_IMAGES"
	# vng hands the QEMU options to a shell unquoted, and QEMU splits -drive at commas.
	[[ $VNG_NVME_IMAGES =~ ^[A-Za-z0-9._/+-]+$ ]] ||
		die "the NVMe image folder $VNG_NVME_IMAGES has characters QEMU options cannot carry"
	for name in rust c; do
		if [ $name = rust ]; then
			img=$VNG_NVME_IMAGES/rnvme0.img serial=RUSTNVME0 slot=0x18 chassis=3
		else
			img=$VNG_NVME_IMAGES/cnvme0.img serial=CNVME0 slot=0x19 chassis=4
		fi
		if [ ! -e "$img" ]; then
			truncate -s "$VNG_NVME_IMAGE_SIZE" "$img" || die "cannot create $img"
		elif [ "$(stat -c %s "$img")" != "$VNG_NVME_IMAGE_SIZE" ]; then
			note "resizing $img to $VNG_NVME_IMAGE_SIZE bytes (the guest checks expect that size)"
			truncate -s "$VNG_NVME_IMAGE_SIZE" "$img" || die "cannot resize $img"
		fi
		opts+=" -device pcie-root-port,id=rp$chassis,chassis=$chassis,slot=$chassis,addr=$slot"
		opts+=" -drive file=$img,if=none,id=nvme-$name-img,format=raw,discard=unmap"
		opts+=" -device nvme,id=nvme-$name,serial=$serial,drive=nvme-$name-img,bus=rp$chassis"
	done
	echo "$opts"
}

# vng_boot [--timeout SECONDS] VNG-ARG...: boots $FORK_OUT's kernel and passes VNG-ARGs on to vng
# (VNG_QEMU_EXTRA: more QEMU options)
# (--exec CMD to run a command, nothing for an interactive shell). With --timeout, QEMU is
# stopped after SECONDS and the exit code is 124, as timeout(1) does.
vng_boot() {
	local limit= qemu_devices
	if [ "${1:-}" = --timeout ]; then
		limit=${2:?vng_boot: --timeout needs a number of seconds}
		shift 2
	fi
	qemu_devices=$(sed -e 's/#.*//' "$FORK_ROOT/fork/guest/qemu-devices" | tr '\n' ' ')
	qemu_devices+=$(vng_nvme_devices) || exit 1
	qemu_devices+=${VNG_QEMU_EXTRA:+ $VNG_QEMU_EXTRA}
	# rust_edu and the PCI sample both match the edu devices, and rnvme and nvme both match the
	# NVMe controllers: udev must not load them at boot (by alias), so that the guest checks
	# decide which one binds; modprobe by name still works. The same for rbochs and bochs, which
	# both match the bochs-display devices.
	# A 4 MiB log buffer: the guest checks read the log of a long run back (see mark_log).
	local append="modprobe.blacklist=rust_edu,rust_driver_pci,rnvme,nvme,rbochs,bochs log_buf_len=4M"
	# A KASAN kernel (the debug kernel) boots with 4-level paging. With 5-level paging (QEMU's
	# -cpu max has LA57), generic KASAN in the base kernel reports a false "wild-memory-access"
	# when an interrupt comes while identify_cpu() has cleared the boot CPU's feature bits:
	# KASAN_SHADOW_START follows pgtable_l5_enabled(), which reads LA57 as off for that moment.
	# Seen in 2 of 9 boots here; reported upstream ("kasan: Fix false-positive
	# wild-memory-access on x86 under 5-level paging", June 2026).
	grep -q '^CONFIG_KASAN_GENERIC=y' "$FORK_OUT/.config" 2>/dev/null && append+=" no5lvl"
	# Hot-plug: QEMU's monitor (QMP) on a socket of the host's, and a folder the guest may write,
	# where fork/qmp-relay takes the guest's device_del and device_add requests (the guest finds
	# the folder in /proc/cmdline as fork.hotplug=).
	local hotplug qmp rc relay
	hotplug=$(mktemp -d /tmp/fork-hotplug.XXXXXX) && qmp=$(mktemp -d /tmp/fork-qmp.XXXXXX) ||
		die "mktemp failed"
	qemu_devices+=" -qmp unix:$qmp/sock,server=on,wait=off"
	append+=" fork.hotplug=$hotplug"
	python3 "$FORK_ROOT/fork/qmp-relay" "$qmp/sock" "$hotplug" &
	relay=$!
	local vng_args=(--disable-kvm --disable-microvm --force-9p --cpus 2 --memory 1G --verbose
		--run "$FORK_OUT" --cwd / --rwdir "$hotplug" --qemu-opts "$qemu_devices" --append "$append")
	if [ -n "$limit" ]; then
		# --foreground: vng and QEMU keep the terminal (and get its signals) under timeout.
		timeout --foreground "$limit" vng "${vng_args[@]}" "$@"
	else
		vng "${vng_args[@]}" "$@"
	fi
	rc=$?
	kill "$relay" 2>/dev/null
	wait "$relay" 2>/dev/null
	# The screens the guest had QEMU dump as PNG (the DRM checks' console shots) are kept.
	if compgen -G "$hotplug/*.png" >/dev/null; then
		rm -rf "$FORK_OUT/screens" && mkdir -p "$FORK_OUT/screens" &&
			find "$hotplug" -maxdepth 1 -name '*.png' -type f -exec cp {} "$FORK_OUT/screens/" \;
	fi
	rm -rf "$hotplug" "$qmp"
	return $rc
}

# vng_log_problems LOG: prints (up to 20 of) the console log's lines that show an oops, BUG,
# WARN, KASAN, UBSAN, lockdep or DMA-API report, call trace or panic
# (fork/guest/splat-patterns). The guest scripts' own lines ("# ..."
# diagnostics, BENCH records) are not kernel messages and are left out.
vng_log_problems() {
	grep -E "$(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$FORK_ROOT/fork/guest/splat-patterns" |
		paste -s -d '|')" "$1" |
		grep -v -e '^# ' -e '^BENCH' | head -20
}
