# shellcheck shell=bash
# The encoder section of make bench (sourced by bench/run-bench.sh after
# lib.sh): the same PCM through synthcast's encoder and ffmpeg's MP3
# encoders, each timed by its CPU (definitions in bench/doc.go, "The
# encoder table").

# bp_encoder_kernels: one record {section:"encoder", case:"build"}: the CPU
# (lscpu's model name, whether it has AVX2 and FMA) and the files of render
# and the shine package that -tags purego swaps out (none: both synthcast
# rows run the same code).
bp_encoder_kernels() {
	local model avx2=false fma=false pkgs='github.com/synthcast/synthcast/render|github.com/braheezy/shine-mp3/pkg/mp3'
	local list='{{.ImportPath}} {{.GoFiles}} {{.SFiles}}' def pure
	model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
	[ -n "$model" ] || model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
	grep -qw avx2 /proc/cpuinfo && avx2=true
	grep -qw fma /proc/cpuinfo && fma=true
	def=$(go list -deps -f "$list" ./bench | grep -E "^($pkgs) ") || def=""
	pure=$(go list -tags purego -deps -f "$list" ./bench | grep -E "^($pkgs) ") || pure=""
	bp_record "$(jq -nc --arg m "$model" --argjson a "$avx2" --argjson f "$fma" --arg d "$def" --arg p "$pure" \
		'{section: "encoder", case: "build", cpu: $m, avx2: $a, fma: $f,
		  default_files: ($d | split("\n") | map(select(. != ""))), purego_files: ($p | split("\n") | map(select(. != ""))),
		  kernels_differ: ($d != $p)}')"
}

