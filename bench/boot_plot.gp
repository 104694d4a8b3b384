# boot_plot.gp: bench/boot's chart.  gnuplot -e "times='T.dat'; exits='E.dat'; out='X.png'; title='...'" boot_plot.gp
# Left: median seconds to the boot loader's line (firmware boots only), to the marker and
# to the VMM's exit (bars: min-max over the runs).  Middle: median VM exits per boot,
# stacked by SVM exit reason.  Right: median own RSS.  One group per VMM row of the files
# (nrow of them: the direct kernel boots, then the firmware boots).
if (!exists("times")) times = 'build/bench/boot-plot-times.dat'
if (!exists("exits")) exits = 'build/bench/boot-plot-exits.dat'
if (!exists("out")) out = 'build/bench/boot.png'
if (!exists("title")) title = 'bench/boot'
if (!exists("ncol")) ncol = 7       # columns of the exits file: vmm, reasons..., other
if (!exists("nrow")) nrow = 3       # VMM rows

set terminal pngcairo size (nrow > 3 ? 1900 : 1500),560 font ",10"
set output out
set datafile missing "?"
set style fill solid 0.85 border -1
set grid ytics
set key top left
set xtics nomirror
set yrange [0:*]
set multiplot layout 1,3 title title font ",12"

set title "time from process start (median, min-max)"
set ylabel "seconds"
set style histogram errorbars gap 2 lw 1
set style data histograms
if (nrow > 3) {
    plot times using 9:10:11:xtic(1) title "to boot loader (fw)" lc rgb "#aa3377", \
         '' using 2:3:4 title "to marker (userspace)" lc rgb "#4477aa", \
         '' using 5:6:7 title "to exit" lc rgb "#ee7733"
} else {
    plot times using 2:3:4:xtic(1) title "to marker" lc rgb "#4477aa", \
         '' using 5:6:7 title "to exit" lc rgb "#ee7733"
}

set title "VM exits per boot (median, kvm:kvm\\_exit)"
set ylabel "exits"
set style histogram rowstacked
set boxwidth 0.6
set key top left invert
plot for [i=2:ncol] exits using i:xtic(1) title columnheader(i) noenhanced

set title "VMM's own RSS beyond guest RAM at the marker (median)"
set ylabel "MiB"
set key off
set boxwidth 0.5
set xrange [-0.6:nrow - 0.4]
plot times using 0:8:xtic(1) with boxes lc rgb "#228833" notitle, \
     '' using 0:8:(sprintf("%.1f", $8)) with labels offset 0,0.7 notitle

unset multiplot
