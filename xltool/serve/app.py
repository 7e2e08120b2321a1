"""The portal's web layer: the only module that imports Starlette, uvicorn and Jinja2.

Thin: every route resolves who is asking (a unit's link, the admin's session or API token), calls
:mod:`xltool.serve.collection`, and renders a page or a file. Slow work (checking an upload,
building a summary) runs in a process pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xltool.serve import auth
from xltool.serve import collection as col
from xltool.serve.store import Store, Unit, now, open_store
from xltool.text import normalise

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "xltool_session"
SESSION_HOURS = 8
ENVELOPE = 64 * 1024  # multipart headers and the small fields around the file
CHUNK = 1 << 16
MAX_TRACKED = 10_000  # addresses the rate limiter remembers before it forgets expired ones
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"
TOKEN_PARAMS = ("token", "access_token", "api_token", "admin_token")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

_pages = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "pages"), autoescape=True, undefined=jinja2.StrictUndefined
)


@dataclass
class Settings:
    folder: Path
    db: str | None = None
    max_upload: int = 20 * 1024 * 1024
    workers: int = 2
    processes: bool = True  # False: a thread pool (tests that need no process start-up)
    max_failures: int = 20  # wrong unit links or passwords per address per window, then 429
    window: float = 60.0


class TooLarge(Exception):
    pass


@dataclass
class Limiter:
    """Repeated wrong tokens or passwords from one address are answered 429 for a while."""

    limit: int
    window: float
    seen: dict[str, deque[float]] = field(default_factory=dict)

    def blocked(self, address: str) -> bool:
        times = self.seen.get(address)
        if not times:
            return False
        while times and times[0] < time.monotonic() - self.window:
            times.popleft()
        return len(times) >= self.limit

    def fail(self, address: str) -> None:
        if len(self.seen) > MAX_TRACKED:  # many addresses: forget those whose window has passed
            for key in [k for k, times in self.seen.items() if not times or times[-1] < time.monotonic() - self.window]:
                del self.seen[key]
        self.seen.setdefault(address, deque()).append(time.monotonic())


class Portal:
    """The running collection: its store, settings, worker pool and per-unit upload locks."""

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.folder = settings.folder
        self.store: Store = open_store(settings.folder, settings.db)
        col.clean_temp(self.folder)
        self.secret = self.store.get("secret") or ""
        self.year = int(self.store.get("year") or 0)
        self.unit = self.store.get("unit") or ""
        self.deadline = self.store.get("deadline") or ""
        self.previous = self.store.get("previous")
        self.carry = col.previous_carry(self.store)
        self.limiter = Limiter(settings.max_failures, settings.window)
        self.locks: dict[int, asyncio.Lock] = {}
        self.pool: Executor | None = None
        self._prior: dict[str, str | None] = {}

    def start(self) -> None:
        if self.s.processes:
            self.pool = ProcessPoolExecutor(self.s.workers, mp_context=get_context("spawn"))
        else:
            self.pool = ThreadPoolExecutor(self.s.workers)

    def stop(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        self.store.close()

    async def work(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in the worker pool. A worker that died (killed, out of memory) breaks the
        pool: it is replaced and the work tried once more, so one crash does not stop the portal."""
        for attempt in (1, 2):
            pool = self.pool
            try:
                return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
            except BrokenProcessPool:
                if self.pool is pool:  # the first request to notice replaces it
                    assert pool is not None
                    pool.shutdown(wait=False, cancel_futures=True)
                    self.start()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def prior(self, unit: Unit) -> str | None:
        """The unit's passed upload in last year's round (for 上年结转 and the cross-year checks)."""
        if not self.previous:
            return None
        if unit.name not in self._prior:
            self._prior[unit.name] = _previous_upload(Path(self.previous), unit.name)
        return self._prior[unit.name]

    def carried(self, unit: Unit) -> dict[str, Any] | None:
        """The unit's 上年结转 from last year's summary (``--previous`` a summary), if it is listed there."""
        return self.carry.get(normalise(unit.name))


def _previous_upload(folder: Path, name: str) -> str | None:
    old = open_store(folder)
    try:
        for state in col.states(old):
            if normalise(state.unit.name) == normalise(name) and state.status == "ok" and state.latest:
                return str(col.blob_path(folder, state.latest.sha256))
    finally:
        old.close()
    return None


# ---------------------------------------------------------------- responses


def page(name: str, status: int = 200, **context: Any) -> Response:
    html = _pages.get_template(name).render(**context)
    return Response(html, status, media_type="text/html; charset=utf-8")


def message(title: str, text: str, status: int) -> Response:
    return page("message.html", status, title=title, text=text)


