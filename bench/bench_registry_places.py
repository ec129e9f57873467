"""The registry by place at scale: a country's page, the gaps and overlaps matrix (by
region, and by country within a region) over N generated records written through the
services (the records of `bench_registry.py`). Prints the load average beside the
medians: the machine may be shared.

    BENCH_RECORDS=5000 .venv/bin/python bench/bench_registry_places.py
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_registry as base  # noqa: E402

from hub import create_app, seed  # noqa: E402
from hub.extensions import db  # noqa: E402
from hub.registry import places  # noqa: E402


def main() -> None:
    url = base._database()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                      "SECRET_KEY": "bench", "HUB_BASE_URL": "http://bench.test"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        seed.ensure_reference_data()
        started = time.perf_counter()
        base._fill(random.Random(7))
        print(f"{db.engine.dialect.name}: {base.N} records in "
              f"{time.perf_counter() - started:.1f} s; load average {os.getloadavg()}")
        client = app.test_client()
        base._time("gaps matrix, thematic area x region", lambda: places.gaps(None))
        base._time("gaps matrix, thematic area x country (africa)",
                   lambda: places.gaps("africa"))
        base._time("country page /countries/KE (HTTP)",
                   lambda: client.get("/countries/KE"), repeat=10)
        base._time("gaps page /registry/gaps (HTTP)",
                   lambda: client.get("/registry/gaps"), repeat=10)
        base._time("GET /api/v1/countries/KE", lambda: client.get("/api/v1/countries/KE"),
                   repeat=10)
        print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
