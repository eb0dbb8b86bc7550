"""Instruction-data formats: one module per format, each a reader and a writer registered by name.

    get_format("alpaca").read_row(row, ctx) -> Conversation
    detect_format([row]) -> the first registered format whose identifying fields the row has

`registry` says how detection order follows from the registry; `fields` holds the
helpers every format shares. Importing this package registers every format, in the
order `oshie data formats` lists them.
"""

from oshie.data.formats import (  # noqa: F401, I001  (the order formats are listed in)
    messages,
    sharegpt,
    alpaca,
    ichikara,
    prompt_completion,
    preference,
)
from oshie.data.formats.fields import check_text
from oshie.data.formats.registry import (
    ALIASES,
    FORMATS,
    Format,
    RowContext,
    RowError,
    detect_format,
    detection_order,
    get_format,
    register,
)

__all__ = ["ALIASES", "FORMATS", "Format", "RowContext", "RowError", "check_text", "detect_format",
           "detection_order", "get_format", "register"]
