"""The metrics page: the process's counters (metrics.py) and what lives in the database, read at each scrape
(queue depth and age, storage used and sold per tier), so every worker and node reports the same values."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from smb_suite.metrics import PREFIX, multiprocess_dir, shared, worker_restarts
from smb_suite.services import Services


class StateCollector(Collector):
    """Gauges computed from the database when scraped (SQL: call `exposition` off the event loop)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def collect(self) -> Iterator[Metric]:
        services = self._services
        restarts = worker_restarts(multiprocess_dir(services.config.server.data_dir))
        yield CounterMetricFamily(
            f"{PREFIX}worker_restarts", "Worker processes restarted after they died", value=restarts
        )
        depth, oldest = services.queue.waiting()
        yield GaugeMetricFamily(f"{PREFIX}queue_depth", "Recipients waiting in the outbound queue", value=depth)
        age = max(0.0, services.clock() - oldest) if oldest is not None else 0.0
        yield GaugeMetricFamily(
            f"{PREFIX}queue_oldest_age_seconds", "Age of the oldest message still waiting in the queue", value=age
        )
        used: dict[str, int] = defaultdict(int)
        limit: dict[str, int] = defaultdict(int)
        businesses: dict[str, int] = defaultdict(int)
        for usage in services.quota.current_all():
            used[usage.tier] += usage.used
            limit[usage.tier] += usage.limit
            businesses[usage.tier] += 1
        families = (
            (f"{PREFIX}quota_used_bytes", "Storage used by the businesses of a tier", used),
            (f"{PREFIX}quota_limit_bytes", "Storage sold to the businesses of a tier (sum of their limits)", limit),
            (f"{PREFIX}businesses", "Businesses on a tier", businesses),
        )
        for name, text, values in families:
            family = GaugeMetricFamily(name, text, labels=["tier"])
            for tier in sorted(set(services.config.tiers) | set(values)):
                family.add_metric([tier], values.get(tier, 0))
            yield family


def page_registry(services: Services) -> CollectorRegistry:
    """What the metrics page shows (built once where it is served): this process's metrics, or with worker
    processes every worker's summed from the shared folder; and the database's gauges."""
    if shared(services.config):
        registry = CollectorRegistry()
        folder = str(multiprocess_dir(services.config.server.data_dir))
        multiprocess.MultiProcessCollector(registry, folder)  # type: ignore[no-untyped-call]
    else:
        registry = services.metrics.registry
    registry.register(StateCollector(services))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The Prometheus text format of every metric (reads the database: run it in a thread)."""
    return generate_latest(registry)
