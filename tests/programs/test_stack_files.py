"""What the stack files commit keeps a first `make up` from changing them (git status stays clean).

With a passphrase secrets manager, the CLI's stack init (``createSecretsManagerForNewStack``) reuses an
``encryptionsalt`` the stack file already holds when the passphrase decrypts it, and then saves nothing; without
one, it writes a new salt into the file. The salt is ``v1:<salt>:v1:<nonce>:<ciphertext>``: AES-256-GCM of
"pulumi" under PBKDF2-HMAC-SHA256(passphrase, salt, 1,000,000 iterations, 32 bytes) (pulumi/pulumi
``sdk/go/common/resource/config/crypt.go``, ``pkg/secrets/passphrase``). A ``secretsprovider`` or ``encryptedkey``
line would be cleared, i.e. the file rewritten.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ROOT = Path(__file__).resolve().parents[2]
MAKE_UP_PASSPHRASE = re.search(r"PULUMI_CONFIG_PASSPHRASE=(\S+)", (ROOT / "Makefile").read_text()).group(1)  # type: ignore[union-attr]
DEV_STACKS = [ROOT / "Pulumi.dev.yaml", ROOT / "examples" / "multi_listener" / "Pulumi.dev.yaml"]


def decrypts_with(salt_state: str, passphrase: str) -> bool:
    version, salt, rest = salt_state.split(":", 2)
    crypt_version, nonce, ciphertext = rest.split(":")
    assert (version, crypt_version) == ("v1", "v1")
    key = hashlib.pbkdf2_hmac("sha256", passphrase.encode(), base64.b64decode(salt), 1_000_000, 32)
    try:
        return AESGCM(key).decrypt(base64.b64decode(nonce), base64.b64decode(ciphertext), None) == b"pulumi"
    except Exception:
        return False


@pytest.mark.parametrize("stack_file", DEV_STACKS, ids=[str(p.relative_to(ROOT)) for p in DEV_STACKS])
def test_dev_stacks_commit_the_salt_of_make_ups_passphrase(stack_file: Path) -> None:
    document = yaml.safe_load(stack_file.read_text())
    assert "secretsprovider" not in document and "encryptedkey" not in document
    assert decrypts_with(document["encryptionsalt"], MAKE_UP_PASSPHRASE)
    assert not decrypts_with(document["encryptionsalt"], MAKE_UP_PASSPHRASE + "x")


def test_make_up_state_folders_are_ignored() -> None:
    ignored = (ROOT / ".gitignore").read_text().split()
    assert {".pulumi-state/", ".ga-emulator/", ".venv/"} <= set(ignored)
