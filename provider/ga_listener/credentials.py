"""Where the access key comes from: an explicit chain, first match wins.

1. explicit ``Credentials`` given by the caller;
2. stack config: ``alicloud:accessKey`` / ``alicloud:secretKey`` / ``alicloud:securityToken``, or else the
   profile named by ``alicloud:profile`` (stack config, so it beats the environment);
3. environment: ``ALIBABA_CLOUD_ACCESS_KEY_ID`` / ``ALIBABA_CLOUD_ACCESS_KEY_SECRET`` (or the older
   ``ALICLOUD_ACCESS_KEY`` / ``ALICLOUD_SECRET_KEY``), token ``ALIBABA_CLOUD_SECURITY_TOKEN`` /
   ``ALICLOUD_SECURITY_TOKEN``;
4. a profile of ``~/.aliyun/config.json`` (the Alibaba Cloud CLI's file) of mode ``AK`` or ``StsToken``: the
   one named by ``ALIBABA_CLOUD_PROFILE``, else the file's ``current`` profile.

A token travels with the key pair of its own source: a token in the environment never pairs with a key from
the stack config. A source that holds only half a key pair is a mistake and raises ``ConfigurationError``
rather than silently falling through to another identity.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ga_listener.errors import ConfigurationError, CredentialsNotFoundError

__all__ = ["Credentials", "default_profile_path", "resolve_credentials"]

# (id variable, secret variable) in order of preference
_ENV_PAIRS = (
    ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
    ("ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY"),
)
_ENV_TOKENS = ("ALIBABA_CLOUD_SECURITY_TOKEN", "ALICLOUD_SECURITY_TOKEN")
_ENV_PROFILES = ("ALIBABA_CLOUD_PROFILE", "ALICLOUD_PROFILE")
_CONFIG_ID, _CONFIG_SECRET = "alicloud:accessKey", "alicloud:secretKey"
_CONFIG_TOKEN, _CONFIG_PROFILE = "alicloud:securityToken", "alicloud:profile"
_PROFILE_MODES = ("AK", "StsToken")


class Credentials:
    """An access key pair and optional STS token; ``repr``/``str`` show only the key id and the source.

    Immutable. ``source`` says where the pair came from (e.g. ``environment ALIBABA_CLOUD_ACCESS_KEY_ID``).
    """

    __slots__ = ("access_key_id", "access_key_secret", "security_token", "source")

    access_key_id: str
    access_key_secret: str
    security_token: str | None
    source: str

    def __init__(
        self, access_key_id: str, access_key_secret: str, security_token: str | None = None,
        source: str = "explicit",
    ) -> None:
        if not access_key_id or not access_key_secret:
            raise ConfigurationError(
                f"credentials from {source} need both an access key id and an access key secret",
                setting="credentials",
            )
        object.__setattr__(self, "access_key_id", access_key_id)
        object.__setattr__(self, "access_key_secret", access_key_secret)
        object.__setattr__(self, "security_token", security_token or None)
        object.__setattr__(self, "source", source)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Credentials are immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Credentials are immutable")

    def __repr__(self) -> str:
        token = ", security_token=<set>" if self.security_token else ""
        return f"Credentials(access_key_id={self.access_key_id!r}, source={self.source!r}{token})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __reduce__(self) -> tuple[Any, ...]:
        # A pickle would carry the secret wherever it is stored; in a provider that is Pulumi state.
        raise TypeError("Credentials hold a secret and are never pickled")

    def _key(self) -> tuple[str, str, str | None, str]:
        return (self.access_key_id, self.access_key_secret, self.security_token, self.source)


def default_profile_path() -> Path:
    """``~/.aliyun/config.json``, the Alibaba Cloud CLI's credentials file."""
    return Path.home() / ".aliyun" / "config.json"


def _pair(
    key_id: str | None, secret: str | None, token: str | None, source: str, names: tuple[str, str]
) -> Credentials | None:
    if not key_id and not secret:
        return None
    if not key_id or not secret:
        present, missing = (names[0], names[1]) if key_id else (names[1], names[0])
        raise ConfigurationError(f"{present} is set but {missing} is not; set both or neither",
                                 setting=missing)
    return Credentials(key_id, secret, token, source=source)


