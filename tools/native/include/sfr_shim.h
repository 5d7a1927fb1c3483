/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sfr_shim.h - the few kernel interfaces kernel/bpf/sfr_scan.c uses, for
 * building that very file as user space code (tools/native/). The stub
 * headers next to this one (linux/types.h, asm/fpu/api.h, ...) all include
 * it, so the kernel source compiles unchanged with -Itools/native/include.
 *
 * The FPU calls keep count, to let the tests check that sections never
 * nest and are always closed, and irq_fpu_usable() can be turned off (as
 * the kernel's is in NMI or inside a section) to test the fallbacks.
 */
#ifndef _SFR_SHIM_H
#define _SFR_SHIM_H

#ifndef __x86_64__
#error "the native shim is for x86-64 (the generic code alone: drop the CONFIG_X86_64 line)"
#endif

/* What include/generated/autoconf.h says on the sfr kernel's arch. */
#define CONFIG_X86_64 1

#include <asm/types.h>		/* the uapi __u8 .. __s64 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;
typedef __u32 __le32;
typedef __u64 __le64;

#define S64_MAX		INT64_MAX
#define S64_MIN		INT64_MIN
#define U32_MAX		UINT32_MAX

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#define noinline	__attribute__((__noinline__))
#ifndef __always_inline
#define __always_inline	inline __attribute__((__always_inline__))
#endif

#define min(a, b)							\
	({								\
		__auto_type __a = (a);					\
		__auto_type __b = (b);					\
		__a < __b ? __a : __b;					\
	})
#define max(a, b)							\
	({								\
		__auto_type __a = (a);					\
		__auto_type __b = (b);					\
		__a > __b ? __a : __b;					\
	})
#define min_t(t, a, b)	min((t)(a), (t)(b))

static inline unsigned long __ffs(unsigned long x)
{
	return __builtin_ctzl(x);
}

static inline unsigned int __ffs64(u64 x)
{
	return __builtin_ctzll(x);
}

static inline int fls64(u64 x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}

#define get_unaligned(ptr)						\
	({								\
		__typeof__(*(ptr) + 0) __v; /* u32 or u64 */	\
									\
		memcpy(&__v, (ptr), sizeof(__v));			\
		__v;							\
	})

static inline u64 get_unaligned_le64(const void *p)
{
	u64 v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline u32 get_unaligned_le32(const void *p)
{
	u32 v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

/* <asm/byteorder.h> */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define cpu_to_le64(x)	__builtin_bswap64(x)
#else
#define cpu_to_le64(x)	((__le64)(x))
#endif

/* <asm/cpufeature.h>; sfr_shim_no_avx2 = 1 plays a CPU without AVX2. */
__attribute__((weak)) int sfr_shim_no_avx2;
#define X86_FEATURE_AVX2	"avx2"
#define static_cpu_has(f)	(!sfr_shim_no_avx2 && __builtin_cpu_supports(f))

/* <asm/fpu/api.h>: not reentrant, as in the kernel. */
__attribute__((weak)) int sfr_shim_fpu_usable = 1;
__attribute__((weak)) int sfr_shim_fpu_depth;
__attribute__((weak)) unsigned long sfr_shim_fpu_sections;

static inline bool irq_fpu_usable(void)
{
	return sfr_shim_fpu_usable && !sfr_shim_fpu_depth;
}

static inline void kernel_fpu_begin(void)
{
	if (sfr_shim_fpu_depth++ || !sfr_shim_fpu_usable)
		__builtin_trap();	/* the kernel WARNs */
	sfr_shim_fpu_sections++;
}

static inline void kernel_fpu_end(void)
{
	if (--sfr_shim_fpu_depth)
		__builtin_trap();
}

#endif /* _SFR_SHIM_H */
