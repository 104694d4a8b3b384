#!/usr/bin/env bash
# cli: --version, --help and bad usage (exit 2 with one clear line), on this host:
# none of these may need KVM, and none may touch it.
. "$(dirname "$0")/lib/common.sh"

rc=0; host_run "$HVRUN" --version || rc=$?
expect_status 0 "$rc" "--version"
grep -qE '^hvrun [0-9]+\.[0-9]+\.[0-9]+$' "$T/out" || fail "--version printed '$(cat "$T/out")'"

rc=0; host_run "$HVRUN" --help || rc=$?
expect_status 0 "$rc" "--help"
for w in --demo --raw --memory --cpus --check --exit-stats "Exit status" "minimum 128"; do
	expect_in out "$w"
done

bad() {		# bad "EXPECTED MESSAGE" ARGS...: exit 2, one line on stderr, nothing on stdout
	local want=$1; shift
	rc=0; host_run "$HVRUN" "$@" || rc=$?
	expect_status 2 "$rc" "hvrun $*"
	expect_lines err 1
	expect_in err "$want"
	[ -s "$T/out" ] && fail "hvrun $* printed on stdout"
	return 0
}
bad "hvrun: -m 64: 64 MB of RAM is too little; the minimum is 128 MB" -m 64 --demo
bad "-m 127M: 127 MB of RAM is too little" -m 127M --demo
bad "-m lots: not a memory size" -m lots --demo
bad "-c 0: the number of vCPUs must be 1 to 255" -c 0 --demo
bad "-c two: not a number of vCPUs" -c two --demo
bad "--raw /no/such/prog.bin: No such file or directory" --raw /no/such/prog.bin
bad "unknown option --bogus" --bogus
bad "-m needs a value" --demo -m
bad "nothing to run: give a disk (-d FILE) or a CD-ROM image (--cdrom ISO) to boot through the firmware, -k KERNEL, --demo or --raw FILE"
# Firmware boot (issue 7): bad ISOs and BIOS images are usage errors before /dev/kvm is opened.
bad "--cdrom /no/such.iso: No such file or directory" --cdrom /no/such.iso
bad "--cdrom $HVRUN: not an ISO 9660 image" --cdrom "$HVRUN"
printf 'x' >"$T/tiny.bin"
bad "--firmware $T/tiny.bin: 1 bytes: a PC firmware image is a whole number of 64 KiB blocks" --cdrom "$T/tiny.bin" --firmware "$T/tiny.bin"
bad "--boot: boot order 'n': n: network boot is not supported" -d "$T/tiny.bin" --boot order=n
bad "--boot is for a firmware boot (without -k, --demo or --raw)" -k "$HVRUN" --boot order=c
# Networking and privileges (issue 5): each a usage error, one line.
K=$HVRUN	# any readable file passes -k's parsing; these fail before it is read
bad "hostfwd=tcp:abc-:22: the host port must be 1 to 65535" -k "$K" --net user,hostfwd=tcp:abc-:22
bad "hostfwd=tcp:5555: give [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT" -k "$K" --net user,hostfwd=tcp:5555
bad "--mac 01:00:5e:00:00:01: a multicast address cannot be a NIC's MAC" -k "$K" -t tap2 --mac 01:00:5e:00:00:01
bad "--mac zz: not a MAC address" -k "$K" -t tap2 --mac zz
bad "give it after the NIC it is for" -k "$K" --mac 52:54:00:00:00:01 -t tap2
bad "--net bogus: give tap=NAME or user" -k "$K" --net bogus
bad "the TAP is given twice" -k "$K" -t tap2 -t tap2
bad "--user nosuchuser: no such user" -k "$K" --user nosuchuser
bad "--sandbox maybe: on or off" --demo --sandbox maybe
pass "version, help and 23 bad usages"
