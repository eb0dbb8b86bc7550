"""oshie: a Japanese-first workbench for instruction-tuned LLMs."""
__version__ = "0.1.0"
