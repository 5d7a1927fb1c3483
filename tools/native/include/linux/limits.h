/* SPDX-License-Identifier: GPL-2.0 */
/* <linux/limits.h> for user space: the system one, then ../sfr_shim.h. */
#include_next <linux/limits.h>
#include "../sfr_shim.h"
