#!/usr/bin/env bash
# Every GPU measurement the benchmarks hold, in one sitting on one GPU, resumable:
#   benchmarks/gpu_session.sh OUT_DIR [suite|quality|all]
# suite:   benchmarks/gpu_suite.sh, alone on the GPU (throughput; nothing else runs beside it).
# quality: side by side on the same GPU (their seconds are wall times, not throughput):
#          smart_quality.py (RTE and MRPC: plain, SMART, SMART+Bregman, seeds 1-3, 5 epochs, and the sweep),
#          squad_real.py (mtdnn, Hugging Face, joint SQuAD+RTE; 3 epochs) and kd_isolate.py.
# Settings through the environment: DEVICE, PRECISION, ENCODER (quality runs), QUALITY_S (seconds after which
# no new quality run starts; the phase is cut 60 s later), JOBS (smart_quality runs at a time), TINY=1 (a dry
# run on a CPU: tiny encoder, few rows). Finished quality runs are kept in STATE (default runs/gpu-session), so
# calling it again adds what is missing. Each result is a JSON file in OUT_DIR; status.txt says what finished.
set -uo pipefail
out=${1:?usage: benchmarks/gpu_session.sh OUT_DIR [suite|quality|all]}
what=${2:-all}
py=${PYTHON:-python}
cd "$(dirname "$0")/.."
mkdir -p "$out"
out=$(cd "$out" && pwd)
state=${STATE:-runs/gpu-session}
mkdir -p "$state"
device=${DEVICE:-cuda}
precision=${PRECISION:-bf16}
encoder=${ENCODER:-all-minilm-l6-v2}
budget=${QUALITY_S:-240}
stamp() { echo "$(date -u +%H:%M:%S) $*" | tee -a "$out/status.txt"; }

if [ "$what" = suite ] || [ "$what" = all ]; then
    stamp "suite: start"
    benchmarks/gpu_suite.sh "$out/suite" "${PEAK_TFLOPS:-989}"
    stamp "suite: done"
fi
[ "$what" = quality ] || [ "$what" = all ] || exit 0

if [ "${TINY:-0}" = 1 ]; then
    smart=(--encoder tiny-random-bert --epochs 1 --max-train-samples 40 --max-seq-len 32 --seeds 1 --sweep-seeds 1)
    squad=(--encoder tiny-random-bert --epochs 1 --max-train-questions 40)
    kd=(--encoder tiny-random-bert --epochs 1 --max-train-samples 40 --teacher-seeds 1 --student-seeds 1)
else
    smart=(--encoder "$encoder" --epochs 5 --seeds 1,2,3)
    squad=(--encoder "$encoder" --epochs 3)
    kd=(--encoder "$encoder")
fi
cut=$((budget + 60))
export OMP_NUM_THREADS=1  # about 16 training processes share 16 cores
stamp "quality: start (new runs until +${budget} s, cut at +${cut} s)"
timeout "$cut" "$py" benchmarks/smart_quality.py --device "$device" --precision "$precision" "${smart[@]}" \
    --tasks rte,mrpc --sweep all --sweep-tasks rte,mrpc --jobs "${JOBS:-8}" --deadline "$budget" \
    --num-threads 1 --num-workers 0 --run-timeout 240 \
    --out "$state/smart_quality.json" > "$out/smart_quality.log" 2>&1 &
pids=($!)
for system in mtdnn hf joint; do
    if [ -f "$state/squad_$system.json" ]; then continue; fi
    timeout "$cut" "$py" benchmarks/squad_real.py --device "$device" --precision "$precision" "${squad[@]}" \
        --threads 1 --systems "$system" --out "$state/squad_$system.json" > "$out/squad_$system.log" 2>&1 &
    pids+=($!)
done
timeout "$cut" "$py" benchmarks/kd_isolate.py --device "$device" --precision "$precision" "${kd[@]}" \
    --jobs "${KD_JOBS:-5}" --deadline "$budget" --run-timeout 240 --threads 1 --num-workers 0 \
    --work "$state/kd" --out "$state/kd_isolate.json" \
    > "$out/kd_isolate.log" 2>&1 &
pids+=($!)
for pid in "${pids[@]}"; do wait "$pid"; stamp "quality: process $pid exit $?"; done
cp "$state"/*.json "$out"/ 2>/dev/null
stamp "quality: done"
