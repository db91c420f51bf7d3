"""`python -m bench.billrun URL AT [PROCESSES]`: one bill run in a process of its own, for figure
(f); with PROCESSES > 1, its subscriptions billed by that many spawned processes
(`entrypoints.bill_processes`, what `releve bill --processes` runs; the RSS is then the
coordinator's only).

Prints one JSON line: wall seconds of `BillingService.bill_due(AT)` (the clock fixed at AT),
peak RSS of this process in MB (`getrusage(RUSAGE_SELF).ru_maxrss`, kilobytes on Linux),
invoices issued, errors, SQL statements executed by the run (a `before_cursor_execute`
listener: the stable measure on a shared machine), and the events counted by the issued
invoices' charge fees (the caller compares it with what was generated).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import datetime
from functools import partial

import sqlalchemy as sa

from bench.usage_scenarios import FixedClock
from releve.adapters.sql.engine import create_engine
from releve.bootstrap import Container, bootstrap
from releve.entrypoints.bill_processes import bill_in_processes
from releve.settings import Settings


def _container(url: str, at: datetime) -> Container:
    return bootstrap(Settings(database_url=url), clock=FixedClock(at))


def main(url: str, at_text: str, processes: int = 1) -> None:
    at = datetime.fromisoformat(at_text)
    engine = create_engine(url)
    try:
        container = bootstrap(Settings(database_url=url), engine=engine, clock=FixedClock(at))
        statements = [0]

        def count(*_: object) -> None:
            statements[0] += 1

        sa.event.listen(engine, "before_cursor_execute", count)
        started = time.perf_counter()
        if processes > 1:
            run = bill_in_processes(container, partial(_container, url, at), at, processes)
        else:
            run = container.billing.bill_due(at)
        seconds = time.perf_counter() - started
        sa.event.remove(engine, "before_cursor_execute", count)
        max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with engine.connect() as c:
            charge_events = c.execute(
                sa.text("SELECT coalesce(sum(events_count), 0) FROM fees WHERE fee_type = 'charge'")
            ).scalar()
    finally:
        engine.dispose()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "max_rss_mb": max_rss_mb,
                "issued": len(run.issued) + run.closed,
                "errors": run.errors,
                "statements": statements[0],
                "charge_events": int(charge_events or 0),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(int(n) for n in sys.argv[3:4]))
