#!/bin/bash
# check_includes.sh: every #include "..." between hvrun's parts goes the way the layers allow
# (docs/design.md, "Layers"): base <- devices, net, boot, firmware <- machine (+ pc) <- program.
#
#   bash tests/check_includes.sh [SRC]     SRC: the source tree (default: this checkout)
#
# Prints each include that breaks the rule and exits 1; exits 0 when there is none.
# The two tables below are the whole rule; a part is a folder (hv/base/, hv/machine/,
# hv/x86/, ...), so PARTS stays short. The calls are checked by the linker instead:
# CMakeLists.txt's hvrun_layer() links each layer's ALLOWED libraries and no others.
set -eu
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$src"

# Which part a file belongs to: the first pattern (a bash glob on its path) that matches.
PARTS='
net/backend.h		base	the contract between a NIC device and its backends
hv/base/*		base
hv/machine/*		machine	vm, vcpu, arch.h and board.h (what an architecture provides)
hv/x86/*		pc	the first architecture: the x86 PC
hv/*			program	main, machine, options, host, control, stats, check
devices/*		devices
net/*			net
boot/*			boot
firmware/*		firmware
'

# Which parts a part may include, besides itself.
ALLOWED='
base
devices		base
net		base
boot		base
firmware	base
machine		base devices boot firmware
pc		base machine devices net boot firmware
program		base machine devices net boot firmware
'

# Includes that break the rule today, each with why it is left; FROM-FILE TO-FILE.
# A line here that no longer matches anything is reported too, so the list only shrinks.
KNOWN='
'

part_of() {
	local f=$1 pat part rest
	while read -r pat part rest; do
		[ -n "$pat" ] || continue
		# shellcheck disable=SC2254
		case $f in $pat) echo "$part"; return ;; esac
	done <<< "$PARTS"
	echo "?"
}

allowed() {
	local from=$1 to=$2 part rest
	[ "$from" = "$to" ] && return 0
	while read -r part rest; do
		[ "$part" = "$from" ] || continue
		case " $rest " in *" $to "*) return 0 ;; esac
		return 1
	done <<< "$ALLOWED"
	return 1
}

known() {
	local from=$1 to=$2 a b rest
	while read -r a b rest; do
		[ "$a" = "$from" ] && [ "$b" = "$to" ] && return 0
	done <<< "$KNOWN"
	return 1
}

bad=0 seen_known=''
files=$(git ls-files 'hv/*.[ch]' 'devices/*.[ch]' 'net/*.[ch]' 'boot/*.[ch]' 'firmware/*.[ch]' \
	2>/dev/null || find hv devices net boot firmware -name '*.[ch]')
for f in $files; do
	from=$(part_of "$f")
	if [ "$from" = "?" ]; then
		echo "$f: in no part of check_includes.sh's PARTS table"
		bad=1
		continue
	fi
	while IFS= read -r inc; do
		[ -e "$inc" ] || continue	# not one of hvrun's files
		to=$(part_of "$inc")
		allowed "$from" "$to" && continue
		if known "$f" "$inc"; then
			seen_known="$seen_known $f:$inc"
			continue
		fi
		echo "$f includes $inc: $from may not include $to"
		bad=1
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
while read -r a b rest; do
	[ -n "$a" ] || continue
	case " $seen_known " in *" $a:$b "*) ;; *)
		echo "$a -> $b is gone: remove it from check_includes.sh's KNOWN table"
		bad=1 ;;
	esac
done <<< "$KNOWN"
if [ "$bad" = 0 ]; then
	echo "PASS (check_includes): every include goes down the layers ($(echo "$KNOWN" | grep -c .) known exceptions)"
fi
exit "$bad"
