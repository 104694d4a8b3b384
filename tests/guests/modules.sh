# modules.sh: sourced by tests/lab/lab.sh and tests/guests/mkinitramfs.sh.  Puts kernel
# modules, with their dependencies from modules.dep, into an initramfs being staged.

# resolve_modules MODDIR MODULE...: prints the module files (relative to MODDIR =
# lib/modules/VER) to load, dependencies first.  A trailing "?" marks a module that
# may be missing; built-in ones are skipped.
resolve_modules() {
	local moddir=$1 line path deps name want optional
	local -A path_of=() deps_of=() builtin=() seen=()
	local -a order=()
	shift

	while IFS= read -r line; do
		path=${line%%:*}
		deps=${line#*:}
		name=${path##*/}
		name=${name%%.ko*}
		name=${name//-/_}
		path_of[$name]=$path
		deps_of[$path]=$deps
	done <"$moddir/modules.dep"
	while IFS= read -r path; do
		name=${path##*/}
		name=${name%%.ko*}
		builtin[${name//-/_}]=1
	done <"$moddir/modules.builtin"

	visit() { # depth-first: a module's dependencies before the module
		local p=$1 d
		[[ -n ${seen[$p]:-} ]] && return 0
		seen[$p]=1
		for d in ${deps_of[$p]}; do visit "$d"; done
		order+=("$p")
	}
	for want in "$@"; do
		optional=0
		if [[ $want == *'?' ]]; then optional=1; want=${want%'?'}; fi
		if [[ -n ${builtin[$want]:-} ]]; then continue; fi
		if [[ -z ${path_of[$want]:-} ]]; then
			((optional)) && continue
			echo "module $want is neither in modules.dep nor built in" >&2
			return 1
		fi
		visit "${path_of[$want]}"
	done
	printf '%s\n' "${order[@]}"
}

# stage_modules MODDIR DEST MODULE...: uncompressed .ko files in DEST (busybox insmod
# wants plain ones) and DEST/order, the names in load order.
stage_modules() {
	local moddir=$1 dest=$2 mods rel name
	shift 2
	mods=$(resolve_modules "$moddir" "$@") || return 1
	mkdir -p "$dest"
	while IFS= read -r rel; do
		[[ -n $rel ]] || continue
		name=${rel##*/}
		name=${name%%.ko*}
		case $rel in
		*.ko) cp "$moddir/$rel" "$dest/$name.ko" ;;
		*.ko.xz) xz -dc "$moddir/$rel" >"$dest/$name.ko" ;;
		*.ko.zst) zstd -q -dc "$moddir/$rel" >"$dest/$name.ko" ;;
		*.ko.gz) gzip -dc "$moddir/$rel" >"$dest/$name.ko" ;;
		*) echo "unexpected module file $rel" >&2; return 1 ;;
		esac
		printf '%s\n' "$name" >>"$dest/order"
	done <<<"$mods"
}
