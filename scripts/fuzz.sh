#!/bin/sh
# Fuzz the firmware with libFuzzer + ASan + UBSan (docs/reliability.md):
#   frame_decoder    dt_frame_rx + dt_cobs + dt_packet, byte by byte
#   command_handler  the whole app (a real run's model) fed bytes as from the serial port
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [OUT_DIR] [RUN] [TARGET...]
#
# Defaults: 60 s each, ./fuzz-out, /work/runs/digits (trained and fitted), both targets;
# $PYTHON (default python3) must import drip_tiny (the project venv).
# The corpus in OUT_DIR/corpus/<target> grows across runs (seeds: tests/fuzz/fuzz_build.py);
# a crash leaves OUT_DIR/artifacts/<target>/crash-* and makes the script exit 1.
# One summary line per target: executions, cov (edges) and ft (features) at the end.
set -eu
seconds=${1:-60}
out=${2:-fuzz-out}
run=${3:-/work/runs/digits}
shift $(( $# < 3 ? $# : 3 ))
targets=${*:-"frame_decoder command_handler"}
here=$(cd "$(dirname "$0")/.." && pwd)

"${PYTHON:-python3}" "$here/tests/fuzz/fuzz_build.py" "$out" --run "$run" >/dev/null
status=0
for t in $targets; do
    mkdir -p "$out/artifacts/$t"
    log="$out/$t.log"
    if ! "$out/$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
            -artifact_prefix="$out/artifacts/$t/" "$out/corpus/$t" >"$log" 2>&1; then
        status=1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)
    crashes=$(ls "$out/artifacts/$t" | wc -l)
    echo "$t: ${execs:-0} executions in ${seconds} s, $last, corpus $(ls "$out/corpus/$t" | wc -l) files, findings $crashes"
    if [ "$crashes" -ne 0 ]; then
        status=1
        tail -n 40 "$log" >&2
    fi
done
exit $status
