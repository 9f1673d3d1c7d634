"""The metrics page: the process's counters (metrics.py) and what lives in the database, read at each scrape
(queue depth and age, storage used and sold per tier), so every worker and node reports the same values."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from prometheus_client import generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from smb_suite.metrics import PREFIX
from smb_suite.services import Services


class StateCollector(Collector):
    """Gauges computed from the database when scraped (SQL: call `exposition` off the event loop)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def collect(self) -> Iterator[Metric]:
        services = self._services
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


def watch_state(services: Services) -> None:
    """Add the database gauges to the process's registry (once, where the metrics page is served)."""
    services.metrics.registry.register(StateCollector(services))


def exposition(services: Services) -> bytes:
    """The Prometheus text format of every metric (reads the database: run it in a thread)."""
    return generate_latest(services.metrics.registry)
