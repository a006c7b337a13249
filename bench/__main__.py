"""`.venv/bin/python -m bench`: every benchmark in turn, each printing its figures."""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = (
    "bench.calendar_bench",
    "bench.recompute_bench",
    "bench.mail_bench",
    "bench.line_bench",
    "bench.sla_bench",
    "bench.ui_bench",
)


def main() -> int:
    failed = 0
    for module in BENCHMARKS:
        print(f"\n=== {module} ===", flush=True)
        failed += subprocess.run([sys.executable, "-m", module], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
