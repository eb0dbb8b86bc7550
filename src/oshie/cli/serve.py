"""`oshie serve MODEL_DIR`: an OpenAI-compatible endpoint for a local model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oshie.console import console, info, warn

SUMMARY = "Serve a local model over an OpenAI-compatible HTTP API."


def command(
    model_dir: Annotated[
        Path,
        typer.Argument(
            help="Model directory (config.json, *.safetensors, tokenizer), e.g. a training "
            "run's output."
        ),
    ],
    port: Annotated[
        int, typer.Option("--port", "-p", min=0, max=65535, help="TCP port to listen on.")
    ] = 8000,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to bind. The default serves this machine only; use 0.0.0.0 "
            "to expose it (and set an API key).",
        ),
    ] = "127.0.0.1",
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            envvar="OSHIE_API_KEY",
            show_default=False,
            help="Require 'Authorization: Bearer KEY' on every request. Prefer the OSHIE_API_KEY "
            "environment variable: a key on the command line is visible to other users.",
        ),
    ] = None,
    model_name: Annotated[
        str | None,
        typer.Option(
            "--model-name",
            help="Model id reported by /v1/models and in answers (default: the "
            "directory name). Clients may send any model name.",
        ),
    ] = None,
    batch_size: Annotated[
        int,
        typer.Option("--batch-size", min=1, help="Most prompts generated together in one batch."),
    ] = 8,
    device: Annotated[
        str, typer.Option("--device", help="torch device: auto (cuda when present), cpu, cuda:1 ...")
    ] = "auto",
    max_request_mb: Annotated[
        float,
        typer.Option(
            "--max-request-mb", min=0.001, help="Largest request body accepted (413 above)."
        ),
    ] = 4.0,
) -> None:
    """Serve MODEL_DIR at /v1/chat/completions, /v1/completions and /v1/models."""
    from oshie.llm.server import LOOPBACK, serve

    if host not in LOOPBACK and not api_key:
        warn(f"binding {host} without an API key: anyone who can reach this port can use it")

    def ready(url: str) -> None:
        auth = "bearer key required" if api_key else "no key required"
        console.print(f"serving {model_dir} on {url} ({auth}); Ctrl+C stops", soft_wrap=True)

    serve(
        str(model_dir),
        host=host,
        port=port,
        api_key=api_key,
        model_name=model_name,
        batch_size=batch_size,
        device=device,
        on_ready=ready,
        on_bound=lambda: info(f"loading {model_dir} ..."),
        max_body_bytes=int(max_request_mb * (1 << 20)),
    )
