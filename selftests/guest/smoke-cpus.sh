#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Both vCPUs come online, and work really runs on CPU 1.
set -euo pipefail
online=$(cat /sys/devices/system/cpu/online)
n=$(nproc)
echo "online: $online, nproc: $n"
[[ $online == 0-1 && $n == 2 ]] || { echo "expected CPUs 0-1 online"; exit 1; }
cpu=$(taskset -c 1 awk '{print $39}' /proc/self/stat)
[[ $cpu == 1 ]] || { echo "task pinned to CPU 1 ran on CPU $cpu"; exit 1; }
