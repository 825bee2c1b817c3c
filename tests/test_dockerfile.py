"""The Dockerfile, without a Docker engine: its structure, and its own install steps run for real.

The build stage's RUN line is executed in a scratch directory (paths under /opt and /wheels
moved there), then the runtime command runs as the image's non-root UID against that venv, which
it cannot write to, and answers the image's own HEALTHCHECK.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from exporter.cli import DEFAULT_LISTEN

from .helpers import config_yaml, free_port, poll

ROOT = Path(__file__).resolve().parent.parent


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            rows.append((keyword.upper(), rest.strip()))
    return rows


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions():
        if keyword == "FROM":
            result.append([])
        result[-1].append((keyword, rest))
    return result


def test_structure() -> None:
    build, runtime = stages()
    assert re.match(r"python:3\.1[1-9]-slim AS build", build[0][1])
    assert runtime[0][1].startswith("python:3.11-slim")
    assert ("COPY", "--from=build /opt/ssm-exporter /opt/ssm-exporter") in runtime
    user = dict(runtime)["USER"]
    uid, gid = (int(x) for x in user.split(":"))
    assert uid > 0 and gid > 0, "fixed non-root UID"
    assert dict(runtime)["EXPOSE"] == DEFAULT_LISTEN.rsplit(":", 1)[1]
    assert json.loads(dict(runtime)["ENTRYPOINT"]) == ["ssm-exporter"]
    assert "/-/healthy" in dict(runtime)["HEALTHCHECK"]
    for keyword, rest in build:
        if keyword == "COPY":
            for source in rest.split()[:-1]:
                assert (ROOT / source).exists(), source


@pytest.fixture
def scratch() -> Iterator[Path]:
    """World-readable, unlike pytest's scratch, so the image's UID can use what is built there."""
    path = Path(tempfile.mkdtemp(prefix="ssm-exporter-image-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="running as the image's UID needs root to switch user")
def test_install_steps_build_a_venv_that_runs_read_only_as_non_root(scratch: Path) -> None:
    """Debian's python3.11 stands in for the image's: same version, readable by any UID."""
    build, runtime = stages()
    python_dir = scratch / "python-bin"
    python_dir.mkdir()
    (python_dir / "python").symlink_to("/usr/bin/python3")
    work = scratch / "src"
    work.mkdir()
    for keyword, rest in build:
        if keyword == "COPY":
            *sources, _ = rest.split()
            for source in sources:
                (shutil.copytree if (ROOT / source).is_dir() else shutil.copy)(ROOT / source, work / source)
    opt, wheels = scratch / "opt", scratch / "wheels"
    for keyword, rest in build:
        if keyword == "RUN":
            command = rest.replace("/opt/ssm-exporter", str(opt)).replace("/wheels", str(wheels))
            done = subprocess.run(
                ["bash", "-c", command],
                cwd=work,
                capture_output=True,
                text=True,
                timeout=900,
                env={**os.environ, "PATH": f"{python_dir}:/usr/bin:/bin", "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
            )
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    opt.chmod(0o755)
    uid, gid = (int(x) for x in dict(runtime)["USER"].split(":"))
    config = scratch / "c.yml"
    config.write_text(config_yaml({}))
    config.chmod(0o644)
    port = free_port()
    env = {"PATH": f"{opt}/bin:/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "HOME": "/nonexistent"}
    entry = json.loads(dict(runtime)["ENTRYPOINT"])
    proc = subprocess.Popen(
        entry + ["--config.file", str(config), f"--web.listen-address=127.0.0.1:{port}"],
        env=env,
        user=uid,
        group=gid,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        health = json.loads(dict(runtime)["HEALTHCHECK"].split("CMD", 1)[1])
        health = [part.replace("10123", str(port)) for part in health]
        health[0] = str(opt / "bin" / health[0])

        def healthy() -> bool:
            assert proc.poll() is None, proc.stdout.read().decode()
            return subprocess.run(health, env=env, user=uid, group=gid, capture_output=True).returncode == 0

        poll(healthy, what="HEALTHCHECK to pass")
        written = subprocess.run(["find", str(opt), "-newer", str(config)], capture_output=True, text=True)
        assert written.stdout.strip() == "", "the runtime wrote into its install"
    finally:
        proc.terminate()
        proc.wait(10)
