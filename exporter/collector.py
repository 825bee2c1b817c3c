"""Renders the engine's cached results as Prometheus metrics, one scrape at a time."""

from __future__ import annotations

import platform
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from . import __version__
from .catalog import CATALOG, Spec
from .engine import Engine


class CacheCollector(Collector):
    """Builds every scrape from the engine's latest results; never runs a check itself."""

    def __init__(self, engine: Engine, version: str = __version__):
        self._engine = engine
        self._version = version

    def collect(self) -> Iterator[Metric]:
        families = {name: self._family(name, spec) for name, spec in CATALOG.items()}
        families["ssm_exporter_build_info"].add_metric([self._version, platform.python_version()], 1)
        families["ssm_exporter_config_last_reload_successful"].add_metric(
            [], 1 if self._engine.reload_successful else 0
        )
        families["ssm_exporter_config_last_reload_success_timestamp_seconds"].add_metric(
            [], self._engine.reload_success_timestamp
        )
        for schedule in self._engine.schedules:
            if schedule.last_cycle_seconds is not None:
                families["ssm_exporter_cycle_duration_seconds"].add_metric(
                    [schedule.family.name], schedule.last_cycle_seconds
                )
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for result in sorted(self._engine.results(), key=lambda r: (r.check, r.target)):
            key = [result.check, result.target]
            families["ssm_check_success"].add_metric(key, 1 if result.success else 0)
            families["ssm_check_duration_seconds"].add_metric(key, result.duration)
            families["ssm_check_last_run_timestamp_seconds"].add_metric(key, result.timestamp)
            if not result.success:
                families["ssm_check_failure_info"].add_metric(key + [result.reason], 1)
            for sample in result.samples:
                spec = CATALOG[sample.name]
                labels = dict(sample.labels)
                values = tuple(labels.get(label, "") for label in spec.labels)
                if (sample.name, values) not in seen:
                    seen.add((sample.name, values))
                    families[sample.name].add_metric(list(values), sample.value)
        yield from families.values()

    @staticmethod
    def _family(name: str, spec: Spec) -> Metric:
        if spec.kind == "counter":
            return CounterMetricFamily(name.removesuffix("_total"), spec.help, labels=spec.labels)
        return GaugeMetricFamily(name, spec.help, labels=spec.labels)
