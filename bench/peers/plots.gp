# plots.gp: one of BENCHMARKS.md's plots, drawn by bench/peers/plots.sh from
# the data files `go run ./bench plotdata` writes (tab-separated; a comment,
# then a header row whose first field is the series' title).
#
#   gnuplot -e "kind='lines'; files='A.tsv B.tsv'; out='X.svg'; xl='…'; yl='…'; ttl='…'" plots.gp
#   gnuplot -e "kind='bars'; files='encoder.tsv'; out='encoder.svg'; xl='…'; ttl='…'" plots.gp
#
# lines: column 2 against column 1, one line per file. bars: one horizontal
# bar per row, column 2, labelled with column 1 and its value.
set terminal svg size 820,460 dynamic noenhanced font "sans,13" background rgb "white"
set output out
set datafile separator "\t"
set title ttl
set key below left Left reverse
set grid ytics xtics lc rgb "#dddddd"
set border 3
set tics nomirror
set xlabel xl
if (kind eq "lines") {
	set ylabel yl
	set yrange [0:*]
	set xrange [0:*]
	set offsets 0, graph 0.05, graph 0.1, 0
	plot for [i = 1:words(files)] word(files, i) using 1:2 with linespoints lw 2 pt (4 + 2 * i) ps 1 title columnheader(1)
} else {
	unset key
	# skip 2: the comment and the header row.
	stats files skip 2 using 2 nooutput
	n = STATS_records
	set yrange [-0.6:n - 0.4]
	set xrange [0:STATS_max * 1.45]
	set ytics scale 0
	set grid noytics
	set lmargin 30
	plot files skip 2 using ($2 / 2):(n - 1 - $0):($2 / 2):(0.35):yticlabels(1) with boxxyerror fs solid 0.6 lc rgb "#4477aa", \
		files skip 2 using 2:(n - 1 - $0):(sprintf(" %.0f× (%.2f× LAME)", $2, $3)) with labels left offset 0.3, 0
}
