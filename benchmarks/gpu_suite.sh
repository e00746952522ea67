#!/usr/bin/env bash
# The throughput measurements on one GPU, in about 7 minutes, each result a JSON file in OUT_DIR:
#   benchmarks/gpu_suite.sh OUT_DIR [PEAK_TFLOPS]      (PEAK_TFLOPS: dense bf16 peak, 989 for H100/H200 SXM)
# 1. train_overhead_eager.json: BERT-base, length 128, bf16, batch 32/64/128/256: mtdnn vs bare loop vs
#    Hugging Face Trainer in one process, MFU; 2. train_overhead_options.json: --compile and AdamW without
#    the fused kernel at batch 32; 3./4. glue_mix*.json: useful tokens/s on the real GLUE mix,
#    mtdnn (eager, compiled) vs HF Trainer padding to 128 and vs HF Trainer with dynamic padding and
#    group_by_length (the anchor a user tuning the Trainer would pick). Each step has a time limit; status.txt says
#    which finished (a step cut at its limit leaves its finished rows, one JSON line each, in its .log). Needs ../shared/data/glue beside the checkout (or MTDNN_GLUE_DIR).
# Time limits per step (seconds): T_EAGER, T_OPTIONS, T_MIX, T_MIX_COMPILED (0 skips a step).
# A dry run of the same script on a CPU: DEVICE=cpu PRECISION=fp32 ENCODER=all-minilm-l6-v2 SIZES=4,8 STEPS=2 MIX_ROWS=40 MIX_STEPS=40
set -uo pipefail
out=${1:?usage: benchmarks/gpu_suite.sh OUT_DIR [PEAK_TFLOPS]}
peak=${2:-989}
py=${PYTHON:-python}
mkdir -p "$out"
cd "$(dirname "$0")/.."
nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || true
run() {
    local name=$1 limit=$2
    shift 2
    if [ "$limit" -le 0 ]; then echo "$name: skipped" | tee -a "$out/status.txt"; return; fi
    local started=$SECONDS
    timeout "$limit" "$py" "$@" --out "$out/$name.json" > "$out/$name.log" 2>&1
    echo "$name: exit $? in $((SECONDS - started)) s" | tee -a "$out/status.txt"
}
common=(--device "${DEVICE:-cuda}" --precision "${PRECISION:-bf16}" --encoder "${ENCODER:-bert-base-config}")
sizes=${SIZES:-32,64,128,256}
steps=${STEPS:-10}
first=${sizes%%,*}
run train_overhead_eager "${T_EAGER:-120}" benchmarks/train_overhead.py "${common[@]}" --seq-len 128 --batch-sizes "$sizes" \
    --variants eager --steps "$steps" --rounds 3 --hf --peak-tflops "$peak"
run train_overhead_options "${T_OPTIONS:-180}" benchmarks/train_overhead.py "${common[@]}" --seq-len 128 --batch-sizes "$first" \
    --variants compile,unfused --steps "$steps" --rounds 3 --peak-tflops "$peak"
# the GLUE mix: nearly a whole epoch of the same 5 x MIX_ROWS rows for every system, so that both see the
# same length distribution (a few dozen steps of a shuffled mix differ by 3x in tokens per sample)
mix=(--batch-size "$first" --rows-per-task "${MIX_ROWS:-1000}" --steps "${MIX_STEPS:-150}")
run glue_mix "${T_MIX:-70}" benchmarks/glue_mix_throughput.py "${common[@]}" "${mix[@]}"
run glue_mix_compiled "${T_MIX_COMPILED:-100}" benchmarks/glue_mix_throughput.py "${common[@]}" "${mix[@]}" --compile
