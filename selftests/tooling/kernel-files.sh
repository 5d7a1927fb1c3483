#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel files kept here as plain files (kernel/, bpf/sfr_fixed.h) are
# exactly what kernel-patches/ adds to the tree (tools/kernel-files check).
set -euo pipefail
exec "$(dirname "$0")/../../tools/kernel-files" check
