# blk_plot.gp: bench/blk's chart.  gnuplot -e "data='D.dat'; out='X.png'; title='...'" blk_plot.gp
# Data (bench/blk_report.py --plot-data): one line per fio job,
#   job hvrun_iops qemu_iops host_iops hvrun_mibs qemu_mibs host_mibs
#       hvrun_exits_per_io qemu_exits_per_io hvrun_irqs_per_io qemu_irqs_per_io
# Top: IOPS and MiB/s per job (log scale), hvrun vs QEMU vs fio on the host file.
# Bottom: VM exits and guest virtio interrupts per request, hvrun vs QEMU.
if (!exists("data")) data = 'build/bench/blk-plot.dat'
if (!exists("out")) out = 'build/bench/blk.png'
if (!exists("title")) title = 'bench/blk'

set terminal pngcairo size 1500,1000 font ",10"
set output out
set datafile missing "?"
set style data histograms
set style histogram clustered gap 1.5
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key inside top left
set xtics nomirror rotate by -20
c_hv = "#4477aa"; c_qemu = "#ee7733"; c_host = "#999999"
set multiplot layout 2,2 title title font ",12"

set title "IOPS (log scale)"
set ylabel "IOPS"
set logscale y
set yrange [*:*]
plot data using 2:xtic(1) title "hvrun" lc rgb c_hv, \
     '' using 3 title "QEMU" lc rgb c_qemu, \
     '' using 4 title "host io\\_uring (limit)" lc rgb c_host

set title "bandwidth (log scale)"
set ylabel "MiB/s"
plot data using 5:xtic(1) title "hvrun" lc rgb c_hv, \
     '' using 6 title "QEMU" lc rgb c_qemu, \
     '' using 7 title "host io\\_uring (limit)" lc rgb c_host

unset logscale y
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
set key inside top right
set title "VM exits per request (kvm:kvm\\_exit in the job's window / fio IOs)"
set ylabel "exits / request"
plot data using 8:xtic(1) title "hvrun" lc rgb c_hv, \
     '' using 9 title "QEMU" lc rgb c_qemu

set title "guest virtio interrupts per request (/proc/interrupts, vdb)"
set ylabel "interrupts / request"
plot data using 10:xtic(1) title "hvrun" lc rgb c_hv, \
     '' using 11 title "QEMU" lc rgb c_qemu

unset multiplot
