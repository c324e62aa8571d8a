"""The shipped trace schema as the tests apply it: one validator, made once.

jsonschema-rs (a compiled Draft 2020-12 validator) checks a trace of megabytes in milliseconds,
where the pure-Python jsonschema takes seconds a megabyte; tests/test_replay.py checks on every
fixture of tests/bad_traces that the two agree.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema_rs

from tui_backprop.trace.writer import schema


@cache
def _validator() -> Any:
    return jsonschema_rs.validator_for(schema())


def validate_trace(doc: Any) -> None:
    """Raise jsonschema_rs.ValidationError (naming the place) when ``doc`` breaks the schema."""
    _validator().validate(doc)


def trace_is_valid(doc: Any) -> bool:
    return bool(_validator().is_valid(doc))
