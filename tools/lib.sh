# SPDX-License-Identifier: GPL-2.0
# Shared settings for the sfr tool scripts. Source it; do not run it.

SFR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SFR_CACHE=${SFR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sfr}
SFR_KSRC_PKG=linux-source-6.12
SFR_KSRC_TAR=/usr/src/$SFR_KSRC_PKG.tar.xz

die() {
	echo "${0##*/}: error: $*" >&2
	exit 1
}

note() {
	echo "${0##*/}: $*" >&2
}

# Patch names listed in a series file, in order (comments and blanks skipped).
series_patches() {
	local series=$1/series
	[[ -f "$series" ]] || return 0
	sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$series"
}
