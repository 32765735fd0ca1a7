#!/usr/bin/env bash
# BERT-base on GLUE: training of backbone + an exit per layer (joint, or two-stage for SST-2), then the per-exit table, every criterion
# calibrated at --max-drop 0.5 and 1.0, and the report. One task after another; rerunning resumes (training from its
# last checkpoint, finished steps are skipped). Outputs: $RUNS/<task>/ (model, logs, report.txt and report/); the text results are what
# docs/results/bert-base/ keeps.
#   scripts/bert-base-glue.sh [task ...]        default: sst2 mrpc rte cola stsb
#   RUNS=dir (default ~/offramp-runs/bert-base)
#   EPOCHS=n LR=x override the table below for every task named (e.g. EPOCHS=5 RUNS=~/runs-5ep ... mrpc)
#   SEED=n      training seed (default: the table's; initialisation of the exits, dropout and batch order; the validation split
#               carved from train is fixed whatever the seed)
#   MODE=joint|two-stage  overrides the table's mode. two-stage is DeeBERT's (methods.md §2): EPOCHS of backbone + last
#               exit, then EXITS_EPOCHS (default 12) of the other exits on the frozen result's cached features
#   REPORT=0 skips the report (it times every criterion at batch 1 and 32: 10–20 minutes on BERT-base)
#   CONSISTENTEE=1 also trains ConsistentEE's exit policies on the trained model (stage 2, α 0.02, exact estimator,
#                  hardness reward: docs/results/consistentee.md) into <task>/cee-model and evaluates every criterion
#                  with it at --max-drop 0.5 (<task>/cee-eval-maxdrop-0.5.txt); classification tasks only
# Hyper-parameters are the papers' (PABEE / DeeBERT: lr 2e-5..5e-5, batch 32, max length 128, 2-5 epochs), see
# HPARAMS below; the exits' learning rate is higher because they start from scratch (methods.md §1).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${RUNS:-$HOME/offramp-runs/bert-base}"
TASKS=("$@"); [ ${#TASKS[@]} -eq 0 ] && TASKS=(sst2 mrpc rte cola stsb)
POLICIES=max-prob,entropy,patience,beem-c,beem-a
REGRESSION_POLICIES=patience,beem-c   # STS-B: a score, not a class distribution (no max-prob, entropy or BEEM-A)
declare -A HPARAMS=(   # epochs backbone-lr seed mode: the runs docs/results/bert-base.md keeps (MRPC, CoLA: the best of three runs on
  # validation; SST-2: two-stage, after three joint runs missed the full-depth bar)
  [sst2]="1 2e-5 42 two-stage" [mrpc]="3 3e-5 7 joint" [rte]="3 3e-5 42 joint" [cola]="3 2e-5 3 joint" [stsb]="3 3e-5 42 joint")

for task in "${TASKS[@]}"; do
  read -r epochs lr seed tmode <<<"${HPARAMS[$task]:-3 2e-5 42 joint}"
  epochs="${EPOCHS:-$epochs}"; lr="${LR:-$lr}"; seed="${SEED:-$seed}"
  dir="$RUNS/$task"; model="$dir/model"; mkdir -p "$dir"
  mode="${MODE:-$tmode}"
  echo "== $task: $mode, $epochs epochs, lr $lr, seed $seed -> $dir"
  if [ ! -f "$model/config.json" ]; then
    "$ROOT/offramp" train --task "$task" --model bert-base-uncased --mode "$mode" --pooling cls \
      --epochs "$epochs" --lr "$lr" --heads-lr 1e-4 --batch 32 --max-length 128 --seed "$seed" --out "$model" \
      --exits-epochs "${EXITS_EPOCHS:-12}" \
      2>&1 | tee -a "$dir/train.log" | grep -E "^(epoch|summary|saved|task|resuming|stage|two-stage)" || true
    [ -f "$model/config.json" ] || { echo "training $task did not finish (log: $dir/train.log)"; exit 1; }
  fi
  [ -s "$dir/exits.txt" ] || "$ROOT/offramp" exits --model "$model" > "$dir/exits.txt"
  policies="$POLICIES"; [ "$task" = stsb ] && policies="$REGRESSION_POLICIES"
  for drop in 0.5 1.0; do
    [ -s "$dir/eval-maxdrop-$drop.txt" ] || "$ROOT/offramp" eval --model "$model" --policy "$policies" \
      --max-drop "$drop" --timing-examples 100 --repeats 2 > "$dir/eval-maxdrop-$drop.txt"
  done
  if [ "${REPORT:-1}" = 1 ] && [ ! -f "$dir/report/index.html" ]; then   # the page is written last: present = done
    "$ROOT/offramp" report --model "$model" --out "$dir/report" --max-drop 0.5 --timing-examples 100 --repeats 2 \
        > "$dir/report.txt" 2> "$dir/report.log"
  fi
  if [ "${CONSISTENTEE:-0}" = 1 ] && [ "$task" != stsb ]; then
    [ -f "$dir/cee-model/config.json" ] || "$ROOT/offramp" train --task "$task" --mode consistentee --from "$model" \
        --alpha 0.02 --estimator exact --reward hardness --stages policy --out "$dir/cee-model" > "$dir/cee-train.log" 2>&1
    [ -s "$dir/cee-eval-maxdrop-0.5.txt" ] || "$ROOT/offramp" eval --model "$dir/cee-model" \
        --policy "$POLICIES,consistentee" --max-drop 0.5 --timing-examples 100 --repeats 2 > "$dir/cee-eval-maxdrop-0.5.txt"
    grep '^summary' "$dir/cee-eval-maxdrop-0.5.txt" || true
  fi
  tail -n 1 "$dir/exits.txt"; grep '^summary' "$dir/eval-maxdrop-0.5.txt" || true
done
