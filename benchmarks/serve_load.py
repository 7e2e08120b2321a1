"""Open-loop load test of ``xltool serve``: uploads at fixed arrival rates over loopback, nothing lost.

    python benchmarks/serve_load.py                               # 10, 30, 60 uploads/s, 20 s each, 200 units
    python benchmarks/serve_load.py --rates 30 --seconds 30       # one rate, sustained for 30 s
    python benchmarks/serve_load.py --rates 10 --poison 2         # and 2 hostile units in the rotation

Open loop: upload number i is sent at ``start + i / rate`` whether or not the earlier ones have been
answered (each on its own connection, as each unit's browser is), so a server that falls behind
shows it as latency instead of slowing the senders down. The total is bounded (``rate x seconds``,
at most ``--max-uploads``) and everything goes to a real server process on 127.0.0.1, never another
address. Units take turns (round robin). Every third unit alternates a workbook with a broken sum
(rule T3-1, refused) and a valid one, the others upload valid ones; each answer must say so. Every
upload is a file of its own (the zip's comment numbers it): each is stored, fsynced and its part of
the summary written, as a clerk's new upload is, never found already kept.
Afterwards the admin API must show every unit with exactly the versions sent and the state of the
answer that got its highest version: an upload lost or numbered twice fails the run (exit 1).

Reported per rate: throughput (answers per second over the run), p50/p95/p99 of upload -> verdict
(from the moment the upload was due, so a late sender cannot hide a slow server), wrong answers,
timeouts (``--timeout`` per upload), how late the sender was, the load average, CPU: the server
with its workers (and of it the server's own HTTP process, and CPU milliseconds per upload), this
client, and the rest of the machine (other programs: the benchmark machine is shared), and the
peak memory of the server with its workers (the sum of their PSS, sampled every 0.25 s; its memory
when idle is reported too). Then the summary endpoints for all units: the first request (built
from the parts kept at each upload), the second (the cached file, byte-identical), the first after
one more upload (rebuilt from cached parts), and cold (every part and cached summary removed, as a
new version of xltool finds them: every latest upload read and checked again), with the peak memory;
then the server is restarted with no part kept (an upgrade): how long it takes to compute them all
in the background, and the summary after that.

``--poison N`` adds N units to the rotation that upload, as often as the others, files that once
took the portal down for everyone: an empty file, and a 24 kB workbook with one cell at
单位信息!XFD1048576 (the spreadsheet reader asks for 512 GB and aborts, killing its worker, unless
the reader refuses the extent first); after each, they open the version's preview and annotated
copy, which must be 404. Each poison upload must be answered 200 and refused; the other units'
latency is reported apart, so two runs, with and without ``--poison``, show what poison costs.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402

from tests.sample_data import SHUYANG  # noqa: E402
from xltool.form import spec as specs  # noqa: E402
from xltool.serve import collection, parts  # noqa: E402
from xltool.serve import summaries as summaries_cache  # noqa: E402
from xltool.workbook import template  # noqa: E402

HOST = "127.0.0.1"  # loopback only
FAR = "XFD1048576"  # the last cell a sheet can have
BOUNDARY = "xltool-load-boundary-7e3f"
TICK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- the files


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


def distinct(book: bytes, n: int) -> bytes:
    """``book`` made a file of its own (another SHA-256, so stored, fsynced and its part written as a
    new upload is): the zip archive's comment says ``n``. The workbook's cells are unchanged."""
    comment = f"load {n}".encode()
    if book[-22:-18] != b"PK\x05\x06" or book[-2:] != b"\0\0":  # the end record, with no comment yet
        raise SystemExit("FAIL: the workbook does not end in a zip end record without a comment")
    return book[:-2] + len(comment).to_bytes(2, "little") + comment


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


def multipart(csrf: str, name: str, data: bytes) -> bytes:
    """The body of the upload form: the csrf field and the file."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    return head.encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


# ---------------------------------------------------------------- a lean HTTP/1.1 client


