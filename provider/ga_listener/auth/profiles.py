"""Profiles of the Alibaba Cloud CLI's file (``~/.aliyun/config.json``): ``{"current": NAME, "profiles": [...]}``.

Modes and the fields read (as the SDKs' CLI-profile providers read them):

=====================  ==================================================================================
``AK``                 ``access_key_id``, ``access_key_secret``
``StsToken``           the same and ``sts_token``
``RamRoleArn``         ``access_key_id``, ``access_key_secret``, ``ram_role_arn``, ``ram_session_name``,
                       ``expired_seconds``, ``policy``, ``external_id``, ``sts_region``, ``sts_endpoint``,
                       ``enable_vpc``
``ChainableRamRoleArn``  ``source_profile`` (any mode, chains allowed) and the role fields above
``EcsRamRole``         ``ram_role_name`` (empty: the instance's role)
``OIDC``               ``oidc_provider_arn``, ``oidc_token_file``, ``ram_role_arn``, ``ram_session_name``
                       (or ``role_session_name``), ``expired_seconds``, ``policy``, ``sts_region``,
                       ``sts_endpoint``, ``enable_vpc``
``CredentialsURI``     ``credentials_uri``
=====================  ==================================================================================

A profile that cannot be found or lacks a field (unknown mode, missing field, a chain that loops) is reported,
not raised: the caller decides whether that ends the search. A profile the SDKs refuse (no ``mode``, an
``expired_seconds`` under 900) raises ``ConfigurationError`` naming it. Nothing here reads the network; a role
profile becomes a :class:`~ga_listener.auth.sources.RoleHop`, other temporary ones providers that fetch on first use.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ga_listener.auth.keys import Credentials, CredentialsProvider
from ga_listener.auth.sources import RoleFields, RoleHop, Sources, StsPlace
from ga_listener.auth.sts import OidcRequest
from ga_listener.config.settings import SESSION_SECONDS
from ga_listener.transport.errors import ConfigurationError

__all__ = ["MODES", "Found", "profile_provider", "read_profiles"]

MODES = ("AK", "StsToken", "RamRoleArn", "ChainableRamRoleArn", "EcsRamRole", "OIDC", "CredentialsURI")
_NEEDED = {
    "AK": ("access_key_id", "access_key_secret"),
    "StsToken": ("access_key_id", "access_key_secret", "sts_token"),
    "RamRoleArn": ("access_key_id", "access_key_secret", "ram_role_arn"),
    "ChainableRamRoleArn": ("source_profile", "ram_role_arn"),
    "EcsRamRole": (),
    "OIDC": ("oidc_provider_arn", "oidc_token_file", "ram_role_arn"),
    "CredentialsURI": ("credentials_uri",),
}
Found = Credentials | CredentialsProvider | RoleHop


def read_profiles(path: Path) -> tuple[dict[str, Any] | None, str]:
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


def profile_provider(sources: Sources, path: Path, wanted: str | None) -> tuple[Found | None, str]:
    """The profile named ``wanted`` (else the file's ``current``, else ``default``), or ``None`` and a
    description of what was looked at and why it cannot be used (names only, never values)."""
    data, why = read_profiles(path)
    if data is None:
        return None, f"profile file {path} ({why})"
    profiles = data.get("profiles")
    entries = {str(p.get("name")): p for p in profiles if isinstance(p, dict)} if isinstance(profiles, list) else {}
    name = wanted or str(data.get("current") or "default")
    return _build(sources, path, entries, name, ())


def _build(
    sources: Sources, path: Path, entries: Mapping[str, Mapping[str, Any]], name: str, chain: tuple[str, ...]
) -> tuple[Found | None, str]:
    where = f"profile {name!r} in {path}"
    if name in chain:
        return None, f"{where} (source_profile chain loops: {' -> '.join([*chain, name])})"
    profile = entries.get(name)
    if profile is None:
        return None, f"{where} (no such profile)"
    if profile.get("mode") in (None, ""):  # the SDKs refuse it; reading it as AK would guess an identity
        raise ConfigurationError(f"{where} has no mode; set \"mode\" to one of {', '.join(MODES)}",
                                 setting=f"{where} mode")
    mode = str(profile["mode"])
    if mode not in MODES:
        return None, f"{where} (mode {mode!r} is not supported; use one of {', '.join(MODES)})"
    text = {key: str(value) for key, value in profile.items()
            if isinstance(value, (str, int)) and not isinstance(value, bool) and value != ""}
    missing = [field for field in _NEEDED[mode] if field not in text]
    if missing:
        return None, f"{where} (incomplete {mode} profile: no {', '.join(missing)})"
    label = f"profile {name!r}" + ("" if mode in ("AK", "StsToken") else f" ({mode})")
    if mode in ("AK", "StsToken"):
        return Credentials(text["access_key_id"], text["access_key_secret"],
                           text.get("sts_token") if mode == "StsToken" else None, source=f"profile {name!r}"), ""
    if mode == "EcsRamRole":
        return sources.ecs(text.get("ram_role_name"), label)
    if mode == "CredentialsURI":
        return sources.uri(text["credentials_uri"], label, f"{where} credentials_uri"), ""
    role = RoleFields(text["ram_role_arn"], text.get("ram_session_name") or text.get("role_session_name"),
                      _expired_seconds(profile.get("expired_seconds"), where), text.get("policy"),
                      text.get("external_id"))
    place = StsPlace(text.get("sts_endpoint"), text.get("sts_region"), _true(profile.get("enable_vpc")), where)
    if mode == "OIDC":
        request = OidcRequest(role.role_arn, text["oidc_provider_arn"], role.session_name or sources.session_name,
                              role.duration, role.policy)
        return sources.oidc(request, token_file=text["oidc_token_file"], token=None, label=label, place=place), ""
    if mode == "RamRoleArn":
        base: Credentials | CredentialsProvider = Credentials(
            text["access_key_id"], text["access_key_secret"], source=f"profile {name!r}")
    else:
        found, looked = _build(sources, path, entries, text["source_profile"], (*chain, name))
        if found is None:
            return None, f"{where} (its source_profile: {looked})"
        base = sources.built(found)
    return RoleHop(base, role, place, label, replaceable=mode == "RamRoleArn"), ""


def _expired_seconds(value: Any, where: str) -> int | None:
    """``expired_seconds``: 900..43200 whole seconds (a number or its text); nothing or 0: the service's default.
    The SDKs refuse less than 900 before calling STS; so do we, naming the profile."""
    if value in (None, "", 0, "0"):
        return None
    number = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    low, high = SESSION_SECONDS
    if number is None or not low <= number <= high:
        raise ConfigurationError(f"{where}: expired_seconds must be a whole number of seconds from {low} to {high}",
                                 setting=f"{where} expired_seconds")
    return number


def _true(value: Any) -> bool:
    """``enable_vpc``: JSON true (or its text); anything else is the SDKs' "not set"."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")
