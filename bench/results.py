"""Where a benchmark's figures are kept: bench/results/<name>-<UTC time>.json, with the machine they came from.

Every figure is only as good as the machine it was measured on (2 cores here), so each file
says which; the folder is not committed, the README quotes the runs it relies on.
"""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results")


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
    }


def write_result(name: str, body: dict[str, Any], folder: Path = RESULTS) -> Path:
    """Write one run's figures; a `machine` the body gives itself is kept, else this machine's is added."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps({"machine": machine(), **body}, indent=2, ensure_ascii=False) + "\n")
    return path
