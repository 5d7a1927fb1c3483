/* SPDX-License-Identifier: GPL-2.0 */
/* <linux/bitops.h> for user space: see ../sfr_shim.h. */
#include "../sfr_shim.h"