async def request(port: int, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    """One request on its own connection (as each unit's browser has its own); (status, body)."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: application/json\r\nConnection: close\r\n"
        if method == "POST":
            head += f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {len(body)}\r\n"
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        length = None
        while (line := await reader.readline()) not in (b"\r\n", b""):
            key, _, value = line.decode("latin-1").partition(":")
            if key.strip().lower() == "content-length":
                length = int(value)
        data = await (reader.readexactly(length) if length is not None else reader.read())
        return status, data
    finally:
        writer.close()


# ---------------------------------------------------------------- one rate


@dataclass(frozen=True)
class Shot:
    unit: str
    link: str
    body: bytes
    kind: str  # good | bad | poison


@dataclass
class Run:
    rate: float
    shots: list[Shot]
    latencies: list[float] = field(default_factory=list)
    poison: list[float] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    timeouts: int = 0
    lag: float = 0.0  # the sender's worst delay behind schedule
    elapsed: float = 0.0
    versions: dict[str, dict[int, bool]] = field(default_factory=dict)  # unit -> version -> accepted
    load: list[float] = field(default_factory=list)


async def fire(port: int, shot: Shot, due: float, run: Run, timeout: float) -> None:
    try:
        status, data = await asyncio.wait_for(request(port, "POST", f"{shot.link}/upload", shot.body), timeout)
    except TimeoutError:
        run.timeouts += 1
        return
    except OSError as exc:
        run.wrong.append(f"upload: {type(exc).__name__}")
        return
    (run.poison if shot.kind == "poison" else run.latencies).append(time.perf_counter() - due)
    if status != 200:
        run.wrong.append(f"upload: {status}")
        return
    answer = json.loads(data)
    if answer["accepted"] != (shot.kind == "good"):
        run.wrong.append(f"upload {shot.kind}: accepted={answer['accepted']}")
    run.versions.setdefault(shot.unit, {})[answer["version"]] = answer["accepted"]
    if shot.kind == "poison":  # the failed version's copies: a 404 page, never a 500 or a 0-byte file
        for copy in ("preview.html", "annotated.xlsx"):
            try:
                got, _ = await asyncio.wait_for(
                    request(port, "GET", f"{shot.link}/v/{answer['version']}/{copy}"), timeout
                )
            except (TimeoutError, OSError) as exc:
                run.wrong.append(f"{copy}: {type(exc).__name__}")
                continue
            if got != 404:
                run.wrong.append(f"{copy}: {got}")


async def drive(port: int, run: Run, timeout: float) -> None:
    """Send ``run.shots`` on schedule (open loop) and wait for every answer."""
    loop = asyncio.get_running_loop()
    sampler = loop.create_task(sample_load(run.load))
    tasks = []
    start = time.perf_counter() + 0.05
    for i, shot in enumerate(run.shots):
        due = start + i / run.rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        run.lag = max(run.lag, time.perf_counter() - due)
        tasks.append(loop.create_task(fire(port, shot, due, run, timeout)))
    await asyncio.gather(*tasks)
    run.elapsed = time.perf_counter() - start
    sampler.cancel()


async def sample_load(out: list[float]) -> None:
    while True:
        out.append(float(Path("/proc/loadavg").read_text().split()[0]))
        await asyncio.sleep(1.0)


# ---------------------------------------------------------------- CPU accounting (Linux)


def machine_busy() -> float:
    """CPU seconds spent by the whole machine so far (all cores, not idle)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / TICK  # minus idle and iowait


def group_cpu(pgid: int) -> float:
    """CPU seconds of the processes still alive in process group ``pgid`` (the server and its workers)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parts = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(parts[2]) == pgid:
            total += int(parts[11]) + int(parts[12]) + int(parts[13]) + int(parts[14])  # utime stime cutime cstime
    return total / TICK


def group_memory(pgid: int) -> float:
    """MB of memory of process group ``pgid`` now: the sum of each process's proportional share
    (PSS: pages the forked workers share are counted once, not once per process)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            rollup = (stat.parent / "smaps_rollup").read_text()
        except (OSError, IndexError):
            continue
        total += next((int(x.split()[1]) for x in rollup.splitlines() if x.startswith("Pss:")), 0)
    return total / 1024


class Peak:
    """The highest memory of the server and its workers while it runs (sampled every 0.25 s)."""

    def __init__(self, pgid: int) -> None:
        self.pgid, self.mb, self._stop = pgid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self.mb = max(self.mb, group_memory(self.pgid))
            if self._stop.wait(0.25):
                return

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.mb = max(self.mb, group_memory(self.pgid))


def process_cpu(pid: int) -> float:
    """CPU seconds of one process itself (the server's HTTP process, without its workers)."""
    parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / TICK


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------- checks and summaries


def status(base: str, token: str) -> dict[str, Any]:
    r = httpx2.get(f"{base}/admin/status.json", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    return {u["unit"]: u for u in r.json()["units"]}


def verify(base: str, token: str, sent: dict[str, int], answers: dict[str, dict[int, bool]], drain: float) -> str:
    """Every unit has exactly the versions sent and the state of its highest version's answer.
    Uploads that timed out on our side are still committed by the server: wait up to ``drain`` s."""
    deadline = time.monotonic() + drain
    while True:
        units = status(base, token)
        if sum(u["versions"] for u in units.values()) >= sum(sent.values()) or time.monotonic() > deadline:
            break
        time.sleep(1)
    for unit, count in sent.items():
        got = units[unit]
        if got["versions"] != count:
            return f"{unit}: {got['versions']} versions on record, {count} sent"
        seen = answers.get(unit, {})
        if len(seen) == count and sorted(seen) != list(range(1, count + 1)):
            return f"{unit}: versions answered {sorted(seen)}"
        if seen and max(seen) == count and got["status"] != ("ok" if seen[count] else "errors"):
            return f"{unit}: state {got['status']}, but version {count} was answered accepted={seen[count]}"
    return ""


def summaries(base: str, token: str, port: int, folder: Path, link: str, body: bytes) -> dict[str, Any]:
    """Time the summary endpoints: built, cached (same bytes), rebuilt after one more upload (the
    parts of the others kept), and cold (no part kept: every latest upload read and checked again)."""
    headers = {"Authorization": f"Bearer {token}"}
    out: dict[str, Any] = {}
    got: dict[str, bytes] = {}
    with httpx2.Client(base_url=base, headers=headers, timeout=600) as client:

        def timed(label: str, path: str) -> None:
            started = time.perf_counter()
            r = client.get(path)
            out[label] = round(time.perf_counter() - started, 2)
            if r.status_code != 200:
                raise SystemExit(f"FAIL {path}: {r.status_code} {r.text[:200]}")
            got[label] = r.content

        timed("xlsx_first_s", "/admin/summary.xlsx")
        timed("xlsx_cached_s", "/admin/summary.xlsx")
        timed("docx_first_s", "/admin/summary.docx")
        timed("docx_cached_s", "/admin/summary.docx")
        same = got["xlsx_first_s"] == got["xlsx_cached_s"] and got["docx_first_s"] == got["docx_cached_s"]
        out["cached_same_bytes"] = same  # the cache serves the very file; without it, a new build's time stamp
        status_code, _ = asyncio.run(request(port, "POST", f"{link}/upload", body))
        if status_code != 200:
            raise SystemExit(f"FAIL: the upload before the rebuilt summary: {status_code}")
        timed("xlsx_after_upload_s", "/admin/summary.xlsx")
        timed("docx_after_upload_s", "/admin/summary.docx")
        if got["xlsx_after_upload_s"] == got["xlsx_cached_s"]:
            raise SystemExit("FAIL: the summary after a new upload is the cached one")
        for kind in ("xlsx", "docx"):  # as after an upgrade of xltool: every part computed again
            forget(folder)
            timed(f"{kind}_cold_s", f"/admin/summary.{kind}")
    return out


def forget(folder: Path) -> None:
    """Remove every kept part and cached summary, as a new version of xltool finds them (a part or
    summary made by other code is never used)."""
    for part in (folder / collection.FILES).rglob(f"*{parts.SUFFIX}"):
        part.unlink()
    shutil.rmtree(folder / summaries_cache.CACHE, ignore_errors=True)


# ---------------------------------------------------------------- the run


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start_server(folder: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "xltool", "serve", str(folder), "--host", HOST, "--port", str(port)]
    proc = subprocess.Popen([*cmd, "--workers", str(workers)], env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx2.get(f"http://{HOST}:{port}/healthz", timeout=1).text == "ok":
                return proc
        except httpx2.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("FAIL: the server did not start") from None
            time.sleep(0.2)


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.machine(),
    )
    return f"{os.cpu_count()} × {model}, Python {platform.python_version()}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=200)
    ap.add_argument("--rates", default="10,30,60", help="uploads per second, comma-separated, run in turn")
    ap.add_argument("--seconds", type=float, default=20, help="how long each rate is sustained")
    ap.add_argument("--max-uploads", type=int, default=3000, help="at most this many uploads per rate")
    ap.add_argument("--workers", type=int, default=2, help="check processes of the server")
    ap.add_argument("--timeout", type=float, default=60, help="seconds one upload may take (then: a timeout)")
    ap.add_argument("--poison", type=int, default=0, help="units uploading an empty file and a far-extent workbook")
    ap.add_argument("--no-summary", action="store_true", help="skip timing the summary endpoints")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
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
        token = str(created.admin_token)
        links = {u: url.removeprefix(base) for u, url in created.links}
        books = workbooks(work, names)
        poison = [b"", far_cell(work / "0.xlsx", work / "far.xlsx")]
        proc = start_server(work / "round", port, args.workers)
        with httpx2.Client(base_url=base, headers={"Accept": "application/json"}, timeout=60) as client:
            csrf = {u: client.get(links[u]).json()["csrf"] for u in names + hostile}
        poisoned = {u: [multipart(csrf[u], "报表.xlsx", b) for b in poison] for u in hostile}
        idle_mb = round(group_memory(proc.pid))
        rotation = names + hostile
        sent: dict[str, int] = dict.fromkeys(rotation, 0)
        answers: dict[str, dict[int, bool]] = {}
        results = []
        for rate in rates:
            plan, turn = [], sum(sent.values())
            for i in range(min(args.max_uploads, int(rate * args.seconds))):
                unit = rotation[(turn + i) % len(rotation)]
                n = sent[unit]
                sent[unit] += 1
                if unit in hostile:
                    plan.append(Shot(unit, links[unit], poisoned[unit][n % 2], "poison"))
                    continue
                kind = "bad" if names.index(unit) % 3 == 0 and n % 2 == 0 else "good"  # every third: broken, fixed, …
                body = multipart(csrf[unit], "报表.xlsx", distinct(books[unit][kind == "bad"], turn + i))
                plan.append(Shot(unit, links[unit], body, kind))
            run = Run(rate, plan)
            load_before = float(Path("/proc/loadavg").read_text().split()[0])
            cpu = (machine_busy(), group_cpu(proc.pid), own_cpu(), process_cpu(proc.pid))
            with Peak(proc.pid) as peak:
                asyncio.run(drive(port, run, args.timeout))
            used = (
                machine_busy() - cpu[0],
                group_cpu(proc.pid) - cpu[1],
                own_cpu() - cpu[2],
                process_cpu(proc.pid) - cpu[3],
            )
            for unit, seen in run.versions.items():
                answers.setdefault(unit, {}).update(seen)
            lost = verify(base, token, sent, answers, drain=args.timeout * 2)
            results.append(report(run, load_before, used, lost) | {"peak_memory_mb": round(peak.mb)})
            print(line(results[-1]), file=sys.stderr, flush=True)
        timed = {}
        if not args.no_summary:
            first = names[0]
            # the other state than its latest one: the summary's content changes, not only its key
            ok = status(base, token)[first]["status"] == "ok"
            body = multipart(csrf[first], "报表.xlsx", distinct(books[first][ok], sum(sent.values())))
            with Peak(proc.pid) as peak:
                timed = summaries(base, token, port, work / "round", links[first], body)
            timed |= {
                "load_after": float(Path("/proc/loadavg").read_text().split()[0]),
                "peak_memory_mb": round(peak.mb),
            }
            stop_server(proc)  # restarted as after an upgrade: the parts are computed in the background
            proc = None
            forget(work / "round")
            proc = start_server(work / "round", port, args.workers)
            timed |= warmed(base, token, work / "round", deadline=args.timeout * 2)
            print(f"summaries of {args.units} units:", ", ".join(f"{k} {v}" for k, v in timed.items()), file=sys.stderr)
        out = {
            "date": dt.date.today().isoformat(),
            "machine": machine(),
            "idle_memory_mb": idle_mb,
            "units": args.units,
            "poison_units": args.poison,
            "workers": args.workers,
            "rates": results,
            "summary": timed,
        }
        print(json.dumps(out, ensure_ascii=False) if args.json else "", flush=True)
        failed = [r for r in results if r["wrong_answers"] or r["lost"]]
        if failed:
            raise SystemExit(f"FAIL: {[(r['rate'], r['wrong'], r['lost']) for r in failed]}")
    finally:
        if proc is not None:
            stop_server(proc)
        shutil.rmtree(work, ignore_errors=True)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(30)


def warmed(base: str, token: str, folder: Path, deadline: float) -> dict[str, Any]:
    """After a restart with no part kept: how long until the server has computed every unit's part
    in the background (each unit's latest upload is merged here), then the summary's time."""
    expected = sum(1 for u in status(base, token).values() if u["versions"])
    started = time.perf_counter()
    while len(list((folder / collection.FILES).rglob(f"*.{parts.fingerprint()}{parts.SUFFIX}"))) < expected:
        if time.perf_counter() - started > deadline:
            raise SystemExit(f"FAIL: the parts were not computed again within {deadline:g} s of the restart")
        time.sleep(0.1)
    parts_s = round(time.perf_counter() - started, 2)
    with httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=600) as client:
        started = time.perf_counter()
        r = client.get("/admin/summary.xlsx")
        if r.status_code != 200:
            raise SystemExit(f"FAIL /admin/summary.xlsx after the restart: {r.status_code}")
    return {"parts_after_restart_s": parts_s, "xlsx_after_restart_s": round(time.perf_counter() - started, 2)}


def report(run: Run, load_before: float, used: tuple[float, float, float, float], lost: str) -> dict[str, Any]:
    machine_s, server_s, client_s, http_s = used
    answered = len(run.latencies) + len(run.poison)
    wrong = {what: run.wrong.count(what) for what in sorted(set(run.wrong))}
    return {
        "rate": run.rate,
        "uploads": len(run.shots),
        "answered": answered,
        "seconds": round(run.elapsed, 1),
        "uploads_per_s": round(answered / run.elapsed, 1),
        **percentiles("", run.latencies),
        **(percentiles("poison_", run.poison) if run.poison else {}),
        "wrong_answers": len(run.wrong),
        "wrong": wrong,
        "timeouts": run.timeouts,
        "sender_lag_ms": round(run.lag * 1000),
        "load_before": load_before,
        "load_max": max(run.load, default=load_before),
        "load_mean": round(statistics.mean(run.load), 2) if run.load else load_before,
        "cpu_server": round(server_s / run.elapsed, 2),  # cores: the server and its workers
        "cpu_http": round(http_s / run.elapsed, 2),  # of which the server's own process (HTTP, database)
        "cpu_ms_per_upload": round(server_s * 1000 / max(1, answered), 1),  # the server's and workers'
        "cpu_client": round(client_s / run.elapsed, 2),
        "cpu_others": round(max(0.0, machine_s - server_s - client_s) / run.elapsed, 2),
        "lost": lost,
    }


def line(r: dict[str, Any]) -> str:
    poison = f", poison p95 {r['poison_p95_ms']} ms" if "poison_p95_ms" in r else ""
    return (
        f"{r['rate']:g}/s: {r['answered']}/{r['uploads']} answered in {r['seconds']} s ({r['uploads_per_s']}/s), "
        f"p50 {r['p50_ms']} p95 {r['p95_ms']} p99 {r['p99_ms']} ms{poison}; wrong {r['wrong_answers']}, "
        f"timeouts {r['timeouts']}, sender lag {r['sender_lag_ms']} ms; load {r['load_before']}→max {r['load_max']}; "
        f"CPU cores: server {r['cpu_server']} (HTTP process {r['cpu_http']}; {r['cpu_ms_per_upload']} ms per upload), "
        f"client {r['cpu_client']}, others {r['cpu_others']}; "
        f"peak memory {r['peak_memory_mb']} MB"
        + (f"; LOST: {r['lost']}" if r["lost"] else "; none lost, every state right")
    )


def percentiles(prefix: str, latencies: list[float]) -> dict[str, int]:
    if not latencies:
        return {f"{prefix}p50_ms": 0, f"{prefix}p95_ms": 0, f"{prefix}p99_ms": 0}
    q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
    return {
        f"{prefix}p50_ms": round(statistics.median(latencies) * 1000),
        f"{prefix}p95_ms": round(q[94] * 1000),
        f"{prefix}p99_ms": round(q[98] * 1000),
    }


if __name__ == "__main__":
    main()
