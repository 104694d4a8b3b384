# net_plot.gp: bench/net's chart.
#   gnuplot -e "data='D.dat'; out='X.png'; ntcp=4; have_tcp=1; have_udp=1; title='...'" net_plot.gp
# Data (bench/net_report.py --plot-data): one line per iperf3 job, the TCP jobs first,
#   job kind hvrun_rate qemu_rate vhost_rate hvrun_exits qemu_exits vhost_exits
#       hvrun_irqs qemu_irqs vhost_irqs
# (rate: Gbit/s for TCP, thousands of datagrams/s received for UDP; exits and irqs per
# packet).  ntcp: how many TCP lines (the UDP ones follow); have_tcp / have_udp: whether
# any of them has a rate (a panel without one is left out).
# Top: TCP Gbit/s per job, UDP kpackets/s.  Bottom: VM exits and guest interrupts per packet.
if (!exists("data")) data = 'build/bench/net-plot.dat'
if (!exists("out")) out = 'build/bench/net.png'
if (!exists("title")) title = 'bench/net'
if (!exists("ntcp")) ntcp = 4
if (!exists("have_tcp")) have_tcp = 1
if (!exists("have_udp")) have_udp = 1

set terminal pngcairo size 1500,1000 font ",10"
set output out
set datafile missing "?"
set style data histograms
set style histogram clustered gap 1.5
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key inside top right
set xtics nomirror rotate by -20
set yrange [0:*]
set offsets 0, 0, graph 0.1, 0
c_hv = "#4477aa"; c_qemu = "#ee7733"; c_vhost = "#228833"
set multiplot layout 2,2 title title font ",12"

if (ntcp > 0 && have_tcp > 0) {
	set title "TCP throughput (iperf3, receiver side)"
	set ylabel "Gbit/s"
	plot data every ::0::(ntcp - 1) using 3:xtic(1) title "hvrun" lc rgb c_hv, \
	     '' every ::0::(ntcp - 1) using 4 title "QEMU" lc rgb c_qemu, \
	     '' every ::0::(ntcp - 1) using 5 title "QEMU vhost-net" lc rgb c_vhost
} else {
	set multiplot next
}
if (have_udp > 0) {
	set title "UDP 64-byte datagrams received by the server"
	set ylabel "thousand datagrams / s"
	plot data every ::ntcp using 3:xtic(1) title "hvrun" lc rgb c_hv, \
	     '' every ::ntcp using 4 title "QEMU" lc rgb c_qemu, \
	     '' every ::ntcp using 5 title "QEMU vhost-net" lc rgb c_vhost
} else {
	set multiplot next
}

set title "VM exits per packet (kvm:kvm\\_exit in the job's window / guest rx+tx packets)"
set ylabel "exits / packet"
plot data using 6:xtic(1) title "hvrun" lc rgb c_hv, \
     '' using 7 title "QEMU" lc rgb c_qemu, \
     '' using 8 title "QEMU vhost-net" lc rgb c_vhost

set title "guest virtio-net interrupts per packet (/proc/interrupts)"
set ylabel "interrupts / packet"
plot data using 9:xtic(1) title "hvrun" lc rgb c_hv, \
     '' using 10 title "QEMU" lc rgb c_qemu, \
     '' using 11 title "QEMU vhost-net" lc rgb c_vhost

unset multiplot
