"""The shipped trace schema as tests validate with it: one validator, made once.

``validate(doc)`` applies the schema exactly as jsonschema does. ``validate_big(doc)`` is the same
schema with its "matrix" rule (a list of lists of numbers or null) checked by one loop instead of a
validator call per number, for traces of megabytes: the same rule over a million numbers in a
second rather than a minute. Every other rule is the schema's own.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema

from tui_backprop.trace import schema


@cache
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


@cache
def big_validator() -> jsonschema.Draft202012Validator:
    doc = schema()
    doc["$defs"]["matrix"] = {"numberMatrix": True}

    def number_matrix(validator, value, instance, schema):
        if not isinstance(instance, list) or not all(
            isinstance(row, list)
            and all(x is None or (type(x) in (int, float)) for x in row)  # bool is not a number
            for row in instance
        ):
            yield jsonschema.ValidationError("expected a list of lists of numbers or null")

    cls = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"numberMatrix": number_matrix})
    return cls(doc)


def validate(doc: Any) -> None:
    validator().validate(doc)


def validate_big(doc: Any) -> None:
    big_validator().validate(doc)
