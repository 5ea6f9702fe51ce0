"""`make up` on a machine without the Pulumi CLI says so, says how to install it, and fails."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_up_without_pulumi_cli_explains_and_exits_non_zero(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"  # a PATH holding make and a shell, but no pulumi
    bin_dir.mkdir()
    for tool in ("make", "bash", "sh"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    result = subprocess.run(["make", "-s", "-C", str(ROOT), "up"], check=False, capture_output=True, text=True,
                            env={"PATH": str(bin_dir), "HOME": str(tmp_path)}, timeout=60)
    assert result.returncode != 0
    assert "Pulumi CLI" in result.stderr and "get.pulumi.com" in result.stderr
    assert "emulator" not in result.stdout
