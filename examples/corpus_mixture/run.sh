#!/usr/bin/env bash
# Ridge-i-style question, offline: does a news-heavy or a web-heavy pre-training mixture give
# the better base on JGLUE? Corpus steps by CLI, then one experiment over the two bases.
#   bash examples/corpus_mixture/run.sh runs/mixture      (SMALL=1 for a quick, tiny run)
set -euo pipefail
OUT=$(realpath -m "${1:-runs/mixture}")
HERE=$(cd "$(dirname "$0")" && pwd)
N=${DOCS:-2000}
oshie corpus generate -o "$OUT/raw" -n "$N" --source news --source web
oshie corpus clean "$OUT/raw" -o "$OUT/clean" --preset swallow-v1 --set 'disable=[dup_ngrams]'
oshie corpus dedup "$OUT/clean/kept" -o "$OUT/dedup"
oshie corpus mix "$OUT/dedup/kept" -o "$OUT/mix-news" -t news=0.8 -t web=0.2 --format jsonl --seed 0
oshie corpus mix "$OUT/dedup/kept" -o "$OUT/mix-web" -t news=0.2 -t web=0.8 --format jsonl --seed 0
EXTRA=()
if [[ "${SMALL:-0}" == "1" ]]; then
  EXTRA=(--set base_models.0.build.pretrain.max_steps=4 --set base_models.1.build.pretrain.max_steps=4
         --set base_models.0.build.vocab_size=500 --set base_models.1.build.vocab_size=500
         --set 'base_models.0.build.model_overrides={hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2}'
         --set 'base_models.1.build.model_overrides={hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2}'
         --set recipe.sft.batch_size=4 --set recipe.sft.max_length=128
         --set recipe.sft.max_steps=2 --set eval.tasks.0.limit=6 --set eval.tasks.1.limit=6
         --set eval.tasks.2.limit=6 --set eval.tasks.3.limit=6)
fi
oshie experiment run "$HERE/experiment.yaml" --out "$OUT/experiment" \
  --set "base_models.0.build.corpus=[$OUT/mix-news/kept]" --set "base_models.1.build.corpus=[$OUT/mix-web/kept]" \
  "${EXTRA[@]}"
