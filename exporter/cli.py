"""Command line: Prometheus-style flags, config check, clean shutdown on SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from . import __version__, checks, config, logs, webconfig
from .context import Deps, close_deps, make_deps
from .engine import Engine
from .web import serve
from .webconfig import WebConfig

DEFAULT_LISTEN = ":10123"
log = logging.getLogger("ssm_exporter")


def _listen_address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise argparse.ArgumentTypeError(f"not HOST:PORT: {value!r}")
    return host.strip("[]"), int(port)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ssm-exporter", description=__doc__)
    p.add_argument(
        "--config.file",
        dest="config_file",
        type=Path,
        default=None,
        help="YAML config; without it the built-in instance-mode default runs",
    )
    p.add_argument(
        "--config.check",
        dest="config_check",
        action="store_true",
        help="validate the config and exit 0 (valid) or 1 (invalid)",
    )
    p.add_argument(
        "--web.listen-address",
        dest="listen",
        type=_listen_address,
        default=DEFAULT_LISTEN,
        help=f"address to serve /metrics on (default {DEFAULT_LISTEN})",
    )
    p.add_argument(
        "--web.config.file",
        dest="web_config",
        type=Path,
        default=None,
        help="TLS and basic auth for the HTTP endpoints (exporter-toolkit format)",
    )
    p.add_argument("--log.level", dest="log_level", choices=sorted(logs.LEVELS), default="info")
    p.add_argument("--log.format", dest="log_format", choices=["logfmt", "json"], default="logfmt")
    p.add_argument("--version", action="version", version=f"ssm-exporter {__version__}")
    return p


class Reloader:
    """Re-reads the config on SIGHUP; a broken file keeps the running config and says why."""

    def __init__(self, path: Path | None, engine: Engine, deps: Deps):
        self.path, self.engine, self.deps = path, engine, deps
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    def request(self) -> None:
        task = asyncio.get_running_loop().create_task(self.reload())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def reload(self) -> None:
        async with self._lock:
            try:
                cfg = config.load(self.path)
            except config.ConfigError as err:
                self.engine.reload_successful = False
                for problem in err.problems:
                    log.error("config reload failed, keeping the running config", extra={"problem": problem})
                return
            old, self.deps = self.deps, await make_deps(cfg)
            await self.engine.replace(checks.build(self.deps))
            await close_deps(old)
            log.info("config reloaded", extra={"families": ",".join(s.family.name for s in self.engine.schedules)})

    async def shutdown(self) -> None:
        """Stop the checks and release their clients, after any reload in progress."""
        async with self._lock:
            await self.engine.stop()
            await close_deps(self.deps)


async def run(
    cfg: config.Config, host: str, port: int, web_config: WebConfig | None = None, path: Path | None = None
) -> int:
    deps = await make_deps(cfg)
    engine = Engine(checks.build(deps))
    reloader = Reloader(path, engine, deps)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # Windows event loops have no signal handlers
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    if hasattr(signal, "SIGHUP"):
        loop.add_signal_handler(signal.SIGHUP, reloader.request)
    try:
        runner, bound = await serve(engine, host, port, web_config)
    except OSError as err:
        log.error("cannot listen", extra={"address": f"{host}:{port}", "error": err.strerror or str(err)})
        await close_deps(deps)
        return 1
    engine.start()
    log.info(
        "listening",
        extra={
            "address": f"{host}:{bound}",
            "families": ",".join(s.family.name for s in engine.schedules),
            "version": __version__,
        },
    )
    await stop.wait()
    log.info("shutting down")
    await reloader.shutdown()
    await runner.cleanup()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    source = str(args.config_file) if args.config_file else "built-in default config"
    try:
        cfg = config.load(args.config_file)
    except config.ConfigError as err:
        return _report(source, err)
    try:
        web_config = webconfig.load(args.web_config) if args.web_config else None
    except config.ConfigError as err:
        return _report(str(args.web_config), err)
    if args.config_check:
        print(f"{source}: OK")
        return 0
    logs.setup(args.log_level, args.log_format)
    host, port = args.listen
    return asyncio.run(run(cfg, host, port, web_config, args.config_file))


def _report(source: str, err: config.ConfigError) -> int:
    for problem in err.problems:
        print(f"ssm-exporter: {source}: {problem}", file=sys.stderr)
    return 1