def _from_config(config: Mapping[str, str]) -> Credentials | None:
    return _pair(
        config.get(_CONFIG_ID), config.get(_CONFIG_SECRET), config.get(_CONFIG_TOKEN),
        f"stack config {_CONFIG_ID}", (_CONFIG_ID, _CONFIG_SECRET),
    )


def _from_environ(environ: Mapping[str, str]) -> Credentials | None:
    token = next((environ[name] for name in _ENV_TOKENS if environ.get(name)), None)
    for id_name, secret_name in _ENV_PAIRS:
        source = f"environment {id_name}"
        found = _pair(environ.get(id_name), environ.get(secret_name), token, source, (id_name, secret_name))
        if found is not None:
            return found
    return None


def _read_profiles(path: Path) -> tuple[dict[str, Any] | None, str]:
    """The parsed file, or ``None`` and why not (for the not-found message)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, "file not found"
    except OSError as exc:
        return None, f"unreadable: {exc.strerror or type(exc).__name__}"
    try:
        data = json.loads(text)
    except ValueError as exc:
        where = f"{getattr(exc, 'msg', 'undecodable')}, line {getattr(exc, 'lineno', '?')}"
        return None, f"not valid JSON ({where})"
    if not isinstance(data, dict):
        return None, "not a JSON object"
    return data, ""


def _from_profile(path: Path, wanted: str | None) -> tuple[Credentials | None, str]:
    """Credentials from the profile file, or ``None`` and a description of what was looked at."""
    data, why = _read_profiles(path)
    if data is None:
        return None, f"profile file {path} ({why})"
    name = wanted or str(data.get("current") or "default")
    profiles = data.get("profiles")
    entries = [p for p in profiles if isinstance(p, dict)] if isinstance(profiles, list) else []
    profile = next((p for p in entries if p.get("name") == name), None)
    if profile is None:
        return None, f"profile {name!r} in {path} (no such profile)"
    mode = profile.get("mode", "AK")
    if mode not in _PROFILE_MODES:
        return None, f"profile {name!r} in {path} (mode {mode!r} is not supported; use AK or StsToken)"
    token = profile.get("sts_token") if mode == "StsToken" else None
    key_id, secret = profile.get("access_key_id"), profile.get("access_key_secret")
    if not key_id or not secret or (mode == "StsToken" and not token):
        return None, f"profile {name!r} in {path} (incomplete {mode} profile)"
    found = Credentials(str(key_id), str(secret), str(token) if token else None, source=f"profile {name!r}")
    return found, ""


def resolve_credentials(
    *,
    explicit: Credentials | None = None,
    config: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    profile_path: Path | None = None,
) -> Credentials:
    """Walk the chain (explicit > stack config, its profile included > environment > profile file); first wins.

    ``environ`` defaults to ``os.environ`` and ``profile_path`` to ``~/.aliyun/config.json``. Raises
    ``CredentialsNotFoundError`` listing every place looked at (names only, never values), or
    ``ConfigurationError`` when a source holds only half a key pair.
    """
    if explicit is not None:
        return explicit
    config = config or {}
    environ = os.environ if environ is None else environ
    searched = ["explicit arguments (none given)"]
    path = profile_path or default_profile_path()
    found = _from_config(config)
    if found is not None:
        return found
    searched.append(f"stack config {_CONFIG_ID} / {_CONFIG_SECRET} (not set)")
    if config.get(_CONFIG_PROFILE):  # a profile named in stack config is stack config: it beats the environment
        found, looked = _from_profile(path, config[_CONFIG_PROFILE])
        if found is not None:
            return found
        raise CredentialsNotFoundError([*searched, f"stack config {_CONFIG_PROFILE}: {looked}"])
    found = _from_environ(environ)
    if found is not None:
        return found
    names = ", ".join(f"{i} / {s}" for i, s in _ENV_PAIRS)
    searched.append(f"environment {names} (not set)")
    wanted = next((environ[n] for n in _ENV_PROFILES if environ.get(n)), None)
    found, looked = _from_profile(path, wanted)
    if found is not None:
        return found
    searched.append(looked)
    raise CredentialsNotFoundError(searched)
