"""Importing the client (or building one) must not import requests, pydantic or pulumi: a preview sends no HTTP."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("requests", "urllib3", "pydantic", "pulumi", "alibabacloud_tea_openapi")

SCRIPTS = {
    "import ga_listener.api.client": "import ga_listener.api.client",
    "package face": "import ga_listener; ga_listener.GaClient; ga_listener.ApiError",
    "build a client": (
        "from ga_listener.api.client import GaClient\n"
        "GaClient('http://127.0.0.1:9', access_key_id='i', access_key_secret='s').close()"
    ),
    "errors and credentials": "import ga_listener.transport.errors, ga_listener.auth.credentials",
}


@pytest.mark.parametrize("script", SCRIPTS.values(), ids=SCRIPTS.keys())
def test_heavy_modules_stay_unimported(script: str) -> None:
    probe = f"{script}\nimport json, sys\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_a_call_past_its_deadline_sends_and_imports_nothing() -> None:
    probe = (
        "import sys\n"
        "from ga_listener.api.client import GaClient\n"
        "from ga_listener.transport.errors import TransportError\n"
        "client = GaClient('http://127.0.0.1:9', access_key_id='i', access_key_secret='s')\n"
        "try:\n    client.call('DescribeListener', {'ListenerId': 'l'}, deadline=0.0)\n"
        "except Exception as e:\n    print(type(e).__name__)\n"
        "print('requests' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.split() == ["DeadlineExceededError", "False"]
