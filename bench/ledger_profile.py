"""Profile one phase of the ledger bench (bench/ledger_phases.py) with pyinstrument:

    python -m bench.ledger_profile ingest  SUBJECTS [OUT.html]
    python -m bench.ledger_profile rebuild SUBJECTS [OUT.html]
    python -m bench.ledger_profile subject EVENTS   [OUT.html]

On a fresh ledger schema of the shared stack (dropped afterwards), the bulk court
list of `SUBJECTS` debtors (bench/ledger_records.py). Prints the phase's JSON line
and pyinstrument's text profile; the HTML one goes to OUT.html when given. What each
performance change of the ledger was motivated by (docs/benchmarks.md, Ledger).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from pyinstrument import Profiler

from bench import ledger_phases
from bench.ledger_records import write
from tests.support.infra import discover
from tests.support.ledger_harness import drop_schema, make_schema


async def _profiled(phase: str, size: int, profiler: Profiler) -> dict[str, Any]:
    with discover() as infra:
        schema = await make_schema(infra)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "records.tsv"
                if phase != "subject":
                    await asyncio.to_thread(write, path, size)
                if phase == "rebuild":
                    await ledger_phases.ingest(path, schema)
                profiler.start()
                try:
                    if phase == "ingest":
                        return await ledger_phases.ingest(path, schema)
                    if phase == "rebuild":
                        return await ledger_phases.rebuild(schema)
                    return await ledger_phases.subject(size, schema)
                finally:
                    profiler.stop()
        finally:
            await drop_schema(infra, schema)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("phase", choices=["ingest", "rebuild", "subject"])
    parser.add_argument("size", type=int)
    parser.add_argument("html", nargs="?")
    args = parser.parse_args()
    profiler = Profiler(async_mode="disabled")
    out = asyncio.run(_profiled(args.phase, args.size, profiler))
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.write(profiler.output_text(unicode=False, color=False, show_all=False))
    if args.html:
        Path(args.html).write_text(profiler.output_html())


if __name__ == "__main__":
    main()
