"""Profiles of the Alibaba Cloud CLI's file (``~/.aliyun/config.json``): ``{"current": NAME, "profiles": [...]}``.

Modes and the fields read:

=====================  ==================================================================================
``AK``                 ``access_key_id``, ``access_key_secret``
``StsToken``           the same and ``sts_token``
``RamRoleArn``         ``access_key_id``, ``access_key_secret``, ``ram_role_arn``, ``ram_session_name``,
                       ``expired_seconds``, ``external_id``, ``sts_region``, ``sts_endpoint``
``ChainableRamRoleArn``  ``source_profile`` (any mode, chains allowed) and the role fields above
``EcsRamRole``         ``ram_role_name`` (empty: the instance's role)
``OIDC``               ``oidc_provider_arn``, ``oidc_token_file``, ``ram_role_arn``, ``ram_session_name``
                       (or ``role_session_name``), ``expired_seconds``, ``sts_region``, ``sts_endpoint``
``CredentialsURI``     ``credentials_uri``
=====================  ==================================================================================

A profile that cannot be used (unknown mode, missing field, a chain that loops) is reported, not raised: the
caller decides whether that ends the search. Nothing here reads the network; role profiles become providers
that call STS or the metadata service on first use.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ga_listener.keys import Credentials, CredentialsProvider
from ga_listener.sts import OidcRequest, RoleRequest

if TYPE_CHECKING:
    from ga_listener.chain import Sources

__all__ = ["MODES", "profile_provider", "read_profiles"]

MODES = ("AK", "StsToken", "RamRoleArn", "ChainableRamRoleArn", "EcsRamRole", "OIDC", "CredentialsURI")
_ROLE_MODES = frozenset({"RamRoleArn", "ChainableRamRoleArn"})


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


def profile_provider(
    sources: Sources, path: Path, wanted: str | None
) -> tuple[Credentials | CredentialsProvider | None, str]:
    """The profile named ``wanted`` (else the file's ``current``, else ``default``) as a provider, or ``None``
    and a description of what was looked at and why it cannot be used (names only, never values)."""
    data, why = read_profiles(path)
    if data is None:
        return None, f"profile file {path} ({why})"
    profiles = data.get("profiles")
    entries = {str(p.get("name")): p for p in profiles if isinstance(p, dict)} if isinstance(profiles, list) else {}
    name = wanted or str(data.get("current") or "default")
    return _build(sources, path, entries, name, ())


def _build(
    sources: Sources, path: Path, entries: Mapping[str, Mapping[str, Any]], name: str, chain: tuple[str, ...]
) -> tuple[Credentials | CredentialsProvider | None, str]:
    where = f"profile {name!r} in {path}"
    if name in chain:
        return None, f"{where} (source_profile chain loops: {' -> '.join([*chain, name])})"
    profile = entries.get(name)
    if profile is None:
        return None, f"{where} (no such profile)"
    mode = str(profile.get("mode") or "AK")
    if mode not in MODES:
        return None, f"{where} (mode {mode!r} is not supported; use one of {', '.join(MODES)})"
    text = {key: str(value) for key, value in profile.items() if isinstance(value, (str, int)) and value != ""}
    label = f"profile {name!r}" + ("" if mode in ("AK", "StsToken") else f" ({mode})")
    needed = {
        "AK": ("access_key_id", "access_key_secret"),
        "StsToken": ("access_key_id", "access_key_secret", "sts_token"),
        "RamRoleArn": ("access_key_id", "access_key_secret", "ram_role_arn"),
        "ChainableRamRoleArn": ("source_profile", "ram_role_arn"),
        "EcsRamRole": (),
        "OIDC": ("oidc_provider_arn", "oidc_token_file", "ram_role_arn"),
        "CredentialsURI": ("credentials_uri",),
    }[mode]
    missing = [field for field in needed if field not in text]
    if missing:
        return None, f"{where} (incomplete {mode} profile: no {', '.join(missing)})"
    if mode in ("AK", "StsToken", "RamRoleArn"):
        base: Credentials | CredentialsProvider = Credentials(
            text["access_key_id"], text["access_key_secret"], text.get("sts_token") if mode == "StsToken" else None,
            source=f"profile {name!r}")
        if mode != "RamRoleArn":
            return base, ""
    elif mode == "ChainableRamRoleArn":
        found, looked = _build(sources, path, entries, text["source_profile"], (*chain, name))
        if found is None:
            return None, f"{where} (its source_profile: {looked})"
        base = found
    elif mode == "EcsRamRole":
        return sources.ecs(text.get("ram_role_name"), label)
    elif mode == "CredentialsURI":
        return sources.uri(text["credentials_uri"], label, f"{where} credentials_uri"), ""
    duration = _seconds(text.get("expired_seconds"))
    session = text.get("ram_session_name") or text.get("role_session_name") or sources.session_name
    endpoint = (text.get("sts_endpoint"), text.get("sts_region"), f"{where} sts_endpoint")
    if mode == "OIDC":
        request = OidcRequest(text["ram_role_arn"], text["oidc_provider_arn"], session, duration)
        return sources.oidc(request, token_file=text["oidc_token_file"], token=None, label=label,
                            endpoint=endpoint), ""
    assert mode in _ROLE_MODES
    role = RoleRequest(text["ram_role_arn"], session, duration, None, text.get("external_id"))
    return sources.assume(base, role, label, endpoint=endpoint), ""


def _seconds(value: str | None) -> int | None:
    """``expired_seconds``: a positive whole number, or nothing (the service's default)."""
    return int(value) if value and value.isdigit() and int(value) > 0 else None
