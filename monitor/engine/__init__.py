"""The monitor engine: the write side of the store, one batch at a time, in one transaction.

- :mod:`~monitor.engine.ingest`: :class:`Engine`, the transaction that takes a batch.
- :mod:`~monitor.engine.screening`: readings no sensor could report, made faults.
- :mod:`~monitor.engine.readings_writer`: readings with their ledger, late data rewriting it.
- :mod:`~monitor.engine.sensor_status`: ok, faulty, stale.
- :mod:`~monitor.engine.observations`: the metrics each rule observes, one row per metric.
- :mod:`~monitor.engine.alert_writer`: the lifecycle's transitions written as alerts.
- :mod:`~monitor.engine.vial_recheck`: when the vial rules look again.
"""

from monitor.batch import IngestResult
from monitor.engine.ingest import Engine
from monitor.engine.vial_recheck import VIAL_RECHECK_SECONDS

__all__ = ["VIAL_RECHECK_SECONDS", "Engine", "IngestResult"]