# bp_encoder_row ROW SHORT LABEL BASELINE OUT CMD...: one row, `bench encode`
# (CMD) recorded with {section:"encoder", row, short (the chart's name),
# label (the table's), baseline}; OUT (the encoded file, or "") is removed
# after.
bp_encoder_row() {
	local row=$1 short=$2 label=$3 base=$4 out=$5
	shift 5
	local shown="$*" pg="go build -tags purego -o bench-purego ./bench && bench-purego"
	shown=${shown/#"$BENCH_PUREGO"/"$pg"}
	shown=${shown/#"$BENCH"/"$BENCH_SHOWN"}
	shown=${shown//"$BP_RUN"/RUN}
	BP_SERVER="" BP_SHOWN_CMD=$shown bp_case "$(jq -nc --arg r "$row" --arg s "$short" --arg l "$label" --argjson b "$base" \
		'{section: "encoder", row: $r, short: $s, label: $l, baseline: $b}')" "encoder-$row" "$ENCODER_TIMEOUT" "$@"
	[ -z "$out" ] || rm -f "$out"
}

# bp_encoder_section: ENCODER_SECONDS of the test signal (bench pcm, into
# the run's directory), then each row over it, ENCODER_REPEATS runs each:
# synthcast's encoder built as usual and with -tags purego, LAME through
# ffmpeg's libmp3lame at its default quality and at -q 7, ffmpeg's libshine
# (if this ffmpeg has it), and ffmpeg reading the PCM without encoding.
bp_encoder_section() {
	local in="$BP_RUN/encoder-in.raw" lame shine ffv res encoders
	local -a ff=(ffmpeg -nostdin -hide_banner -loglevel error -threads 1 -f s16le -ar 44100 -ac 2 -i "$in")
	local -a enc=(encode -in "$in" -repeats "$ENCODER_REPEATS" -timeout "$((ENCODER_TIMEOUT - 10))s" -json)
	(cd "$BP_ROOT" && go build -tags purego -o "$BP_RUN/bench-purego" ./bench) || bp_die "go build -tags purego ./bench failed"
	BENCH_PUREGO="$BP_RUN/bench-purego"
	bp_encoder_kernels
	bp_log "encoder: $ENCODER_SECONDS s of PCM into $in"
	bp_run encoder-pcm 120 "$BENCH" pcm -o "$in" -seconds "$ENCODER_SECONDS" -json || bp_die "bench pcm failed: $(tail -c 400 "$BP_RUN/encoder-pcm.err")"
	res=$(bp_last_json "$BP_RUN/encoder-pcm.out") || bp_die "bench pcm printed no JSON"
	bp_record "$(jq -c --arg cmd "$BENCH_SHOWN pcm -o RUN/encoder-in.raw -seconds $ENCODER_SECONDS -json" --argjson n "$ENCODER_REPEATS" \
		'{section: "encoder", case: "input", repeats: $n, cmd: $cmd, result: (. + {file: "RUN/encoder-in.raw"})}' <<<"$res")"

	lame=$(dpkg-query -W -f '${Version}' libmp3lame0 2>/dev/null | sed 's/-[^-]*$//') || lame=""
	shine=$(dpkg-query -W -f '${Version}' libshine3 2>/dev/null | sed 's/-[^-]*$//') || shine=""
	ffv=$(ffmpeg -hide_banner -version 2>/dev/null | awk 'NR == 1 { print $3 }')
	bp_encoder_row synthcast "synthcast, default build" "synthcast render.Encoder (shine in Go), default build" false "$BP_RUN/enc-synthcast.mp3" \
		"$BENCH" "${enc[@]}" -out "$BP_RUN/enc-synthcast.mp3"
	bp_encoder_row synthcast-purego "synthcast, purego" "synthcast render.Encoder, -tags purego" false "$BP_RUN/enc-purego.mp3" \
		"$BENCH_PUREGO" "${enc[@]}" -out "$BP_RUN/enc-purego.mp3"
	bp_encoder_row lame-default "LAME -q 3 (default)" "LAME ${lame:-?} (ffmpeg ${ffv:-?} libmp3lame), default quality (-q 3)" false "$BP_RUN/enc-lame.mp3" \
		"$BENCH" "${enc[@]}" -out "$BP_RUN/enc-lame.mp3" -- "${ff[@]}" -c:a libmp3lame -b:a 128k -f mp3 -y "$BP_RUN/enc-lame.mp3"
	bp_encoder_row lame-q7 "LAME -q 7" "LAME ${lame:-?} (ffmpeg libmp3lame), -compression_level 7 (LAME -q 7)" false "$BP_RUN/enc-lame7.mp3" \
		"$BENCH" "${enc[@]}" -out "$BP_RUN/enc-lame7.mp3" -- "${ff[@]}" -c:a libmp3lame -compression_level 7 -b:a 128k -f mp3 -y "$BP_RUN/enc-lame7.mp3"
	# Not `ffmpeg … | grep -q`: with pipefail, grep's early exit fails ffmpeg's write.
	encoders=$(ffmpeg -hide_banner -encoders 2>/dev/null) || encoders=""
	if grep -qw libshine <<<"$encoders"; then
		bp_encoder_row shine "shine in C" "shine ${shine:-?} in C (ffmpeg libshine)" false "$BP_RUN/enc-shine.mp3" \
			"$BENCH" "${enc[@]}" -out "$BP_RUN/enc-shine.mp3" -- "${ff[@]}" -c:a libshine -b:a 128k -f mp3 -y "$BP_RUN/enc-shine.mp3"
	else
		bp_record "$(jq -nc '{section: "encoder", row: "shine", short: "shine in C", label: "shine in C (ffmpeg libshine)", baseline: false,
			skipped: "this ffmpeg has no libshine encoder (ffmpeg -encoders)"}')"
	fi
	bp_encoder_row baseline "ffmpeg, no encoder" "ffmpeg reading the PCM, no encoding (pcm_s16le to null)" true "" \
		"$BENCH" "${enc[@]}" -- "${ff[@]}" -c:a pcm_s16le -f null -
	rm -f "$in"
}
