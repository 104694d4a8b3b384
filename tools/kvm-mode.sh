#!/usr/bin/env bash
# kvm-mode.sh HVRUN: prints "direct" when guests can run on this host's own KVM,
# else "lab" (tests/lab/lab.sh: QEMU TCG with AMD SVM).  HVRUN_KVM=direct|lab overrides.
#
# Direct needs a hardware KVM (kvm_intel or kvm_amd) and 'hvrun --check' passing.
# A /dev/kvm served by kvm_pvm (KVM without hardware virtualization) does not
# count: it behaves differently (a guest triple fault hangs the vCPU instead of
# stopping the VM), so tests would not show what VT-x/AMD-V hosts do.
set -u
case "${HVRUN_KVM:-auto}" in
direct|lab) echo "$HVRUN_KVM"; exit 0 ;;
auto) ;;
*) echo "kvm-mode: HVRUN_KVM must be auto, direct or lab" >&2; exit 2 ;;
esac
if { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; } &&
   "${1:?usage: kvm-mode.sh HVRUN}" --check >/dev/null 2>&1; then
	echo direct
else
	echo lab
fi
