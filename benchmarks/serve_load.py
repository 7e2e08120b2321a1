"""Load test of ``xltool serve``: many units uploading at once over loopback, nothing lost.

    python benchmarks/serve_load.py                          # 200 units, 1,000 uploads
    python benchmarks/serve_load.py --units 40 --uploads 200 # a small run on a busy machine
    python benchmarks/serve_load.py --units 20 --uploads 100 --poison 2   # and 2 hostile units

Each unit uploads its own workbooks one after another (uploads / units of them), all units at
once, against a real server process on 127.0.0.1 (never another address). Every third unit's
last upload has a broken sum, so its state must end as 有错误 (errors); the others end 通过 (ok).
Afterwards the admin API must show every unit with exactly its number of versions and the right
state: an upload lost or numbered twice fails the run (exit 1), and so does a run past --timeout.
Prints p50/p95 latency of one upload (send + check + commit + answer) and uploads per second.

``--poison N`` adds N units uploading, as often as the others, files that once took the portal
down for everyone: an empty file, and a 24 kB workbook with one cell at 单位信息!XFD1048576 (the
spreadsheet reader asks for 512 GB and aborts, killing its worker, unless the reader refuses the
extent first); after each, they open the version's preview and annotated copy, which must be 404.
Each poison upload must be answered 200 and refused; the other units' latency is reported apart,
so that two runs, with and without ``--poison``, show what the poison costs everyone else.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402

from tests.sample_data import SHUYANG  # noqa: E402
from xltool.form import spec as specs  # noqa: E402
from xltool.serve import collection  # noqa: E402
from xltool.workbook import template  # noqa: E402

HOST = "127.0.0.1"  # loopback only
FAR = "XFD1048576"  # the last cell a sheet can have


def workbooks(folder: Path, units: list[str]) -> dict[str, tuple[bytes, bytes]]:
    """Each unit's (valid, broken) workbook; the broken one leaves a request unaccounted (rule T3-1)."""
    spec, out = specs.load(), {}
    for i, name in enumerate(units):
        good, bad = folder / f"{i}.xlsx", folder / f"{i}-bad.xlsx"
        values = {**SHUYANG, "unit.unit_name": name, "unit.report_year": 2023}
        template.write(good, spec, values)
        template.write(bad, spec, values | {"t3.carry_out.natural": 1})
        out[name] = (good.read_bytes(), bad.read_bytes())
    return out


def far_cell(good: Path, out: Path) -> bytes:
    """``good`` with one more cell, at 单位信息!XFD1048576, and the sheet's extent saying so."""
    sheets = re.findall(r'<sheet name="([^"]+)"', zipfile.ZipFile(good).read("xl/workbook.xml").decode())
    part = f"xl/worksheets/sheet{sheets.index('单位信息') + 1}.xml"  # xlsxwriter numbers sheets in order
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == part:
                text = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{FAR}"/>', data.decode())
                cell = f'<row r="1048576"><c r="{FAR}" t="inlineStr"><is><t>x</t></is></c></row>'
                data = text.replace("</sheetData>", cell + "</sheetData>").encode()
            zout.writestr(info, data)
    return out.read_bytes()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


async def clerk(
    client: httpx2.AsyncClient, link: str, files: list[bytes], latencies: list[float], poison: bool, seen: list[str]
) -> list[int]:
    """One unit's uploads in turn; ``seen`` collects every answer that is not what it should be."""
    try:
        csrf = (await client.get(link, headers={"Accept": "application/json"})).json()["csrf"]
    except httpx2.TransportError as exc:
        seen.append(f"page: {type(exc).__name__}")
        return []
    versions: list[int] = []
    for n, data in enumerate(files):
        started = time.perf_counter()
        try:
            r = await client.post(
                f"{link}/upload",
                data={"csrf": csrf},
                files={"file": (f"第{n + 1}次.xlsx", data)},
                headers={"Accept": "application/json"},
            )
        except httpx2.TransportError as exc:
            seen.append(f"upload: {type(exc).__name__}")
            continue
        latencies.append(time.perf_counter() - started)
        if r.status_code != 200 or (poison and r.json()["accepted"]):
            seen.append(f"upload: {r.status_code}")
            continue
        versions.append(r.json()["version"])
        if poison:  # the failed version's copies: a 404 page, never a 500 or a 0-byte file
            for copy in ("preview.html", "annotated.xlsx"):
                try:
                    got = (await client.get(f"{link}/v/{versions[-1]}/{copy}")).status_code
                except httpx2.TransportError as exc:
                    seen.append(f"{copy}: {type(exc).__name__}")
                    continue
                if got != 404:
                    seen.append(f"{copy}: {got}")
    return versions


