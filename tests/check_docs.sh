#!/bin/bash
# check_docs.sh: the course's links cannot rot (issue 14).
#
#   bash tests/check_docs.sh [SRC]     SRC: the source tree (default: this checkout)
#
# 1. Every relative link in docs/*.md and README.md, inline [text](path) or reference
#    [name]: path, names a file or folder that exists, relative to the page.  The anchor
#    (#...) is cut off and not checked; http(s): and mailto: links are left alone, and so
#    is anything inside a code block or a `code span`.
# 2. Each numbered chapter docs/NN-*.md has a title carrying its number ("# Chapter 9 —"
#    or "# 9."), is listed in docs/README.md, and ends with a line
#    "Previous: [...](...) · Next: [...](...)" whose Next is the following chapter (the
#    last chapter's is README.md, the course index).
#
# Prints each fault as FILE:LINE: what, and exits 1; exits 0 when there is none.
set -eu
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$src"

# FILE LINE TARGET, one link a line: what a reader can click, outside code.
links() {
	awk '
	FNR == 1 { fence = 0 }
	/^[ \t]*(```|~~~)/ { fence = !fence; next }
	fence { next }
	{
		line = $0
		gsub(/`[^`]*`/, "", line)
		if (match(line, /^[ \t]*\[[^]]+\]:[ \t]+[^ \t]+/)) {	# [name]: path
			t = substr(line, RSTART, RLENGTH); sub(/^[^]]*\]:[ \t]+/, "", t)
			print FILENAME, FNR, t
		}
		# Link text may wrap: "](" can start a line, so only the target must be on it.
		while (match(line, /\]\([^) \t]+/)) {
			print FILENAME, FNR, substr(line, RSTART + 2, RLENGTH - 2)
			line = substr(line, RSTART + RLENGTH)
		}
	}' "$@"
}

bad=0
fault() { echo "$1"; bad=1; }

nlinks=0
while read -r file line target; do
	target=${target#<}; target=${target%>}
	case $target in http://* | https://* | mailto:*) continue ;; esac
	path=${target%%#*}
	[ -n "$path" ] || continue	# #anchor: this page
	nlinks=$((nlinks + 1))
	[ -e "$(dirname "$file")/$path" ] || fault "$file:$line: broken link: $target"
done < <(links docs/*.md README.md)

chapters=(docs/[0-9][0-9]-*.md)
for i in "${!chapters[@]}"; do
	f=${chapters[$i]}
	name=${f#docs/}
	n=$((10#${name%%-*}))
	[ "$n" = $((i + 1)) ] || fault "$f: chapter number $n, but it is chapter $((i + 1)) in order"
	head -n 1 "$f" | grep -Eq "^# (Chapter )?${n}[ .]" ||
		fault "$f:1: the title does not say chapter $n: $(head -n 1 "$f")"
	grep -q "]($name)" docs/README.md || fault "docs/README.md: no link to $name"
	if [ $((i + 1)) -lt ${#chapters[@]} ]; then
		next=${chapters[$((i + 1))]#docs/}
	else
		next=README.md
	fi
	last=$(grep -v '^[[:space:]]*$' "$f" | tail -n 1)
	case $last in
	Previous:*" · Next: ["*"]($next)") ;;
	*) fault "$f: the last line should be \"Previous: [...](...) · Next: [...]($next)\", not: $last" ;;
	esac
done

if [ "$bad" = 0 ]; then
	echo "PASS (check_docs): $nlinks relative links resolve; ${#chapters[@]} chapters, each with its Next"
fi
exit "$bad"
