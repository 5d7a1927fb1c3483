/* SPDX-License-Identifier: GPL-2.0 */
/*
 * <linux/sfr_fixed.h> for user space: the repository's bpf/sfr_fixed.h
 * itself (in the kernel the series installs that file under this name).
 */
#include "../sfr_shim.h"
#include "../../../../bpf/sfr_fixed.h"
