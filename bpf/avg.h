/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared between avg.bpf.c and examples/sfr-avg.c: the frame of the
 * numeric-column reduce. The scratch state of a request is exactly one
 * struct sfr_fx_state (sfr_fixed.h), fed byte by byte in place; a frame's
 * state is therefore AVG_STATE_SIZE bytes, and the frames of a file fold
 * with sfr_fx_combine() in file order (windows are attached with '\n' as
 * the record delimiter, so each ends at a line boundary).
 */
#ifndef __SFR_AVG_H
#define __SFR_AVG_H

#include "sfr_fixed.h"

#define AVG_STATE_SIZE sizeof(struct sfr_fx_state)

#endif
