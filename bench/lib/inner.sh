# inner.sh: sourced by bench/blk-inner.sh and bench/net-inner.sh, the measuring halves
# that boot one guest after the other under each VMM and count what each job's window
# cost.  What they do alike lives here:
#   select_jobs SUBSET       keep the jobs (global array jobs, "NAME|...") named in SUBSET
#   machine_meta HVRUN       the first lines of meta.env: what machine this is
#   hist_define ...          the lab kernel's tracepoint histograms (kvm:*, ...), and
#   hist_start / hist_start_optional / hist_meta / hist_evargs / hist_clear_all / hist_stop
#   install_init DISK SCRIPT the guest's PID 1 script into an ext4 image, with debugfs
#   prep_done STATUS T0 LOGS the end of the preparation (RAW/guest-run.sh)
#   qemu_base NAME, hvrun_base   the VMMs' command lines, the devices both benches have
#   warm_cache FILE...       read files once (page cache) before the first guest
#   run_vmm_retry NAME CMD   boot once more a guest that died before its script started
#   reader                   the command that reads a VMM's stdout (lib/marker_reader.py)
# The caller sets raw (RAWDIR), work, hvrun, kernel, initrd, append, mem, cpus, and defines
# say (its progress lines) and run_vmm.
# shellcheck shell=bash
# shellcheck disable=SC2154  # raw, work, ...: the caller's

lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/tracefs.sh
. "$lib/tracefs.sh"
# shellcheck disable=SC2034  # for the caller: "${reader[@]}" OPTIONS RAW VMM TPIDFILE START
reader=("$(command -v python3)" "$lib/marker_reader.py")

select_jobs() {	# select_jobs SUBSET: a blank-separated subset of the job names, or "" for all
	local j sel=()
	[ -n "$1" ] || return 0
	for j in "${jobs[@]}"; do
		[[ " $1 " == *" ${j%%|*} "* ]] && sel+=("$j")
	done
	jobs=("${sel[@]}")
}

machine_meta() {	# machine_meta HVRUN: "name=value" lines, the start of meta.env
	echo "where_kernel=$(uname -r)"
	echo "in_lab=${HVRUN_IN_LAB:-0}"
	echo "nproc=$(nproc)"
	echo "cpu_model_name=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "kvm_module=$(for m in kvm_amd kvm_intel kvm_pvm; do [ -d /sys/module/$m ] && echo $m; done | head -1)"
	echo "hvrun_version=$("$1" --version 2>&1 | head -1)"
}

# ---- The tracepoint histograms: KIND -> event directory (ev) and trigger (hs) ----
# kinds: those started; tracing=0 when one of hist_start's is missing (no VM exits counted).
declare -A ev=() hs=()
kinds=()
tracing=1
hist_define() {	# hist_define KIND EVENT TRIGGER, e.g. exit kvm/kvm_exit 'hist:keys=...'
	ev[$1]=$T/events/$2
	hs[$1]=$3
}
# The four every window counts: exits by SVM exit reason, exits that reached the VMM (by
# KVM_EXIT_* reason), port I/O by port, MMIO by type and address.
hist_define exit kvm/kvm_exit 'hist:keys=exit_reason:vals=hitcount:sort=hitcount.descending:size=2048'
hist_define uexit kvm/kvm_userspace_exit 'hist:keys=reason:vals=hitcount:sort=hitcount.descending:size=256'
hist_define pio kvm/kvm_pio 'hist:keys=port:vals=hitcount:sort=hitcount.descending:size=2048'
hist_define mmio kvm/kvm_mmio 'hist:keys=type,gpa:vals=hitcount:sort=hitcount.descending:size=4096'

hist_start() {	# hist_start KIND...: (re)start them; any missing: tracing=0
	local k
	for k; do
		kinds+=("$k")
		if [ -w "${ev[$k]}/trigger" ]; then
			# A leftover identical trigger (an interrupted earlier run) would make this fail.
			echo "!${hs[$k]}" >>"${ev[$k]}/trigger" 2>/dev/null
			echo "${hs[$k]}" >>"${ev[$k]}/trigger" || tracing=0
		else
			tracing=0
		fi
	done
}
hist_start_optional() {	# hist_start_optional KIND...: each that starts joins kinds, quietly
	local k
	for k; do
		if [ -w "${ev[$k]}/trigger" ]; then
			echo "!${hs[$k]}" >>"${ev[$k]}/trigger" 2>/dev/null
			echo "${hs[$k]}" >>"${ev[$k]}/trigger" 2>/dev/null && kinds+=("$k")
		fi
	done
}
hist_stop() {	# hist_stop: remove the triggers again (the EXIT trap)
	local k
	for k in "${kinds[@]}"; do echo "!${hs[$k]}" >>"${ev[$k]}/trigger" 2>/dev/null; done
}
hist_meta() {	# hist_meta: into RAW/meta.env what is counted; say so if nothing is
	echo "tracing=$tracing" >>"$raw/meta.env"
	echo "hists=${kinds[*]}" >>"$raw/meta.env"
	[ $tracing = 1 ] || say "no kvm tracepoint histograms here ($T): VM exits not counted"
}
hist_clear() {	# hist_clear KIND: zero a histogram; re-create it if :clear did not
	local k=$1
	echo "${hs[$k]}:clear" >>"${ev[$k]}/trigger" 2>/dev/null
	if ! grep -q '^ *Hits: 0$' "${ev[$k]}/hist"; then
		echo "!${hs[$k]}" >>"${ev[$k]}/trigger"
		echo "${hs[$k]}" >>"${ev[$k]}/trigger"
	fi
}
hist_clear_all() {	# before each guest
	local k
	[ $tracing = 1 ] || return 0
	for k in "${kinds[@]}"; do hist_clear "$k"; done
}
hist_evargs() {	# hist_evargs: evargs, the reader's KIND=EVENTDIR arguments (none if no tracing)
	local k
	evargs=()
	[ $tracing = 1 ] || return 0
	for k in "${kinds[@]}"; do evargs+=("$k=${ev[$k]}"); done
}

