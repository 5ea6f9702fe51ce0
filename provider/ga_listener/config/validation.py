"""What ``check`` runs: :func:`validate_inputs` turns raw inputs into a
:class:`~ga_listener.config.models.ListenerConfig` or the list of every rule they break. It never raises, reports every
violation (not just the first) with a property path such as ``port_ranges[1].to_port``, skips properties whose value is
not known yet, and words each reason in plain terms (never pydantic's own wording, never a text value echoed back).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ga_listener.config.models import ListenerConfig, Violation, cross_field_violations, value_kind

__all__ = ["validate_inputs"]


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


_FIELD_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    name: TypeAdapter(field.rebuild_annotation()) for name, field in ListenerConfig.model_fields.items()
}
_REQUIRED = tuple(name for name, field in ListenerConfig.model_fields.items() if field.is_required())
_IDENTITY = ("listener_id", "accelerator_id")


def _reason(error: Any) -> str:
    # pydantic's own messages ("Input should be a valid integer") do not show the value; ours already do.
    kind = error["type"]
    if kind in _OWN_ERROR_TYPES or kind == "missing":
        return str(error["msg"])
    message = _PLAIN_MESSAGES.get(kind, str(error["msg"]))
    value = error.get("input")
    shown = repr(value) if isinstance(value, (int, float)) else value_kind(value)  # text is never echoed
    return f"{message}, got {shown}"


_PLAIN_MESSAGES = {
    "tuple_type": "must be a list",
    "model_type": "must be an object (a dict)",
    "model_attributes_type": "must be an object (a dict)",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "extra_forbidden": "is not a known field here",
}
_OWN_ERROR_TYPES = frozenset(
    {"whole_number", "out_of_range", "one_of", "pattern", "description", "port_order", "single_port", "non_empty"}
)


def _unknown_property(key: str) -> Violation:
    close = difflib.get_close_matches(key, list(_FIELD_ADAPTERS), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return Violation(key, f"is not a property of a listener{hint}")


def validate_inputs(
    raw: Mapping[str, Any], *, is_unknown: Callable[[Any], bool] = lambda _: False, max_ports: int | None = None,
) -> tuple[ListenerConfig | None, list[Violation]]:
    """Validate raw inputs; never raises.

    Returns the config (``None`` when something is invalid or not yet known) and every violation found.
    Properties for which ``is_unknown`` is true (values computed during a preview) are skipped, and so are the
    cross-field rules that would need them. ``max_ports`` is a per-listener port limit to enforce, if any.
    """
    violations: list[Violation] = []
    known: dict[str, Any] = {}
    unknown = False
    for key, value in raw.items():
        adapter = _FIELD_ADAPTERS.get(str(key))
        if adapter is None:
            violations.append(_unknown_property(str(key)))
        elif is_unknown(value):
            unknown = True
        elif value is not None or not ListenerConfig.model_fields[key].is_required():
            try:
                known[key] = adapter.validate_python(value)
            except ValidationError as error:
                violations += [Violation(_path((key, *e["loc"])), _reason(e)) for e in error.errors()]
    violations += [Violation(name, "is required") for name in _REQUIRED if raw.get(name) is None]
    if all(raw.get(name) is None for name in _IDENTITY):
        violations.append(Violation("listener_id", "is required to adopt an existing listener; to create one "
                                                   "instead, give accelerator_id"))
    violations += cross_field_violations(known, max_ports=max_ports)
    if violations or unknown:
        return None, violations
    return ListenerConfig.model_construct(**known), []  # every field and rule was checked above