def not_found() -> Response:
    return PlainTextResponse("Not Found", 404)


def attachment(path: Path, name: str, media_type: str) -> Response:
    disposition = f"attachment; filename*=UTF-8''{quote(name)}"
    return FileResponse(
        path,
        media_type=media_type,
        headers={"Content-Disposition": disposition},
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


def address(request: Request) -> str:
    return request.client.host if request.client else "-"


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _temp(portal: Portal, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(suffix=suffix, dir=col.temp_dir(portal.folder))
    os.close(fd)
    return Path(name)


# ---------------------------------------------------------------- units


async def unit_of(request: Request) -> Unit | Response:
    """The unit whose link this is, or a plain 404 (and, after many wrong links, 429)."""
    portal: Portal = request.app.state.portal
    where = address(request)
    if portal.limiter.blocked(where):
        return PlainTextResponse("Too Many Requests", 429, headers={"Retry-After": str(int(portal.s.window))})
    token = request.path_params["token"]
    unit = await run_in_threadpool(portal.store.unit_by_sha, auth.digest(token))
    if unit is None or not auth.same(unit.token, token):
        portal.limiter.fail(where)
        return not_found()
    return unit


def unit_csrf(portal: Portal, unit: Unit) -> str:
    return auth.form_key(portal.secret, "unit:" + unit.token)


async def unit_page(request: Request) -> Response:
    found = await unit_of(request)
    if isinstance(found, Response):
        return found
    portal: Portal = request.app.state.portal
    history = await run_in_threadpool(portal.store.uploads, found.id)
    latest = history[-1] if history else None
    if wants_json(request):
        return JSONResponse(
            {
                "unit": found.name,
                "year": portal.year,
                "csrf": unit_csrf(portal, found),
                "versions": len(history),
                "file": latest.result if latest else None,
            }
        )
    return page(
        "unit.html",
        unit=found,
        year=portal.year,
        deadline=portal.deadline,
        base=f"/u/{found.token}",
        csrf=unit_csrf(portal, found),
        latest=latest,
        history=list(reversed(history)),
        max_mb=portal.s.max_upload // (1024 * 1024),
        label=col.STATUS_LABEL,
        notice=request.query_params.get("m", ""),
    )


async def unit_template(request: Request) -> Response:
    found = await unit_of(request)
    if isinstance(found, Response):
        return found
    portal: Portal = request.app.state.portal
    out = _temp(portal, ".xlsx")
    await portal.work(
        col.write_template, str(out), portal.year, found.fields, portal.prior(found), portal.carried(found)
    )
    name = f"{found.name}{portal.year}年政府信息公开工作年度报告填报模板.xlsx"
    await run_in_threadpool(portal.store.log, found.name, address(request), "template")
    return attachment(out, name, XLSX)


async def unit_upload(request: Request) -> Response:
    found = await unit_of(request)
    if isinstance(found, Response):
        return found
    portal: Portal = request.app.state.portal
    try:
        async with request.form(max_files=1, max_fields=4) as form:
            upload = form.get("file")
            if not auth.same(str(form.get("csrf", "")), unit_csrf(portal, found)):
                return message("无法上传", "页面已过期（表单校验码不符）。请刷新本页后重新选择文件上传。", 403)
            if not isinstance(upload, UploadFile) or not upload.filename:
                return _refused(request, "请先选择要上传的工作簿（.xlsx）。", 400)
            filename = upload.filename[:255]
            temp, sha, size = await _receive(portal, upload)
    except TooLarge:
        limit = portal.s.max_upload // (1024 * 1024)
        await run_in_threadpool(
            portal.store.log, found.name, address(request), "upload", "", f"超过 {limit} MB，已拒绝"
        )
        return _refused(request, f"文件超过 {limit} MB 的上传上限，已拒绝。填好的年度报告工作簿通常不到 1 MB。", 413)
    try:
        result = await portal.work(col.check_upload, str(temp), found.name, filename, portal.prior(found))
        async with portal.locks.setdefault(found.id, asyncio.Lock()):
            version = await run_in_threadpool(
                _commit, portal, found, temp, sha, size, filename, address(request), result
            )
    finally:
        temp.unlink(missing_ok=True)  # moved to its content address, unless something failed before
    if wants_json(request):
        return JSONResponse({"accepted": bool(result["ok"]), "version": version, "file": result})
    return RedirectResponse(f"/u/{found.token}?m=v{version}", 303)


def _commit(
    portal: Portal, unit: Unit, temp: Path, sha: str, size: int, filename: str, where: str, result: dict[str, Any]
) -> int:
    """The file reaches its content address (fsynced) before its row commits: no row without its file."""
    col.keep(portal.folder, temp, sha)
    status = "ok" if result["ok"] else "errors"
    version = portal.store.add_upload(
        unit.id,
        sha256=sha,
        size=size,
        filename=filename,
        uploaded_at=now(),
        address=where,
        status=status,
        errors=result["errors"],
        warnings=result["warnings"],
        result=result,
    )
    verdict = "通过" if status == "ok" else f"{result['errors']} 个错误"
    portal.store.log(unit.name, where, "upload", sha, f"第 {version} 版：{verdict}")
    return version


async def _receive(portal: Portal, upload: UploadFile) -> tuple[Path, str, int]:
    """Copy the upload to a temporary file in the data folder (fsynced), hashing as it goes."""
    temp = _temp(portal, ".xlsx")
    digest, size = hashlib.sha256(), 0
    with temp.open("wb") as fh:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > portal.s.max_upload:
                fh.close()
                temp.unlink()
                raise TooLarge
            digest.update(chunk)
            fh.write(chunk)
        fh.flush()
        await run_in_threadpool(os.fsync, fh.fileno())
    return temp, digest.hexdigest(), size


def _refused(request: Request, text: str, status: int) -> Response:
    if wants_json(request):
        return JSONResponse({"accepted": False, "error": text}, status)
    return message("无法上传", text, status)


async def _version_file(request: Request, fn: Callable[..., Any], suffix: str) -> Response | tuple[Unit, Path]:
    found = await unit_of(request)
    if isinstance(found, Response):
        return found
    portal: Portal = request.app.state.portal
    wanted = request.path_params["version"]
    history = await run_in_threadpool(portal.store.uploads, found.id)
    upload = next((u for u in history if u.version == wanted), None)
    if upload is None:
        return not_found()
    out = _temp(portal, suffix)
    await portal.work(fn, str(col.blob_path(portal.folder, upload.sha256)), str(out))
    return found, out


async def unit_annotated(request: Request) -> Response:
    got = await _version_file(request, col.write_annotated, ".xlsx")
    if isinstance(got, Response):
        return got
    unit, out = got
    return attachment(out, f"{unit.name}_第{request.path_params['version']}版_标注.xlsx", XLSX)


async def unit_preview(request: Request) -> Response:
    got = await _version_file(request, col.write_preview, ".html")
    if isinstance(got, Response):
        return got
    _unit, out = got
    html = out.read_text(encoding="utf-8")
    out.unlink()
    return Response(html, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": PREVIEW_CSP})


# ---------------------------------------------------------------- admin


def _session_sha(request: Request) -> str | None:
    sid = request.cookies.get(SESSION_COOKIE)
    return auth.digest(sid) if sid else None


async def admin_session(request: Request) -> str | None:
    """The CSRF token of the admin's live session, or None."""
    portal: Portal = request.app.state.portal
    sha = _session_sha(request)
    return await run_in_threadpool(portal.store.session, sha) if sha else None


def api_refusal(request: Request) -> Response | None:
    """None when the request carries the admin API token in its Authorization header."""
    portal: Portal = request.app.state.portal
    if any(p in request.query_params for p in TOKEN_PARAMS):
        return JSONResponse({"error": "令牌只能放在 Authorization 请求头中（Bearer），不能放在网址里。"}, 401)
    where = address(request)
    if portal.limiter.blocked(where):
        return JSONResponse(
            {"error": "错误的令牌次数过多，请稍后再试。"}, 429, headers={"Retry-After": str(int(portal.s.window))}
        )
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    stored = portal.store.get("api_sha") or ""
    if scheme.lower() == "bearer" and token and auth.same(auth.digest(token.strip()), stored):
        return None
    if token:
        portal.limiter.fail(where)
    return JSONResponse(
        {"error": "需要管理令牌：Authorization: Bearer <令牌>。"}, 401, headers={"WWW-Authenticate": "Bearer"}
    )


def admin_or_api(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """A download for the admin's browser session or for a script with the API token (401, never a redirect)."""

    async def guarded(request: Request) -> Response:
        if request.headers.get("authorization") or any(p in request.query_params for p in TOKEN_PARAMS):
            refusal = await run_in_threadpool(api_refusal, request)
            if refusal is not None:
                return refusal
        elif await admin_session(request) is None:
            return api_refusal(request) or not_found()
        return await handler(request)

    return guarded


async def login_page(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    return page("login.html", unit=portal.unit, year=portal.year, csrf=auth.form_key(portal.secret, "login"), error="")


async def login(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    where = address(request)
    if portal.limiter.blocked(where):
        return message("请稍后再试", "密码错误次数过多，请一分钟后再试。", 429)
    form = await request.form(max_files=0, max_fields=3)
    csrf = auth.form_key(portal.secret, "login")
    if not auth.same(str(form.get("csrf", "")), csrf):
        return message("无法登录", "页面已过期（表单校验码不符）。请刷新登录页后再试。", 403)
    stored = await run_in_threadpool(portal.store.get, "admin_hash")
    if not await run_in_threadpool(auth.check_password, stored or "", str(form.get("password", ""))):
        portal.limiter.fail(where)
        await run_in_threadpool(portal.store.log, "", where, "login", "", "密码错误")
        return page("login.html", 403, unit=portal.unit, year=portal.year, csrf=csrf, error="密码不正确。")
    sid = auth.new_token()
    expires = now() + dt.timedelta(hours=SESSION_HOURS)
    await run_in_threadpool(portal.store.add_session, auth.digest(sid), auth.new_token(), expires)
    await run_in_threadpool(portal.store.log, "", where, "login", "", "成功")
    response = RedirectResponse("/admin", 303)
    response.set_cookie(
        SESSION_COOKIE,
        sid,
        max_age=SESSION_HOURS * 3600,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


async def _admin_form(request: Request) -> tuple[Any, Response | None]:
    """The posted form of a logged-in admin with the right CSRF token, or the refusal."""
    csrf = await admin_session(request)
    if csrf is None:
        return None, RedirectResponse("/admin/login", 303)
    form = await request.form(max_files=0, max_fields=3)
    if not auth.same(str(form.get("csrf", "")), csrf):
        return None, message("操作未执行", "页面已过期（表单校验码不符）。请刷新管理页后再试。", 403)
    return form, None


async def logout(request: Request) -> Response:
    _form, refusal = await _admin_form(request)
    if refusal is not None:
        return refusal
    portal: Portal = request.app.state.portal
    sha = _session_sha(request)
    if sha:
        await run_in_threadpool(portal.store.end_session, sha)
    await run_in_threadpool(portal.store.log, "", address(request), "logout")
    response = RedirectResponse("/admin/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


async def admin_page(request: Request) -> Response:
    csrf = await admin_session(request)
    if csrf is None:
        return RedirectResponse("/admin/login", 303)
    portal: Portal = request.app.state.portal
    rows = await run_in_threadpool(col.states, portal.store)
    listed = [r for r in rows if r.unit.listed]
    totals = {k: sum(r.status == k for r in listed) for k in col.STATUS_LABEL}
    return page(
        "admin.html",
        unit=portal.unit,
        year=portal.year,
        deadline=portal.deadline,
        csrf=csrf,
        rows=listed,
        unlisted=[r for r in rows if not r.unit.listed],
        totals=totals,
        label=col.STATUS_LABEL,
        actions=col.ACTION_LABEL,
        audit=await run_in_threadpool(portal.store.audit),
        base_url=col.base_url(portal.store),
        notice=request.query_params.get("m", ""),
    )


async def reissue(request: Request) -> Response:
    _form, refusal = await _admin_form(request)
    if refusal is not None:
        return refusal
    portal: Portal = request.app.state.portal
    unit = await run_in_threadpool(portal.store.unit, request.path_params["unit_id"])
    if unit is None:
        return not_found()
    await run_in_threadpool(col.reissue, portal.store, unit.id)
    await run_in_threadpool(col.write_links, portal.folder, portal.store)
    await run_in_threadpool(portal.store.log, unit.name, address(request), "reissue", "", "旧链接已作废")
    return RedirectResponse(f"/admin?m=reissued#u{unit.id}", 303)


@admin_or_api
async def status_json(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    text = await run_in_threadpool(col.status_json, portal.store)
    return Response(text, media_type="application/json")


async def _summary(request: Request, document: bool) -> Response:
    portal: Portal = request.app.state.portal
    rows = await run_in_threadpool(col.states, portal.store)
    files = [
        (str(col.blob_path(portal.folder, r.latest.sha256)), r.unit.name) for r in rows if r.mergeable and r.latest
    ]
    if not any(r.status == "ok" for r in rows):
        return message("暂无可汇总的报表", "还没有单位上传通过校验的工作簿，无法生成汇总。", 409)
    out = _temp(portal, ".xlsx")
    doc = _temp(portal, ".docx") if document else None
    if doc is not None:
        doc.unlink()  # publish refuses to overwrite
    names = [r.unit.name for r in rows if r.unit.listed]
    try:
        await portal.work(col.build_summary, files, names, portal.unit, str(out), doc and str(doc))
    except col.XltoolError as exc:
        out.unlink(missing_ok=True)
        return message("无法生成汇总", exc.message, 409)
    await run_in_threadpool(portal.store.log, "", address(request), "summary", "", f"{len(files)} 份")
    stem = f"{portal.unit}{portal.year}年政府信息公开工作年度报告汇总"
    if doc is not None:
        out.unlink()
        return attachment(doc, stem + ".docx", DOCX)
    return attachment(out, stem + ".xlsx", XLSX)


@admin_or_api
async def summary_xlsx(request: Request) -> Response:
    return await _summary(request, document=False)


@admin_or_api
async def summary_docx(request: Request) -> Response:
    return await _summary(request, document=True)


@admin_or_api
async def files_zip(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    out = _temp(portal, ".zip")
    await run_in_threadpool(col.files_zip, portal.folder, portal.store, out)
    return attachment(out, f"{portal.unit}{portal.year}年各单位报表.zip", "application/zip")


@admin_or_api
async def links_csv(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    data = await run_in_threadpool(col.links_csv, portal.store)
    name = quote(col.LINKS_FILE)
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


async def healthz(_request: Request) -> Response:
    return PlainTextResponse("ok")


async def stylesheet(_request: Request) -> Response:
    return FileResponse(HERE / "static" / "style.css", media_type="text/css")


# ---------------------------------------------------------------- middleware and the app


class Guard:
    """Security headers on every response; upload bodies cut off while streaming past the limit."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        if scope["method"] == "POST" and declared.isdigit() and int(declared) > self.max_body:
            response = PlainTextResponse("上传的文件太大。", 413, headers={"Connection": "close"})
            return await response(scope, receive, _secured(send))
        received = 0

        async def limited() -> Message:
            nonlocal received
            msg = await receive()
            received += len(msg.get("body", b""))
            if received > self.max_body:
                raise TooLarge
            return msg

        await self.app(scope, limited, _secured(send))


def _secured(send: Send) -> Send:
    async def sending(msg: Message) -> None:
        if msg["type"] == "http.response.start":
            names = {k.lower() for k, _ in msg["headers"]}
            extra = [
                (b"x-content-type-options", b"nosniff"),
                (b"referrer-policy", b"no-referrer"),  # unit links carry their token
                (b"x-frame-options", b"DENY"),
                (b"cache-control", b"no-store"),
            ]
            if b"content-security-policy" not in names:
                extra.append((b"content-security-policy", CSP.encode()))
            msg["headers"] = [*msg["headers"], *((k, v) for k, v in extra if k not in names)]
        await send(msg)

    return sending


def create_app(settings: Settings) -> Starlette:
    portal = Portal(settings)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> Any:
        portal.start()
        await asyncio.gather(*(portal.work(col.warm, 0.3) for _ in range(settings.workers)))
        try:
            yield
        finally:
            portal.stop()

    routes = [
        Route("/healthz", healthz),
        Route("/static/style.css", stylesheet),
        Route("/u/{token}", unit_page),
        Route("/u/{token}/template.xlsx", unit_template),
        Route("/u/{token}/upload", unit_upload, methods=["POST"]),
        Route("/u/{token}/v/{version:int}/annotated.xlsx", unit_annotated),
        Route("/u/{token}/v/{version:int}/preview.html", unit_preview),
        Route("/admin", admin_page),
        Route("/admin/login", login_page),
        Route("/admin/login", login, methods=["POST"]),
        Route("/admin/logout", logout, methods=["POST"]),
        Route("/admin/units/{unit_id:int}/reissue", reissue, methods=["POST"]),
        Route("/admin/status.json", status_json),
        Route("/admin/summary.xlsx", summary_xlsx),
        Route("/admin/summary.docx", summary_docx),
        Route("/admin/files.zip", files_zip),
        Route("/admin/links.csv", links_csv),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={TooLarge: _too_large})
    app.state.portal = portal
    return Guard(app, settings.max_upload + ENVELOPE)  # type: ignore[return-value]


async def _too_large(_request: Request, _exc: Exception) -> Response:
    return PlainTextResponse("上传的文件太大。", 413, headers={"Connection": "close"})


def run(settings: Settings, host: str, port: int) -> None:
    """Serve until Ctrl+C. Behind a reverse proxy on this machine, its X-Forwarded-* headers are trusted."""
    app = create_app(settings)
    print(f"xltool 收集服务已启动：http://{host}:{port}/admin （按 Ctrl+C 停止）", flush=True)
    uvicorn.run(app, host=host, port=port, proxy_headers=True, forwarded_allow_ips="127.0.0.1", log_level="warning")
