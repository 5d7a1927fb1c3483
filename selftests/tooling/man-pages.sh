#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every symbol of lib/libsfr.map's global list has man/<symbol>.3; every
# page in man/ has its .TH line and the NAME, SYNOPSIS, DESCRIPTION and
# SEE ALSO sections (section 3 pages also RETURN VALUE and #include <sfr.h>)
# and formats without a warning: groff -man -ww -z, typeset and for the
# terminal, where groff is installed, else mandoc -T lint, else no
# formatter check.
set -euo pipefail

usage() {
	cat <<EOT
Usage: $0 [-h]

Check the libsfr manual pages in man/ against lib/libsfr.map: one section-3
page per exported symbol, each with .TH, NAME, SYNOPSIS and RETURN VALUE
sections, and no formatter warnings. Uses groff when installed, else
mandoc, else the section check alone. Exit status 0 if every check passes,
1 otherwise, 2 for a usage error.
EOT
}
while getopts "h" opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

root=$(cd "$(dirname "$0")/../.." && pwd)
map=$root/lib/libsfr.map
man=$root/man
[[ -f $map ]] || { echo "$map: not found"; exit 1; }
[[ -d $man ]] || { echo "$man: not found"; exit 1; }

# The names between 'global:' and 'local:' of the version script.
mapfile -t syms < <(awk '/global:/ { g = 1; next } /local:/ { g = 0 }
	g { gsub(/[ \t;]/, ""); if ($0 != "") print }' "$map")
((${#syms[@]})) || { echo "$map: no global symbols found"; exit 1; }

if command -v groff >/dev/null; then
	checker=groff
elif command -v mandoc >/dev/null; then
	checker=mandoc
else
	checker=sections
fi
echo "# ${#syms[@]} exported symbols; checker: $checker"

fail=0
bad() {
	echo "not ok - $*"
	fail=1
}

for s in "${syms[@]}"; do
	[[ -f $man/$s.3 ]] || bad "$s is exported but man/$s.3 is missing"
done

shopt -s nullglob
pages=("$man"/*.[1-9])
((${#pages[@]})) || { echo "no pages in $man"; exit 1; }
for p in "${pages[@]}"; do
	f=${p##*/}
	name=${f%.*}
	sec=${f##*.}
	ok=1
	grep -q "^\.TH $name $sec " "$p" || { bad "$f: no '.TH $name $sec' line"; ok=0; }
	for sh in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
		grep -qx "\.SH \"\?$sh\"\?" "$p" || { bad "$f: no $sh section"; ok=0; }
	done
	grep -q "^$name \\\\- " "$p" || { bad "$f: NAME does not start with '$name \\-'"; ok=0; }
	if [[ $sec == 3 ]]; then
		grep -qx '\.SH "\?RETURN VALUE"\?' "$p" || { bad "$f: no RETURN VALUE section"; ok=0; }
		grep -q '#include <sfr.h>' "$p" || { bad "$f: SYNOPSIS lacks #include <sfr.h>"; ok=0; }
	fi
	case $checker in
	groff)
		out=$({ groff -man -ww -z "$p" && groff -man -Tutf8 -ww -z "$p"; } 2>&1) ||
			out="groff failed: $out"
		;;
	mandoc)
		out=$(mandoc -T lint -W warning "$p" 2>&1 || true)
		;;
	sections)
		out=
		;;
	esac
	if [[ -n $out ]]; then
		printf '%s\n' "$out" | sed 's/^/# /'
		bad "$f: $checker warnings"
	elif ((ok)); then
		echo "ok - $f"
	fi
done
exit $fail
