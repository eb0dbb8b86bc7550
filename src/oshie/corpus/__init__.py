"""Pre-training corpora: document streams, rule filters and presets, a learned quality
classifier, corpus-scale dedup (the MinHash of `oshie.data.dedup`) and mixtures, run over
shards locally or on Ray."""
