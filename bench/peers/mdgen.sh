#!/usr/bin/env bash
# The jq programs are single-quoted on purpose.
# shellcheck disable=SC2016
# mdgen.sh OUT_DIR BENCHMARKS.md [PLOTS_DIR]: (re)write BENCHMARKS.md from the
# JSON lines of the last runs: OUT_DIR/bench.jsonl (make bench) and
# OUT_DIR/peers.jsonl (make bench-peers). The SVGs in PLOTS_DIR (default
# bench/plots; bench/peers/plots.sh draws them) are embedded by links relative
# to BENCHMARKS.md: the listener and unique-stream plots in a section of
# their own, the encoder chart in the encoder table's part. A section whose .jsonl is absent is kept as it stands in
# the existing BENCHMARKS.md, so one target never erases the other's figures.
# Within a section, each subsection (listen, unique, latency, control, store, cluster,
# ...) sits between <!-- BEGIN suite:sub | stamp --> and <!-- END suite:sub -->,
# the stamp naming the run it comes from: a run that did not cover a
# subsection (SECTIONS="store", say) keeps the existing text, and says so
# under its heading when it comes from another run. A report written before
# these markers is read by its headings (legacy_map below).
# Needs jq (Debian's jq 1.6 is enough).
set -euo pipefail
out=${1:?usage: mdgen.sh OUT_DIR BENCHMARKS.md [PLOTS_DIR]}
md=${2:?usage: mdgen.sh OUT_DIR BENCHMARKS.md [PLOTS_DIR]}
plots=${3:-$(cd "$(dirname "$0")/.." && pwd)/plots}

# plot_link NAME: the link to PLOTS_DIR/NAME.svg from BENCHMARKS.md's
# directory, or nothing if there is no such file.
plot_link() {
	[ -f "$plots/$1.svg" ] || return 0
	realpath -m --relative-to="$(dirname "$md")" "$plots/$1.svg"
}
ENCODER_SVG=$(plot_link encoder)

# The jq programs: report/lib.jq (helpers), report/peers.jq and report/bench.jq
# (one section each, included with -L).
jqdir=$(cd "$(dirname "$0")" && pwd)/report

# legacy_map SUITE: where each subsection starts in a report written before
# the subsection markers ("line prefix=subsection;..."); the header (the run
# and machine) is regenerated, not kept.
legacy_map() {
	case $1 in
	bench) echo 'Format check=format;### Listener ladder=listen;### Unique-stream ladder=unique;### A change heard=latency;### Control plane=control;### Go benchmarks=gobench' ;;
	peers) echo 'At a glance=glance;Format check=format;### (a)=listen;### (b)=unique;### (c)=latency;### (d)=control' ;;
	esac
}

