"""`python -m bench.billrun URL AT`: one bill run in a process of its own, for figure (f).

Prints one JSON line: wall seconds of `BillingService.bill_due(AT)` (the clock fixed at AT),
peak RSS of this process in MB (`getrusage(RUSAGE_SELF).ru_maxrss`, kilobytes on Linux),
invoices issued, errors, and the events counted by the issued invoices' charge fees (the caller
compares it with what was generated).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import datetime

import sqlalchemy as sa

from bench.usage_scenarios import FixedClock
from releve.adapters.sql.engine import create_engine
from releve.bootstrap import bootstrap
from releve.settings import Settings


def main(url: str, at_text: str) -> None:
    at = datetime.fromisoformat(at_text)
    engine = create_engine(url)
    try:
        container = bootstrap(Settings(database_url=url), engine=engine, clock=FixedClock(at))
        started = time.perf_counter()
        run = container.billing.bill_due(at)
        seconds = time.perf_counter() - started
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
                "charge_events": int(charge_events or 0),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
