"""The registry by place at scale: a country's page, the gaps and overlaps matrix (by
region, and by country within a region) over the generated registries of
`bench_registry.py` (made once and kept). Interleaved rounds over the sizes, medians in
ms (wall / this process's CPU), the load average printed: the machine may be shared.

    .venv/bin/python bench/bench_registry_places.py --sizes 20000,200000
    .venv/bin/python bench/bench_registry_places.py --quick --databases sqlite
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_registry as base  # noqa: E402

from hub.extensions import db  # noqa: E402
from hub.registry import places  # noqa: E402


def operations(app):
    client = app.test_client()

    def page(url: str):
        def get() -> None:
            assert client.get(url).status_code == 200
        return get

    return {
        "gaps matrix, thematic area x region": lambda: places.gaps(None),
        "gaps matrix, thematic area x country (africa)": lambda: places.gaps("africa"),
        "country page /countries/KE (HTTP)": page("/countries/KE"),
        "gaps page /registry/gaps (HTTP)": page("/registry/gaps"),
        "GET /api/v1/countries/KE": page("/api/v1/countries/KE"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="20000,200000")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2,000 and 20,000; 3 rounds")
    args = parser.parse_args()
    sizes = [2000, 20000] if args.quick else [int(s) for s in args.sizes.split(",")]
    rounds = 3 if args.quick else args.rounds
    keys = [(e, s) for e in args.databases.split(",") for s in sizes]
    apps = {key: base.dataset(*key) for key in keys}
    ops = {key: operations(app) for key, app in apps.items()}
    names = list(next(iter(ops.values())))
    wall: dict[tuple, list[float]] = {}
    cpu: dict[tuple, list[float]] = {}
    for round_ in range(rounds + 1):  # the first round warms caches and is not counted
        for key, app in apps.items():
            with app.app_context():
                for name in names:
                    w0, c0 = time.perf_counter(), time.process_time()
                    ops[key][name]()
                    if round_:
                        wall.setdefault((key, name), []).append(
                            (time.perf_counter() - w0) * 1000)
                        cpu.setdefault((key, name), []).append((time.process_time() - c0) * 1000)
                    db.session.rollback()
    print(f"load average: {os.getloadavg()[0]:.1f}; {rounds} interleaved rounds, medians in "
          "ms, wall / CPU of this process; no stated budget")
    for engine in args.databases.split(","):
        print(f"\n{engine:<48}" + "".join(f"{s:>17,}" for s in sizes))
        for name in names:
            print(f"{name:<48}" + "".join(
                f"{statistics.median(wall[((engine, s), name)]):>9.1f} /"
                f"{statistics.median(cpu[((engine, s), name)]):>6.1f}" for s in sizes))


if __name__ == "__main__":
    main()