# old_sub SUITE SUB: subsection SUB of section SUITE in the existing report:
# its stamp on the first line, then its text; nothing if it has none.
old_sub() {
	[ -f "$md" ] || return 0
	awk -v suite="$1" -v want="$2" -v map="$(legacy_map "$1")" '
	BEGIN {
		b = "<!-- BEGIN " suite " -->"; e = "<!-- END " suite " -->"
		sb = "<!-- BEGIN " suite ":" want " | "; se = "<!-- END " suite ":" want " -->"
		np = split(map, kv, ";")
		for (i = 1; i <= np; i++) { split(kv[i], p, "="); pre[i] = p[1]; nm[i] = p[2] }
	}
	$0 == b { insec = 1; next }
	$0 == e { insec = 0; next }
	!insec { next }
	index($0, sb) == 1 { stamp = substr($0, length(sb) + 1); sub(/ -->$/, "", stamp); nested = 1; found = 1; next }
	$0 == se { nested = 0; next }
	nested { body = body $0 "\n"; next }
	/^<!-- (BEGIN|END) / { cur = ""; next }
	/^Run .* commit `/ { lt = $2; lc = $0; sub(/.*commit `/, "", lc); sub(/`.*/, "", lc) }
	/^\| CPU \| / { lcpu = $0; sub(/^\| CPU \| /, "", lcpu); sub(/ \|$/, "", lcpu) }
	suite == "peers" && /^\| (Icecast|Liquidsoap) \| / { v = $0; sub(/^\| [A-Za-z]+ \| /, "", v); sub(/ \|$/, "", v); if (v != "") lver = lver ", " v }
	{
		hit = 0
		for (i = 1; i <= np; i++) if (index($0, pre[i]) == 1) { cur = nm[i]; hit = 1; break }
		if (!hit && $0 ~ /^### /) cur = ""
	}
	cur == want { legacy = legacy $0 "\n" }
	END {
		if (found) { print stamp; printf "%s", body }
		else if (legacy != "") { print "run " lt ", commit " lc ", " lcpu lver; printf "%s", legacy }
	}' "$md"
}

# emit_sub SUITE SUB STAMP TEXT [NOTE]: one subsection between its markers;
# NOTE, if given, goes under its heading (or first, if it has none), where a
# note from an earlier keep is dropped.
emit_sub() {
	echo "<!-- BEGIN $1:$2 | $3 -->"
	printf '%s\n' "$4" | awk -v note="${5:-}" '
	function out(l) {
		if (l == "") { blanks++; return }
		for (; blanks > 0; blanks--) print ""
		print l
	}
	/^> \*Kept from an earlier run/ { skip = 1; next }
	skip && /^$/ { skip = 0; next }
	{ skip = 0 }
	note != "" && !done && /^### / { out($0); out(""); out(note); done = 1; next }
	note != "" && !done { out(note); out(""); done = 1 }
	{ out($0) }'
	echo
	echo "<!-- END $1:$2 -->"
}

# section SUITE PROG TITLE SUB...: the section SUITE of the report, PROG its
# program in report/. With results (OUT_DIR/SUITE.jsonl): the header from
# them, then each subsection the run covered from them, and each other one as
# it stands in the existing report. Without: the existing section as it
# stands, or a placeholder.
section() {
	local name=$1 prog=$2 title=$3
	shift 3
	local j="$out/$name.jsonl"
	echo "<!-- BEGIN $name -->"
	if [ -s "$j" ]; then
		local stamp ran sub text old ostamp
		# The peers' versions matter to their figures: a part kept from
		# another run names them.
		stamp=$(jq -L "$jqdir" -r -s --arg suite "$name" 'include "lib"; stamp(.; $suite == "peers")' "$j")
		ran=" $(jq -L "$jqdir" -r -s 'include "lib"; sections(.) | if . == null then "ALL" else join(" ") end' "$j") "
		jq -L "$jqdir" -r -s --arg part header --arg encoder_svg "$ENCODER_SVG" -f "$jqdir/$prog" "$j"
		for sub; do
			text=""
			if covered "$sub" "$ran"; then
				text=$(jq -L "$jqdir" -r -s --arg part "$sub" --arg encoder_svg "$ENCODER_SVG" -f "$jqdir/$prog" "$j")
			fi
			if [ -n "$text" ]; then
				emit_sub "$name" "$sub" "$stamp" "$text"
				echo
				continue
			fi
			old=$(old_sub "$name" "$sub")
			[ -n "$old" ] || continue
			ostamp=${old%%$'\n'*}
			text=${old#*$'\n'}
			if [ "$ostamp" = "$stamp" ]; then
				emit_sub "$name" "$sub" "$ostamp" "$text"
			else
				emit_sub "$name" "$sub" "$ostamp" "$text" "> *Kept from an earlier run ($ostamp): the run above did not cover this part.*"
			fi
			echo
		done
	elif [ -f "$md" ] && grep -q "<!-- BEGIN $name -->" "$md"; then
		awk -v b="<!-- BEGIN $name -->" -v e="<!-- END $name -->" \
			'$0 == e { on = 0 } on { print } $0 == b { on = 1 }' "$md"
	else
		printf '## %s\n\nNot run yet.\n\n' "$title"
	fi
	echo "<!-- END $name -->"
}

# covered SUB " SECTIONS ": whether a run of SECTIONS (or ALL) wrote SUB.
# The format check comes with whatever listened; the at-a-glance list sums
# up the four side-by-side sections and is rewritten only with all four.
covered() {
	local sub=$1 ran=$2 s
	case $ran in *" ALL "*) return 0 ;; esac
	case $sub in
	format) return 0 ;;
	glance)
		for s in listen unique latency control; do
			case $ran in *" $s "*) ;; *) return 1 ;; esac
		done
		return 0
		;;
	esac
	case $ran in *" $sub "*) return 0 ;; esac
	return 1
}

# plots_section: the listener and unique-stream plots (both targets' data),
# those of them that exist, between their markers.
plots_section() {
	local l u
	l=$(plot_link listen-cpu)
	u=$(plot_link unique-stalls)
	[ -n "$l$u" ] || return 0
	echo "<!-- BEGIN plots -->"
	echo "## Plots"
	echo
	echo "Drawn by \`bench/peers/plots.sh\` (gnuplot) from the data files beside them in \`bench/plots/\`, which"
	echo "\`go run ./bench plotdata\` writes from the JSON lines of the last \`make bench\` and \`make bench-peers\`: a"
	echo "series that a run did not measure keeps its data, so each legend names the run (date, CPU) its"
	echo "points come from. Server CPU is per listener-second of the steady window (the ladders' *CPU ms /"
	echo "listener*, Icecast + Liquidsoap summed); a stalled listener is one whose player ran dry at least"
	echo "once. The tables below hold every figure; the encoder chart is with its table."
	echo
	[ -z "$l" ] || printf '![Server CPU per listener-second against listeners](%s)\n\n' "$l"
	[ -z "$u" ] || printf '![Stalled listeners against unique streams](%s)\n\n' "$u"
	echo "<!-- END plots -->"
	echo
}

tmp=$(mktemp "${md}.XXXXXX")
trap 'rm -f "$tmp"' EXIT
{
	cat <<'EOF'
# Benchmarks

Generated by `bench/peers/mdgen.sh` from the JSON lines in `bench/out/`: do not edit by hand.
`make bench` measures synthcast alone (`bench/run-bench.sh`); `make bench-peers` runs it side by
side with Icecast 2 + Liquidsoap 2 and nginx in the same run (`bench/run-peers.sh`). Each target
rewrites its own section and leaves the other as it was; a run of some of a target's sections
(`SECTIONS=...`) rewrites those parts and keeps the others, each part marked with the run it comes
from when that is not the run its section's header describes. Every figure comes from the load-test
command (`go run ./bench`, or wrk for the control plane) on this one machine over loopback, and
each row lists its command line.

Columns (the load-test command's own definitions are in `bench/doc.go`): *ok / failed* =
listeners connected to the end of the steady window / that could not connect or got no 200
(the *failures* column counts the reasons; *closed early* = cut off by the server);
*stalled listeners* = listeners whose lead went below zero at least once after their first
second, i.e. a real-time player ran dry (the events: how many times); *TTFB* = connected to
first body byte; *burst* = audio received at once on connecting; *lead* = audio received minus
time since the first byte (min, median of each listener's lowest, max); *sync losses* = bytes
that were not where an MP3 frame should start; *server CPU s* = user+system CPU of the server
process(es) over the steady window (per listener in ms); *RSS* = resident memory (per listener:
above the idle baseline); *client CPU* = the load generator's own, on the same cores.

EOF
	plots_section
	section bench bench.jq "synthcast alone: \`make bench\`" format listen unique icy latency control store cluster restart encoder gobench
	echo
	section peers peers.jq "Side by side: \`make bench-peers\`" glance format listen unique latency control store
} >"$tmp"
mv "$tmp" "$md"
trap - EXIT
