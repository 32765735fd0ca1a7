#!/usr/bin/env bash
# The demonstration decoder behind --model demo-lm: train-lm on ../shared/data (resumable: rerun to continue), then
# ConsistentEE policies at a few α, then the folder kept in the repository (models/demo-lm, F16 weights, ≤ 20 MB).
#   scripts/demo-lm.sh train     train (or resume) into $RUNS/model
#   scripts/demo-lm.sh policies  exit policies for α in $ALPHAS (default 0.005 0.01 0.02 0.05) into $RUNS/model/policy-<α>.json
#   scripts/demo-lm.sh draft     the draft adapter of self-speculative decoding at exit 3 into $RUNS/model/draft-adapter.safetensors
#   scripts/demo-lm.sh measure   eval-gen of each policy (calibrated to ROUGE-L 0.9), the generation report with the α
#                                that reaches it fastest (else the most faithful), and the KV comparison (--compare-kv) of
#                                saturation and ConsistentEE, into $RUNS/measure/ (each step skipped once its file exists)
#   scripts/demo-lm.sh pack [α]  copy config, weights, tokenizer, the policy of α (default 0.02, the one shipped) as exit-policy.json,
#                                the draft adapter, and a held-out sample (front and back 200 documents, gzipped) to models/demo-lm
#   RUNS=dir (default ~/offramp-runs/demo-lm); STEPS=n training steps (default 3000: about 80 min on 2 cores)
# Shape: 12 layers of width 256 (4 query heads over 2 key/value heads, SwiGLU 640), vocabulary 4,096, tied
# embeddings: 9.3 M parameters, 18.6 MB in F16. Deep and thin rather than the default 6 × 384 (same size): more
# layers give a token more places to leave, and the LM head, paid at every layer a softmax criterion tests, is a
# smaller share of a layer's cost at width 256 than at 384.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${RUNS:-$HOME/offramp-runs/demo-lm}"
MODEL="$RUNS/model"
ALPHAS="${ALPHAS:-0.005 0.01 0.02 0.05}"
STEPS="${STEPS:-3000}"
mkdir -p "$RUNS"
case "${1:-}" in
  train)
    "$ROOT/offramp" train-lm --out "$MODEL" --layers 12 --hidden 256 --heads 4 --kv-heads 2 --ffn 640 --vocab 4096 \
      --seq 256 --batch 16 --steps "$STEPS" --warmup 200 --lr 1e-3 --eval-every 500 --checkpoint-every 100 --dtype f16 \
      2>&1 | tee -a "$RUNS/train.log" | grep -E "^(step|eval|summary|saved|resum|corpus|tokenizer)" || true ;;
  policies)
    for a in $ALPHAS; do
      [ -f "$MODEL/policy-$a.json" ] || "$ROOT/offramp" train-lm-policy --model "$MODEL" --alpha "$a" \
        --out "$MODEL/policy-$a.json" 2>&1 | tee -a "$RUNS/policies.log" | grep -E "^(policy|summary|saved)" || true
    done ;;
  draft)
    [ -f "$MODEL/draft-adapter.safetensors" ] || "$ROOT/offramp" train-lm-draft --model "$MODEL" --layer 3 \
      2>&1 | tee -a "$RUNS/draft.log" | grep -E "^(positions|draft|epoch|summary)" || true ;;
  measure)
    out="$RUNS/measure"; mkdir -p "$out"
    for a in $ALPHAS; do
      [ -s "$out/eval-consistentee-$a.txt" ] || "$ROOT/offramp" eval-gen --model "$MODEL" --policy consistentee \
        --policy-file "$MODEL/policy-$a.json" > "$out/eval-consistentee-$a.txt"
      grep '^summary' "$out/eval-consistentee-$a.txt"
    done
    best="$(for a in $ALPHAS; do grep '^summary' "$out/eval-consistentee-$a.txt" | sed "s/^/$a /"; done \
      | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
               ok = v["rougeL_vs_full"] >= 0.9; key = ok ? 1000 + v["speedup"] : v["rougeL_vs_full"]
               if (key > bestKey) { bestKey = key; best = $1 } } END { print best }')"
    echo "policy for the report: alpha $best"
    [ -f "$out/report-gen/index.html" ] || "$ROOT/offramp" report-gen --model "$MODEL" --policy-file "$MODEL/policy-$best.json" \
      --out "$out/report-gen" > "$out/report-gen.txt"
    grep '^summary' "$out/report-gen.txt"
    [ -s "$out/eval-speculative.txt" ] || "$ROOT/offramp" eval-gen --model "$MODEL" --policy speculative --repeats 9 \
      > "$out/eval-speculative.txt"
    grep '^summary' "$out/eval-speculative.txt"
    for p in saturation consistentee; do
      [ -s "$out/kv-$p.txt" ] || "$ROOT/offramp" eval-gen --model "$MODEL" --policy "$p" --policy-file "$MODEL/policy-$best.json" \
        --compare-kv > "$out/kv-$p.txt"
      sed -n '/^KV of skipped/,$p' "$out/kv-$p.txt"
    done ;;
  pack)
    a="${2:-0.02}"; out="$ROOT/models/demo-lm"; mkdir -p "$out"
    cp "$MODEL/config.json" "$MODEL/generation_config.json" "$MODEL/model.safetensors" "$MODEL/tokenizer.json" "$out/"
    cp "$MODEL/policy-$a.json" "$out/exit-policy.json"
    cp "$MODEL/draft-adapter.safetensors" "$out/"
    { head -n 200 "$MODEL/train/heldout.jsonl"; tail -n 200 "$MODEL/train/heldout.jsonl"; } | gzip -9 -n > "$out/heldout.jsonl.gz"
    du -b "$out"/* ; du -cb "$out" | tail -n 1 ;;
  *) sed -n 2,11p "$0"; exit 2 ;;
esac
