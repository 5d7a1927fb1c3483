#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The exact answer of examples/sfr-avg, for small test files.

Usage: avg_oracle.py [--scale S] [--decimals D] [-d DELIM] [-f N] FILE...

Prints what sfr-avg prints on stdout for the same arguments and exits 1
when no FILE holds a number (as sfr-avg does), else 0. Written from
sfr-avg --help, not from bpf/sfr_fixed.h: each number is a Decimal rounded
half away from zero (ROUND_HALF_UP on the magnitude) at S places, sums are
Python integers, the mean a Fraction. Slow: for files of a few MB at most.
Used by selftests/guest/cli-avg.sh and selftests/tooling/cli-avg-host.sh.
"""
import re, sys
from decimal import Decimal, ROUND_HALF_UP, getcontext
from fractions import Fraction

getcontext().prec = 100
args = sys.argv[1:]
scale, dec, delim, field = 6, None, None, 1
while args and args[0].startswith('-') and len(args) > 1:
    o = args.pop(0)
    if o == '--scale': scale = int(args.pop(0))
    elif o == '--decimals': dec = int(args.pop(0))
    elif o == '-d': delim = args.pop(0).encode()
    elif o == '-f': field = int(args.pop(0))
    else: sys.exit('oracle: bad option ' + o)
if dec is None:
    dec = scale
blanks = bytes(b for b in b' \t\r' if delim is None or bytes([b]) != delim)
num = re.compile(rb'^[' + re.escape(blanks) + rb']*([+-]?)(\d+\.?\d*|\.\d+)['
                 + re.escape(blanks) + rb']*$')

def reduce(data):
    lines = data.split(b'\n')
    if lines[-1] == b'':
        lines.pop()
    r = dict(count=0, sum=0, min=None, max=None, invalid=0)
    for ln in lines:
        if ln.strip(blanks) == b'':
            continue                    # empty or only blanks
        f = ln.split(delim) if delim else [ln]
        m = num.match(f[field - 1]) if len(f) >= field else None
        if not m:
            r['invalid'] += 1
            continue
        v = int(Decimal(m.group(2).decode()).scaleb(scale)
                .quantize(Decimal(1), rounding=ROUND_HALF_UP))
        if m.group(1) == b'-':
            v = -v
        if not -2**63 <= v < 2**63:
            r['invalid'] += 1
            continue
        r['count'] += 1
        r['sum'] += v
        r['min'] = v if r['min'] is None else min(r['min'], v)
        r['max'] = v if r['max'] is None else max(r['max'], v)
    return r

def fmt(v, sc):
    t = str(abs(v)).rjust(sc + 1, '0')
    return ('-' if v < 0 else '') + (t[:-sc] + '.' + t[-sc:] if sc else t)

def block(r):
    out = ['count: %d' % r['count'], 'sum: ' + fmt(r['sum'], scale)]
    if r['count']:
        x = Fraction(r['sum'], r['count'] * 10**scale) * 10**dec
        q = int(abs(x) + Fraction(1, 2))
        out += ['mean: ' + fmt(-q if x < 0 else q, dec),
                'min: ' + fmt(r['min'], scale), 'max: ' + fmt(r['max'], scale)]
    else:
        out += ['mean: -', 'min: -', 'max: -']
    return '\n'.join(out + ['invalid: %d' % r['invalid']]) + '\n'

rs = [reduce(open(p, 'rb').read()) for p in args]
if len(rs) == 1:
    sys.stdout.write(block(rs[0]))
else:
    tot = dict(count=0, sum=0, min=None, max=None, invalid=0)
    for r in rs:
        for k in ('count', 'sum', 'invalid'):
            tot[k] += r[k]
        if r['count']:
            tot['min'] = r['min'] if tot['min'] is None else min(tot['min'], r['min'])
            tot['max'] = r['max'] if tot['max'] is None else max(tot['max'], r['max'])
    sys.stdout.write('\n'.join('==> %s <==\n%s' % (p, block(r))
                               for p, r in zip(args + ['total'], rs + [tot])))
sys.exit(0 if sum(r['count'] for r in rs) else 1)
