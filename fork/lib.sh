# SPDX-License-Identifier: GPL-2.0
#
# Shared definitions for the linux-rust-lts tooling. Sourced, never run.
#
# Everything heavy (the unpacked base, the materialized tree, build output, the Python tools)
# lives below $FORK_CACHE, outside the clone, so that a fresh clone on the same machine builds
# incrementally.

set -o pipefail

FORK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FORK_CACHE=${LINUX_RUST_LTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/linux-rust-lts}

# The pin. FORK_BASE_FILE points elsewhere only in the tooling's own tests.
# shellcheck source=../BASE
. "${FORK_BASE_FILE:-$FORK_ROOT/BASE}"

# A file-system and make friendly key for the pinned base ("6.12.117-1~deb12u1" has a '~').
BASE_KEY=${BASE_VERSION//[^A-Za-z0-9.+-]/_}
FORK_SRC=$FORK_CACHE/src/$BASE_KEY

# FORK_TOOLCHAIN=NAME builds with toolchain NAME of fork/toolchains.conf (which fork/toolchains
# NAME installs), in a build folder of its own, tc-NAME: make LLVM=1 TOOLCHAIN=nightly does it.
if [ -n "${FORK_TOOLCHAIN:-}" ]; then
	read -r _ fork_tc fork_bg _ < <(sed 's/#.*//' "$FORK_ROOT/fork/toolchains.conf" |
		awk -v n="$FORK_TOOLCHAIN" '$1 == n')
	if [ -z "${fork_bg:-}" ]; then
		printf 'error: no toolchain %s in fork/toolchains.conf\n' "$FORK_TOOLCHAIN" >&2
		exit 1
	fi
	if [ "$fork_tc" != pin ]; then
		FORK_RUSTUP_TOOLCHAIN=${FORK_RUSTUP_TOOLCHAIN:-$fork_tc}
		FORK_CONFIG_NAME=${FORK_CONFIG_NAME:-tc-$FORK_TOOLCHAIN}
	fi
	FORK_BINDGEN_BIN=${FORK_BINDGEN_BIN:-$FORK_CACHE/bindgen/$fork_bg/bin}
fi
# FORK_KERNEL=debug is the debug kernel the tests run on: fork/debug.config on top of the
# fragment, in the build folder "debug" (make LLVM=1 KERNEL=debug; fork/kconfig applies it).
FORK_EXTRA_FRAGMENTS=()
case ${FORK_KERNEL:-} in
"" | test) ;;
debug)
	FORK_CONFIG_NAME=${FORK_CONFIG_NAME:-debug}
	FORK_EXTRA_FRAGMENTS=("$FORK_ROOT/fork/debug.config")
	;;
*)
	printf 'error: FORK_KERNEL (KERNEL=) is "test" or "debug", not "%s"\n' "$FORK_KERNEL" >&2
	exit 1
	;;
esac
FORK_CONFIG_NAME=${FORK_CONFIG_NAME:-rust-lts}
FORK_OUT=${FORK_OUT:-$FORK_CACHE/build/$BASE_KEY/$FORK_CONFIG_NAME}
FORK_VENV=$FORK_CACHE/venv
FORK_FRAGMENT=$FORK_ROOT/kernel/configs/rust-lts.config
FORK_KUNITCONFIG=$FORK_ROOT/kernel/configs/rust-lts.kunitconfig
LLVM_BIN=/usr/lib/llvm-19/bin

# The toolchain the fork is pinned to: Debian's LLVM 19 under the names Kbuild's LLVM=1 expects,
# the rustc named by rust-toolchain.toml, and cargo-installed bindgen. fork/toolchains builds
# with others: FORK_RUSTUP_TOOLCHAIN names the rustup toolchain instead, and FORK_BINDGEN_BIN a
# folder whose bindgen comes first.
RUSTUP_TOOLCHAIN=${FORK_RUSTUP_TOOLCHAIN:-$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$FORK_ROOT/rust-toolchain.toml")}
export RUSTUP_TOOLCHAIN
export PATH="${FORK_BINDGEN_BIN:+$FORK_BINDGEN_BIN:}$LLVM_BIN:$HOME/.cargo/bin:$FORK_VENV/bin:$PATH:/usr/sbin:/sbin"

JOBS=${JOBS:-$(nproc)}

die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

note() {
	printf '==> %s\n' "$*" >&2
}

# kmake TARGET... : runs the kernel's make on the materialized tree with the fork's output folder.
kmake() {
	make -C "$FORK_SRC" O="$FORK_OUT" LLVM=1 -j"$JOBS" "$@"
}

# The identity that signs the series and the materialized commits: the runner's own git config.
git_identity() {
	local name email
	name=$(git -C "$FORK_ROOT" config user.name) || true
	email=$(git -C "$FORK_ROOT" config user.email) || true
	[ -n "$name" ] && [ -n "$email" ] ||
		die "git user.name/user.email are not set; the series is signed with them." \
			"Set them with: git config --global user.name 'Your Name';" \
			"git config --global user.email you@example.org"
	GIT_IDENTITY_NAME=$name
	GIT_IDENTITY_EMAIL=$email
}

# The ordered topics of the series (series/series, one directory name a line).
topics() {
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$FORK_ROOT/series/series"
}

# The repository files a topic adds (series/TOPIC/files, one path a line).
topic_files() {
	[ -f "$FORK_ROOT/series/$1/files" ] || return 0
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$FORK_ROOT/series/$1/files"
}

# The edits to upstream files a topic makes, in order.
topic_patches() {
	find "$FORK_ROOT/series/$1" -maxdepth 1 -name '*.patch' | LC_ALL=C sort
}

require_tools() {
	local missing=() t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[ ${#missing[@]} -eq 0 ] ||
		die "missing tool(s): ${missing[*]}. Run fork/setup to install everything the fork needs."
}
