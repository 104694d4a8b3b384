# tracefs.sh: sourced by bench/lib/inner.sh and bench/boot-inner.sh, which run in the
# lab; sets T to where tracefs is (mounting it when needed), for the kvm:* event
# histograms they read.
# shellcheck shell=bash
T=/sys/kernel/tracing
if [ ! -d $T/events ] && [ -d /sys/kernel/debug/tracing/events ]; then
	T=/sys/kernel/debug/tracing
elif [ ! -d $T/events ]; then
	mount -t tracefs nodev $T 2>/dev/null
fi
