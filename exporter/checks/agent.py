"""Check family `agent`: is the SSM Agent installed, running, and which version.

Process names cover every way the agent is run on Linux (deb/rpm under systemd, snap) since all
run the same binaries; on Windows the `AmazonSSMAgent` service is asked directly.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psutil

from ..context import Deps
from ..engine import CheckFailed, Report, Runner

COMM_LENGTH = 15  # Linux truncates process names (comm) to 15 characters
WINDOWS_SERVICE = "AmazonSSMAgent"
_VERSION = re.compile(r"\b(\d+\.\d+\.\d+(?:\.\d+)?)\b")


def running(names: list[str]) -> bool:
    wanted = {n.lower() for n in names} | {n.lower()[:COMM_LENGTH] for n in names}
    if sys.platform == "win32":
        try:
            if psutil.win_service_get(WINDOWS_SERVICE).status() == "running":  # type: ignore[attr-defined]
                return True
        except psutil.Error:
            pass
    for proc in psutil.process_iter(["name", "exe", "cmdline"]):
        info = proc.info
        candidates = [info.get("name") or "", os.path.basename(info.get("exe") or "")]
        candidates += [os.path.basename((info.get("cmdline") or [""])[0])]
        if any(c and c.lower() in wanted for c in candidates):
            return True
    return False


def version(binary: Path, timeout: float) -> str:
    """The version the binary prints for `--version`, or `unknown`."""
    try:
        done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    match = _VERSION.search(done.stdout + done.stderr)
    return match.group(1) if match else "unknown"


class Family:
    name = "agent"

    def __init__(self, deps: Deps):
        self.deps = deps
        self.cfg = deps.config.agent
        self._version: tuple[tuple[Path, int] | None, str] = (None, "unknown")

    async def _installed(self, report: Report) -> None:
        binary = next((p for p in self.cfg.binary_paths if p.is_file()), None)
        is_running = await self.deps.blocking(running, self.cfg.process_names)
        report.gauge("ssm_agent_installed", 1 if binary or is_running else 0)
        if binary is None and not is_running:
            raise CheckFailed("not_installed", "no agent binary at the configured paths")
        if binary:
            key = (binary, binary.stat().st_mtime_ns)  # run the binary again only after an upgrade
            if self._version[0] != key:
                self._version = (key, await self.deps.blocking(version, binary, report.remaining()))
        report.gauge("ssm_agent_info", 1, version=self._version[1] if binary else "unknown")

    async def _running(self, report: Report) -> None:
        is_running = await self.deps.blocking(running, self.cfg.process_names)
        report.gauge("ssm_agent_running", 1 if is_running else 0)
        if not is_running:
            raise CheckFailed("not_running")

    async def cycle(self, run: Runner) -> None:
        await run("agent_installed", "", self._installed)
        await run("agent_running", "", self._running)
