#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# sfr under Dask in the VM: tooling/dask-host.sh with SFR_DASK_NETNS=1.
# Three worker nodes, each in its own network namespace behind a veth pair
# and on its own ext4 file system (a loop device on /mnt/data); scheduler
# and client in the root namespace. Every shard must be offloaded; the
# answers must equal sfr-gen's exact sums, sfr-avg, --no-offload, awk and
# grep -F for 1, 2 and 3 nodes; a SIGKILLed worker's shards rerun on their
# other replica; a shard without a live holder fails naming it; the
# offloaded job moves under 1% of the raw data over the veths.
# timeout: 1200
set -euo pipefail
S=${SFR_SELFTESTS:-$(cd "$(dirname "$0")/.." && pwd)}
fs=$(findmnt -no FSTYPE -T /mnt/data 2>/dev/null || true)
[[ $fs == ext4 ]] || { echo "/mnt/data is not ext4 (${fs:-not mounted})"; exit 1; }
SFR_DASK_NETNS=1 SFR_DASK_DIR=/mnt/data/dask exec "$S/tooling/dask-host.sh"
