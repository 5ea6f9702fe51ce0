"""ga-listener: manage Alibaba Cloud Global Accelerator listeners as code with Pulumi.

The package face is lazy: ``import ga_listener`` imports neither pulumi, pydantic nor requests, so a tool that
only needs the signing functions or the error types pays for nothing else. Names resolve on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "ApiError",
    "GaClient",
    "GaListenerError",
    "Listener",
    "ListenerArgs",
    "ListenerProvider",
]

# public name -> the module that owns it
_EXPORTS = {
    "ApiError": "ga_listener.api.errors",
    "GaListenerError": "ga_listener.transport.errors",
    "GaClient": "ga_listener.api.client",
    "Listener": "ga_listener.resource",
    "ListenerArgs": "ga_listener.resource",
    "ListenerProvider": "ga_listener.resource",
}

if TYPE_CHECKING:
    from ga_listener.api.client import GaClient
    from ga_listener.api.errors import ApiError
    from ga_listener.resource import Listener, ListenerArgs, ListenerProvider
    from ga_listener.transport.errors import GaListenerError


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ga_listener' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