async def load(
    base: str, plan: dict[str, list[bytes]], links: dict[str, str], timeout: float, poisoned: set[str]
) -> tuple[list[float], list[float], float, list[str]]:
    latencies: list[float] = []
    hostile: list[float] = []
    seen: list[str] = []
    limits = httpx2.Limits(max_connections=len(plan), max_keepalive_connections=len(plan))
    async with httpx2.AsyncClient(base_url=base, timeout=timeout, limits=limits) as client:
        started = time.perf_counter()
        tasks = [
            clerk(client, links[u], files, hostile if u in poisoned else latencies, u in poisoned, seen)
            for u, files in plan.items()
        ]
        results = await asyncio.wait_for(asyncio.gather(*tasks), timeout)
        elapsed = time.perf_counter() - started
    for (unit, files), versions in zip(plan.items(), results, strict=True):
        if versions != list(range(1, len(files) + 1)):
            seen.append(f"{unit}: versions {versions}")
    return latencies, hostile, elapsed, seen


def verify(base: str, token: str, plan: dict[str, list[bytes]], broken: set[str]) -> None:
    """Every unit has exactly its versions and the state of its last upload (poison: errors)."""
    r = httpx2.get(f"{base}/admin/status.json", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    units = {u["unit"]: u for u in r.json()["units"]}
    for unit, files in plan.items():
        got = units[unit]
        want = "errors" if unit in broken else "ok"
        if got["versions"] != len(files) or got["status"] != want:
            raise SystemExit(f"FAIL {unit}: {got['versions']} versions, {got['status']} (want {len(files)}, {want})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=200)
    ap.add_argument("--uploads", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2, help="check processes of the server")
    ap.add_argument("--timeout", type=float, default=900, help="seconds for the whole load (fails past it)")
    ap.add_argument("--poison", type=int, default=0, help="units uploading an empty file and a far-extent workbook")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    per_unit = max(1, args.uploads // args.units)
    work = Path(tempfile.mkdtemp(prefix="xltool-load-"))
    proc = None
    try:
        names = [f"负载测试第{i:03d}局" for i in range(args.units)]
        hostile = [f"投毒测试第{i:03d}局" for i in range(args.poison)]
        roster = work / "名单.csv"
        roster.write_text("单位名称\n" + "\n".join(names + hostile) + "\n", encoding="utf-8")
        port = free_port()
        base = f"http://{HOST}:{port}"
        created = collection.init(work / "round", year=2023, unit="负载测试县", roster=roster, base_url=base)
        links = {u: url.removeprefix(base) for u, url in created.links}
        books = workbooks(work, names)
        broken = {u for i, u in enumerate(names) if i % 3 == 0}
        plan = {u: [books[u][0]] * (per_unit - 1) + [books[u][1] if u in broken else books[u][0]] for u in names}
        poison = [b"", far_cell(work / "0.xlsx", work / "far.xlsx")]
        plan |= {u: [poison[n % 2] for n in range(per_unit)] for u in hostile}
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        cmd = [sys.executable, "-m", "xltool", "serve", str(work / "round"), "--host", HOST, "--port", str(port)]
        proc = subprocess.Popen([*cmd, "--workers", str(args.workers)], env=env, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx2.get(f"{base}/healthz", timeout=1).text == "ok":
                    break
            except httpx2.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit("FAIL: the server did not start") from None
                time.sleep(0.2)
        latencies, poisoned, elapsed, seen = asyncio.run(load(base, plan, links, args.timeout, set(hostile)))
        if not seen:
            verify(base, str(created.admin_token), plan, broken | set(hostile))
        result = {
            "units": args.units,
            "uploads": len(latencies),
            "poison_units": args.poison,
            "poison_uploads": len(poisoned),
            "workers": args.workers,
            "cpus": os.cpu_count(),
            "seconds": round(elapsed, 1),
            "uploads_per_s": round(len(latencies) / elapsed, 1),
            "wrong_answers": len(seen),
            **percentiles("", latencies),
            **(percentiles("poison_", poisoned) if poisoned else {}),
        }
        if args.json:
            print(json.dumps(result))
        else:
            extra = f"; {len(poisoned)} poison uploads refused, p95 {result['poison_p95_ms']} ms" if poisoned else ""
            print(
                f"{result['uploads']} uploads by {result['units']} units in {result['seconds']} s: "
                f"{result['uploads_per_s']} uploads/s, p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms "
                f"({args.workers} check processes, {os.cpu_count()} CPUs){extra}"
                + ("" if seen else "; none lost, every state right")
            )
        if seen:
            counts = {what: seen.count(what) for what in sorted(set(seen))}
            raise SystemExit(f"FAIL {len(seen)} wrong answers: {counts}")
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
        shutil.rmtree(work, ignore_errors=True)


def percentiles(prefix: str, latencies: list[float]) -> dict[str, int]:
    q = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else latencies * 19
    return {f"{prefix}p50_ms": round(statistics.median(latencies) * 1000), f"{prefix}p95_ms": round(q[18] * 1000)}


if __name__ == "__main__":
    main()
