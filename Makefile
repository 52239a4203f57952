# SPDX-License-Identifier: GPL-2.0
#
# linux-rust-lts works like a kernel tree: every target and variable given here is passed on to
# the kernel's own Makefile, run on the materialized tree (the pinned base plus the series, see
# fork/materialize) with the build output outside the clone:
#
#   make LLVM=1 menuconfig       configure (seeded with the fork's configuration)
#   make LLVM=1 -j2              build
#   make LLVM=1 rust-analyzer    rust-project.json for editors, linked into the clone
#   make LLVM=1 defconfig rust-lts.config, rustfmtcheck, CLIPPY=1, rustdoc, ...
#
# LLVM=1 finds Debian's LLVM 19 (/usr/lib/llvm-19/bin); rustc comes from rust-toolchain.toml.
# BUILD=name selects another build folder (default: rust-lts) for a second configuration.
# TOOLCHAIN=name builds with another toolchain of fork/toolchains.conf (minimum, stable,
# nightly; install it once with fork/toolchains NAME), in its own folder (tc-NAME).
# KERNEL=debug builds the debug kernel the tests run on (fork/debug.config: KASAN, lockdep,
# fault injection, ...), in its own folder (debug).

FORK_ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
export FORK_TOOLCHAIN := $(TOOLCHAIN)
export FORK_KERNEL := $(KERNEL)
export FORK_CONFIG_NAME := $(or $(BUILD),$(if $(filter-out pin,$(TOOLCHAIN)),tc-$(TOOLCHAIN)),$(if $(filter debug,$(KERNEL)),debug),rust-lts)
$(foreach line,$(shell FORK_CONFIG_NAME=$(FORK_CONFIG_NAME) FORK_TOOLCHAIN=$(TOOLCHAIN) FORK_KERNEL=$(KERNEL) \
	$(FORK_ROOT)/fork/env),$(eval $(line)))
export PATH RUSTUP_TOOLCHAIN
LLVM ?= 1
export LLVM

# Our goals run one after the other, like mixed config and build goals in the kernel.
.NOTPARALLEL:
MAKEFLAGS += --no-print-directory

# Goals that make a configuration from scratch, or need none; all others start from the
# fork's configuration when the build folder has none yet.
no_seed := %config %_defconfig %.config defconfig mrproper distclean clean help \
	kernelversion kernelrelease rustavailable
seed := $(if $(filter-out $(no_seed),$(or $(MAKECMDGOALS),all)),seed)
seed := $(if $(filter menuconfig nconfig xconfig gconfig oldconfig olddefconfig,$(MAKECMDGOALS)),seed,$(seed))

.PHONY: __all __tree __seed FORCE
__all: all

__tree:
	@$(FORK_ROOT)/fork/materialize --quiet >/dev/null
	@mkdir -p $(FORK_OUT)

__seed: __tree
	@$(if $(seed),test -f $(FORK_OUT)/.config || $(FORK_ROOT)/fork/kconfig,true)

Makefile $(FORK_ROOT)/Makefile: ;

rust-analyzer: __seed FORCE
	$(MAKE) -C $(FORK_SRC) O=$(FORK_OUT) $@
	@ln -sf $(FORK_OUT)/rust-project.json $(FORK_ROOT)/rust-project.json
	@echo "rust-project.json: $(FORK_OUT)/rust-project.json (linked into the clone)"

%:: __seed FORCE
	$(MAKE) -C $(FORK_SRC) O=$(FORK_OUT) $@

FORCE:
