"""Two CPU processes (gloo) run the same `oshie train sft` command under torchrun.

`accelerate launch --cpu --num_processes 2` starts a single process on one machine
unless an MPI launcher (mpirun hostfile) is configured, so torchrun is used here; the
trainer sees the same distributed environment either way.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
import yaml


@pytest.mark.slow
def test_torchrun_two_cpu_processes(tiny_model_dir, chat_file, tmp_path, sft_cfg):
    cfg = tmp_path / "sft.yaml"
    out = tmp_path / "ddp"
    cfg.write_text(yaml.safe_dump(sft_cfg(tiny_model_dir, chat_file, out, max_steps=2, batch_size=2)))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with socket.socket() as sock:  # a free port for the rendezvous
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1", "--master_port", str(port),
         "-m", "oshie.cli.app", "--quiet", "train", "sft", str(cfg), "--json"],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count('"kind": "sft"') == 1  # only rank 0 prints
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["result"]["world_size"] == 2
    # 2 steps x batch 2 x 2 processes = 8 of 24 examples: each rank saw its own shard
    assert manifest["result"]["metrics"]["epoch"] == pytest.approx(8 / 24)
    assert (out / "model.safetensors").is_file()
