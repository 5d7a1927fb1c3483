/* SPDX-License-Identifier: GPL-2.0 */
/* <linux/errno.h> for user space: the system one, then ../sfr_shim.h. */
#include_next <linux/errno.h>
#include "../sfr_shim.h"
