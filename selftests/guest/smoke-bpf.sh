#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A BPF program loads, is JIT-compiled, and runs with the expected result.
set -euo pipefail
bin=$SFR_TEST_OUT/smoke_bpf
[[ -x $bin ]] || { echo "$bin not built (make -C selftests)"; exit 1; }
exec $bin
