#!/usr/bin/env bash
# The demonstration decoder behind --model demo-lm: train-lm on ../shared/data (resumable: rerun to continue), then
# ConsistentEE policies at a few α, then the folder kept in the repository (models/demo-lm, F16 weights, ≤ 20 MB).
#   scripts/demo-lm.sh train     train (or resume) into $RUNS/model
#   scripts/demo-lm.sh policies  exit policies for α in $ALPHAS (default 0.005 0.01 0.02) into $RUNS/model/policy-<α>.json
#   scripts/demo-lm.sh pack [α]  copy config, weights, tokenizer, the policy of α (default 0.01) as exit-policy.json
#                                and a held-out sample (front and back 200 documents, gzipped) to models/demo-lm
#   RUNS=dir (default ~/offramp-runs/demo-lm)
# Shape: 12 layers of width 256 (4 query heads over 2 key/value heads, SwiGLU 640), vocabulary 4,096, tied
# embeddings: 9.3 M parameters, 18.6 MB in F16. Deep and thin rather than the default 6 × 384 (same size): more
# layers give a token more places to leave, and the LM head, paid at every layer a softmax criterion tests, is a
# smaller share of a layer's cost at width 256 than at 384.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${RUNS:-$HOME/offramp-runs/demo-lm}"
MODEL="$RUNS/model"
ALPHAS="${ALPHAS:-0.005 0.01 0.02}"
mkdir -p "$RUNS"
case "${1:-}" in
  train)
    "$ROOT/offramp" train-lm --out "$MODEL" --layers 12 --hidden 256 --heads 4 --kv-heads 2 --ffn 640 --vocab 4096 \
      --seq 256 --batch 16 --steps 6000 --warmup 300 --lr 1e-3 --eval-every 500 --checkpoint-every 100 --dtype f16 \
      2>&1 | tee -a "$RUNS/train.log" | grep -E "^(step|eval|summary|saved|resum|corpus|tokenizer)" || true ;;
  policies)
    for a in $ALPHAS; do
      [ -f "$MODEL/policy-$a.json" ] || "$ROOT/offramp" train-lm-policy --model "$MODEL" --alpha "$a" \
        --out "$MODEL/policy-$a.json" 2>&1 | tee -a "$RUNS/policies.log" | grep -E "^(policy|summary|saved)" || true
    done ;;
  pack)
    a="${2:-0.01}"; out="$ROOT/models/demo-lm"; mkdir -p "$out"
    cp "$MODEL/config.json" "$MODEL/generation_config.json" "$MODEL/model.safetensors" "$MODEL/tokenizer.json" "$out/"
    cp "$MODEL/policy-$a.json" "$out/exit-policy.json"
    { head -n 200 "$MODEL/train/heldout.jsonl"; tail -n 200 "$MODEL/train/heldout.jsonl"; } | gzip -9 -n > "$out/heldout.jsonl.gz"
    du -b "$out"/* ; du -cb "$out" | tail -n 1 ;;
  *) sed -n 2,7p "$0"; exit 2 ;;
esac
