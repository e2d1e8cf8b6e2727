"""One member of a consumer group, run as its own process by the fault tests so it can be killed -9.

It runs the real RecordWorker on crawl jobs with a slow handler (so a kill lands mid-batch), and
leaves a trail in DIR: `NAME.started` holds the ids of the batch in hand, `NAME.handled` every id
it finished (appended and fsynced before the worker commits), `NAME.partitions` what it holds now.

    python -m tests.faults.group_member BUS_URL NAMESPACE GROUP DIR NAME BATCH SECONDS_PER_BATCH
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from kcnguard.bus import open_bus
from kcnguard.bus.worker import RecordWorker
from kcnguard.logs import configure
from kcnguard.process import stop_on_signals
from kcnguard.records import CrawlJob, Record
from kcnguard.topics import CRAWL_JOBS


def _append(path: Path, lines: list[str], mode: str = "a") -> None:
    with path.open(mode, encoding="utf-8") as out:
        out.write("".join(f"{line}\n" for line in lines))
        out.flush()
        os.fsync(out.fileno())


def main(argv: list[str]) -> int:
    url, namespace, group, folder, name, batch, seconds = argv
    trail = Path(folder)
    configure("INFO", "text", name)
    bus = open_bus(url, namespace)
    worker: RecordWorker | None = None

    def handle(records: list[Record]) -> None:
        ids = [r.job_id for r in records if isinstance(r, CrawlJob)]
        if worker is not None:
            held = sorted(f"{t}/{p}" for t, p in worker.consumer.assignment)  # type: ignore[attr-defined]
            _append(trail / f"{name}.partitions", held, "w")
        _append(trail / f"{name}.started", ids, "w")
        time.sleep(float(seconds))
        _append(trail / f"{name}.handled", ids)

    worker = RecordWorker(
        bus, group, CRAWL_JOBS, handle, name=name, batch_size=int(batch), poll_seconds=0.2, stop=stop_on_signals()
    )
    worker.run()
    bus.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
