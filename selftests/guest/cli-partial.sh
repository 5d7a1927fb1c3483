#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The partial results of sfr-avg and sfr-grep (--partial, --merge) in the
# VM, offloaded, on ext4 (/mnt/data): tooling/cli-partial-host.sh with
# SFR_PARTIAL_OFFLOAD=1, so that every shard's blob must be computed by
# the BPF program (--stats) and be byte-identical to --no-offload's and
# to -j 2's, and --merge of the shards' blobs must equal sfr-avg on the
# whole file, the generator's exact sums, the Python oracle and grep -F
# (-c, -n, -v) on the whole file, for 1, 3 and 7 record-aligned shards.
set -euo pipefail
S=${SFR_SELFTESTS:-$(cd "$(dirname "$0")/.." && pwd)}
fs=$(findmnt -no FSTYPE -T /mnt/data 2>/dev/null || true)
[[ $fs == ext4 ]] || { echo "/mnt/data is not ext4 (${fs:-not mounted})"; exit 1; }
SFR_PARTIAL_OFFLOAD=1 SFR_PARTIAL_DIR=/mnt/data/cli-partial \
	exec "$S/tooling/cli-partial-host.sh"
