# tracefs.sh: sourced by the bench scripts that run in the lab; sets T to where tracefs
# is (mounting it when needed), for the kvm:* event histograms they read.
T=/sys/kernel/tracing
if [ ! -d $T/events ] && [ -d /sys/kernel/debug/tracing/events ]; then
	T=/sys/kernel/debug/tracing
elif [ ! -d $T/events ]; then
	mount -t tracefs nodev $T 2>/dev/null
fi
