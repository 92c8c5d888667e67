#!/usr/bin/env bash
# plots.sh OUT_DIR PLOTS_DIR: the plots BENCHMARKS.md embeds. First
# `bench plotdata` writes PLOTS_DIR/*.tsv from OUT_DIR/bench.jsonl (make
# bench) and OUT_DIR/peers.jsonl (make bench-peers); a series those files do
# not hold keeps its data file, so one target never erases the other's.
# Then gnuplot (bench/peers/plots.gp) draws, from every data file there:
#
#   listen-cpu.svg     server CPU per listener-second against listeners
#                      (the listener ladders: synthcast, Icecast + Liquidsoap)
#   unique-stalls.svg  stalled listeners against unique streams
#                      (the unique-stream ladders: synthcast, Liquidsoap)
#   encoder.svg        the encoder table's RTF per core, as bars
#
# BENCH names the load-test command (default: go run ./bench). Without
# gnuplot (Debian's gnuplot-nox) the data files are written and the SVGs
# left as they were; the exit status is 0 either way unless plotdata fails.
set -euo pipefail
out=${1:?usage: plots.sh OUT_DIR PLOTS_DIR}
dir=${2:?usage: plots.sh OUT_DIR PLOTS_DIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$dir"
if [ -n "${BENCH:-}" ]; then
	"$BENCH" plotdata -bench "$out/bench.jsonl" -peers "$out/peers.jsonl" -dir "$dir" -json >/dev/null
else
	(cd "$root" && go run ./bench plotdata -bench "$out/bench.jsonl" -peers "$out/peers.jsonl" -dir "$dir" -json) >/dev/null
fi
if ! command -v gnuplot >/dev/null; then
	echo "plots.sh: gnuplot is not installed (apt-get install gnuplot-nox): the SVGs in $dir are left as they were" >&2
	exit 0
fi

# draw NAME KIND XLABEL YLABEL TITLE: NAME.svg from NAME.*.tsv (lines) or
# NAME.tsv (bars), if there is any; through a temporary file, so a failed
# gnuplot leaves the old SVG.
draw() {
	local name=$1 kind=$2 xl=$3 yl=$4 ttl=$5 files="" f
	for f in "$dir/$name".*.tsv "$dir/$name.tsv"; do
		[ -f "$f" ] && files="$files${files:+ }$f"
	done
	[ -n "$files" ] || return 0
	if [ "$kind" = bars ]; then
		# The bars' title row holds the run's stamp (date, CPU): into the title.
		ttl="$ttl ($(sed -n '2s/\t.*//p' "$dir/$name.tsv" | tr -d "\"'"))"
	fi
	case $dir in *"'"* | *" "*)
		echo "plots.sh: $dir: gnuplot is given the paths in quotes and words: no quote or space, please" >&2
		return 1
		;;
	esac
	if gnuplot -e "kind='$kind'; files='$files'; out='$dir/.$name.svg.tmp'; xl='$xl'; yl='$yl'; ttl='$ttl'" "$here/plots.gp"; then
		mv "$dir/.$name.svg.tmp" "$dir/$name.svg"
	else
		rm -f "$dir/.$name.svg.tmp"
		echo "plots.sh: gnuplot failed on $name" >&2
		return 1
	fi
}

draw listen-cpu lines "listeners asked (the tables say how many stayed connected)" "server CPU ms per listener-second" \
	"Server CPU per listener-second (lower is better)"
draw unique-stalls lines "unique streams, one listener each" "stalled listeners" \
	"Listeners that stalled at least once (lower is better)"
draw encoder bars "seconds of audio encoded per CPU-second (RTF per core; higher is better)" "" \
	"MP3 encoders at 128 kbit/s, one thread"
