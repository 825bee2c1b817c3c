"""Check families, one module each, looked up by their config key.

Each module exposes a `Family` class built from `Deps` with an async `cycle(run)` that hands every
probe to the engine's `run(check, target, probe)`; that is the whole contract.
"""

from __future__ import annotations

from ..context import Deps
from ..engine import Schedule
from . import agent, agent_log, aws, clock, endpoints, fleet, imds

FAMILIES = {
    "clock": clock.Family,
    "endpoints": endpoints.Family,
    "agent": agent.Family,
    "agent_log": agent_log.Family,
    "imds": imds.Family,
    "aws": aws.Family,
    "fleet": fleet.Family,
}


def build(deps: Deps) -> list[Schedule]:
    """A schedule for every enabled family, with its interval and deadline from the config."""
    config = deps.config
    return [
        Schedule(family=cls(deps), interval=config.interval_of(name), timeout=config.timeout_of(name))
        for name, cls in FAMILIES.items()
        if config.family(name).enabled
    ]