# ---- The guest ----
install_init() {	# install_init DISK SCRIPT: SCRIPT as /hvbench/run.sh in the ext4 image DISK
	# (called under set -e: a step that fails ends the preparation)
	# With debugfs: mkdir, write, then mode 0755 and root's ownership (no mount, no loop
	# device, which the lab does not have); then check what is there.
	debugfs -w -f - "$1" <<-EOF
		mkdir /hvbench
		write $2 /hvbench/run.sh
		sif /hvbench/run.sh mode 0100755
		sif /hvbench/run.sh uid 0
		sif /hvbench/run.sh gid 0
	EOF
	debugfs -R "stat /hvbench/run.sh" "$1" | head -3
	debugfs -R "cat /hvbench/run.sh" "$1" | cmp - "$2"
	bash -n "$2"
	e2fsck -fn "$1"
}

prep_done() {	# prep_done STATUS T0 LOGS: say how the preparation went; exit 1 if it failed
	say "preparation: exit $1 after $(awk -v s="$2" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.0f", e - s }') s ($3)"
	if [ "$1" != 0 ]; then
		tail -20 "$raw/prep.log" >&2
		exit 1
	fi
	cp "$work/run.sh" "$raw/guest-run.sh"
}

# The two VMMs' command lines up to each bench's own devices: KERNEL + INITRD with APPEND,
# MEM MiB, CPUS vCPUs, WORK/disk.raw as the root disk (cache=none), COM1 on stdout; no
# virtio console or rng in hvrun, so that both have the same devices.
qemu_base() {	# qemu_base NAME: sets the array qemu (NAME: its -name, threads named "CPU n/KVM")
	# shellcheck disable=SC2034,SC2054  # for the caller; the commas are QEMU's
	qemu=(qemu-system-x86_64 -name "$1",debug-threads=on
	      -enable-kvm -M q35 -cpu host -m "$mem" -smp "$cpus" -nodefaults
	      -no-user-config -display none -monitor none -serial stdio -no-reboot
	      -kernel "$kernel" -initrd "$initrd" -append "$append"
	      -drive "file=$work/disk.raw,if=none,id=d0,format=raw,cache=none,aio=io_uring"
	      -device virtio-blk-pci,drive=d0)
}
hvrun_base() {	# hvrun_base: sets the array hv
	# shellcheck disable=SC2034  # for the caller
	hv=("$hvrun" -m "$mem" -c "$cpus" -k "$kernel" -i "$initrd" -a "$append" --no-reboot
	    --no-virtio-console --no-rng --exit-stats -d "$work/disk.raw,cache=none")
}

warm_cache() {	# warm_cache FILE...: read them once, so that no VMM pays for 9p
	cat "$@" >/dev/null 2>&1
}

# A guest that dies before its script starts (a triple fault in early boot now and then,
# the nested emulation's doing, for either VMM) is booted once more; the first try's
# files are kept as VMM.boot1.*.  A guest that fails later is not retried: that counts.
# retry_min_wall: a run shorter than that many seconds is not retried either (bench/net:
# a VMM that refuses to start, a bad option or no TAP, would only refuse again); 0 (bench/blk)
# retries every such run.
retry_min_wall=0
run_vmm_retry() {	# run_vmm_retry NAME CMD...
	local v=$1 f
	run_vmm "$@"
	grep -q 'HVBENCH-UP' "$raw/$v.console" 2>/dev/null && return 0
	if [ "$retry_min_wall" -gt 0 ] &&
	   [ "$(sed -n 's/^wall_s=//p' "$raw/$v.run.env" | cut -d. -f1)" -lt "$retry_min_wall" ]; then
		return 0
	fi
	say "$v: the guest never started its script: booting it once more"
	for f in "$raw/$v".*; do
		[ -e "$f" ] && mv "$f" "$raw/$v.boot1.${f#"$raw/$v".}"
	done
	run_vmm "$@"
}
