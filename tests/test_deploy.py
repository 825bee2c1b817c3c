"""The systemd unit in deploy/ is valid for systemd and starts the installed console script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "ssm-exporter.service"


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    installed = Path(sys.prefix) / "bin" / "ssm-exporter"
    assert installed.exists()
    text = UNIT.read_text()
    assert "ExecStart=/opt/ssm-exporter/bin/ssm-exporter --config.file=/etc/ssm-exporter/config.yml" in text
    unit = tmp_path / "ssm-exporter.service"
    unit.write_text(text.replace("/opt/ssm-exporter/bin/ssm-exporter", str(installed)))
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze (Debian systemd) is installed by scripts/test"
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout + done.stderr) == (0, ""), "verify warns without failing"
    assert "ExecReload=/bin/kill -HUP $MAINPID" in text, "systemctl reload maps to the SIGHUP reload"
