"""The portal's web layer: the only module that imports Starlette, uvicorn and Jinja2.

Thin: every route resolves who is asking (a unit's link, the admin's session or API token), calls
:mod:`xltool.serve.collection`, and renders a page or a file. Slow work (checking an upload,
building a summary) runs in a process pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import hashlib
import os
import socket
import sys
import tempfile
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from xltool.errors import UsageError, XltoolError
from xltool.serve import auth, parts, summaries
from xltool.serve import collection as col
from xltool.serve.connections import Bounded, Limits
from xltool.serve.pool import Pool, WorkerDied
from xltool.serve.store import Store, Unit, Upload, now, open_store
from xltool.serve.throttle import Limiter
from xltool.text import normalise, safe_filename

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "xltool_session"
SESSION_HOURS = 8
DEVICE_COOKIE = "xltool_device"  # a browser that has logged in before: its own throttle, not its address's
DEVICE_DAYS = 365
ENVELOPE = 64 * 1024  # multipart headers and the small fields around the file
WARM_CHUNK = 10  # files per background task computing the parts missing at start-up (about 0.2 s)
CHUNK = 1 << 16
HEADER_BYTES = 16 * 1024  # request line and headers
RESERVED_FILES = 256  # open files kept for the database, uploads and workers, beside the connections
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"
TOKEN_PARAMS = ("token", "access_token", "api_token", "admin_token")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BACK = "请用浏览器的“后退”返回上一页重试。"
NOT_FOUND = "这个网址不存在，或者链接已经作废。请核对链接是否完整（从收到的链接中整行复制），或请汇总单位重新发送链接。"
TOO_MANY = "从这个网络地址发出的错误链接或错误密码过多，请稍后再试。正确的链接和密码不受影响。"
WORKER_DIED = "处理这个请求的进程意外退出（文件可能异常，或服务器内存不足）。请稍后重试；一再出现时请联系汇总单位。"
CHECK_DIED = "校验这个文件时校验进程意外退出（文件可能过大或经过恶意构造），已拒绝。请用本单位的模板重新填写，另存为 .xlsx 后再上传。"
CHECK_SLOW = "校验这个文件超过 {seconds} 秒仍未完成（文件可能过大或经过恶意构造），已拒绝。请用本单位的模板重新填写，另存为 .xlsx 后再上传。"

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
    max_failures: int = 20  # failed guesses (links, passwords, tokens) per address per window: then throttled
    window: float = 60.0
    password_every: float = 2.0  # a throttled address: one password check per this many seconds
    task_seconds: float = 60.0  # one upload's check, a template, a preview: then the worker is stopped
    summary_seconds: float = 1800.0
    limits: Limits = field(default_factory=Limits)


class TooLarge(Exception):
    pass


class Portal:
    """The running collection: its store, settings, worker pool and per-unit upload locks."""

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.folder = settings.folder
        self.store: Store = open_store(settings.folder, settings.db)
        col.secure(self.folder)
        col.clean_temp(self.folder)
        for sha in col.clean_orphans(self.folder, self.store):
            self.store.log("", "-", "cleanup", sha, "未登记的文件（上传未完成时服务被终止）已删除")
        self.secret = self.store.get("secret") or ""
        self.year = int(self.store.get("year") or 0)
        self.unit = self.store.get("unit") or ""
        self.deadline = self.store.get("deadline") or ""
        self.previous = self.store.get("previous")
        self.carry = col.previous_carry(self.store)
        self.limiter = Limiter(settings.max_failures, settings.window, settings.password_every)
        self.locks: dict[int, asyncio.Lock] = {}
        self.stopping = False  # set when the server stops: background work ends after its current step
        self.warming: asyncio.Task[None] | None = None  # the parts computed at start-up (tests wait for it)
        self.summary_lock = asyncio.Lock()  # one summary built at a time; the next request finds it cached
        self.pool = Pool(
            settings.workers,
            timeout=settings.task_seconds,
            processes=settings.processes,
            warm=col.warm,
            preload=col.PRELOAD,
        )
        self._prior: dict[str, str | None] = {}
        parts.fingerprint()  # computed once (reads xltool's sources), not during the first upload

    def start(self) -> None:
        self.pool.start()

    def stop(self) -> None:
        self.pool.stop()
        self.store.close()

    async def work(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None) -> Any:
        """``fn(*args)`` in a worker process. One killed from outside (the out-of-memory killer)
        may have died for another's sake: the task is tried once more in another worker. One that
        crashed on its own (an abort in a native library) or ran past its time is not tried again.
        Either way only this task fails: other units' work goes on."""
        try:
            return await self.pool.run(fn, *args, timeout=timeout)
        except WorkerDied as died:
            if not died.killed:
                raise
        return await self.pool.run(fn, *args, timeout=timeout)

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


def page(name: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any) -> Response:
    html = _pages.get_template(name).render(**context)
    return Response(html, status, headers=headers, media_type="text/html; charset=utf-8")


def message(title: str, text: str, status: int, hint: str = BACK, headers: dict[str, str] | None = None) -> Response:
    return page("message.html", status, headers, title=title, text=text, hint=hint)


def problem(
    request: Request, status: int, title: str, text: str, hint: str = BACK, headers: dict[str, str] | None = None
) -> Response:
    """A refusal in the portal's style: a Chinese page, or ``{"error": text}`` for a JSON client."""
    if wants_json(request):
        return JSONResponse({"error": text}, status, headers=headers)
    return message(title, text, status, hint, headers)


def not_found(request: Request) -> Response:
    """The one answer for a wrong link and for a page that does not exist: they look the same."""
    return problem(request, 404, "页面不存在", NOT_FOUND, hint="")


def too_many(request: Request, text: str = TOO_MANY) -> Response:
    retry = {"Retry-After": str(int(request.app.state.portal.s.window))}
    return problem(request, 429, "请稍后再试", text, hint="", headers=retry)


def attachment(path: Path, name: str, media_type: str) -> Response:
    disposition = f"attachment; filename*=UTF-8''{quote(safe_filename(name))}"
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
    try:
        fd, name = tempfile.mkstemp(suffix=suffix, dir=portal.folder / col.TMP)  # made private at start-up
    except FileNotFoundError:  # removed while running: made again
        fd, name = tempfile.mkstemp(suffix=suffix, dir=col.temp_dir(portal.folder))
    os.close(fd)
    return Path(name)


# ---------------------------------------------------------------- units


async def unit_of(request: Request) -> Unit | Response:
    """The unit whose link this is; a wrong link is a failed guess (404, or 429 once throttled)."""
    portal: Portal = request.app.state.portal
    sha = auth.digest(request.path_params["token"])
    unit = await run_in_threadpool(portal.store.unit_by_sha, sha)
    if unit is not None and auth.same(unit.token_sha, sha):
        return unit
    return guessed(request)


def guessed(request: Request, key: str | None = None) -> Response:
    """A failed guess from ``key`` (its address): counted; 404, or 429 once it has guessed too often."""
    portal: Portal = request.app.state.portal
    key = key or address(request)
    throttled = portal.limiter.throttled(key)
    portal.limiter.fail(key)
    return too_many(request) if throttled else not_found(request)


def unit_csrf(portal: Portal, unit: Unit) -> str:
    return auth.form_key(portal.secret, "unit:" + unit.token_sha)


def unit_base(request: Request) -> str:
    return f"/u/{request.path_params['token']}"


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
        base=unit_base(request),
        csrf=unit_csrf(portal, found),
        latest=latest,
        annotatable=bool(latest and col.annotatable(latest.result)),
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
    try:
        await portal.work(
            col.write_template, str(out), portal.year, found.fields, portal.prior(found), portal.carried(found)
        )
    except BaseException:
        out.unlink(missing_ok=True)
        raise
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
                return _refused(request, "页面已过期（表单校验码不符）。请刷新本页后重新选择文件上传。", 403)
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
        result = await _checked(portal, temp, found, filename, parts.path_of(col.blob_path(portal.folder, sha)))
        async with portal.locks.setdefault(found.id, asyncio.Lock()):
            version = await run_in_threadpool(
                _commit, portal, found, temp, sha, size, filename, address(request), result
            )
    finally:
        temp.unlink(missing_ok=True)  # moved to its content address, unless something failed before
    if wants_json(request):
        return JSONResponse({"accepted": bool(result["ok"]), "version": version, "file": result})
    return RedirectResponse(f"{unit_base(request)}?m=v{version}", 303)


async def _checked(portal: Portal, temp: Path, unit: Unit, filename: str, part: Path) -> dict[str, Any]:
    """The check --json object of an upload (its part of the summary kept at ``part``). A file that
    kills its worker (twice) or runs past the time is refused with that reason, as one that cannot
    be read: it never fails the request, and the summary lists it as unreadable without reading it."""
    try:
        args = (str(temp), unit.name, filename, portal.prior(unit), str(part))
        return dict(await portal.work(col.check_upload, *args))
    except WorkerDied as died:
        reason = CHECK_SLOW.format(seconds=int(portal.s.task_seconds)) if died.timed_out else CHECK_DIED
        await run_in_threadpool(col.refused_part, str(part), filename, reason)
    except XltoolError as exc:
        reason = exc.message
    return await run_in_threadpool(col.refused, filename, reason)


def _commit(
    portal: Portal, unit: Unit, temp: Path, sha: str, size: int, filename: str, where: str, result: dict[str, Any]
) -> int:
    """The file reaches its content address (fsynced) before its row commits: no row without its file."""
    col.keep(portal.folder, temp, sha)
    status = "ok" if result["ok"] else "errors"
    verdict = "通过" if status == "ok" else f"{result['errors']} 个错误"
    return portal.store.add_upload(
        unit.id,
        (unit.name, where, f"第 {{version}} 版：{verdict}"),
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


async def _receive(portal: Portal, upload: UploadFile) -> tuple[Path, str, int]:
    """Copy the upload to a temporary file in the data folder, hashing as it goes (fsynced when it is
    kept, by :func:`collection.keep`: the check need not wait for the disk)."""
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
    return temp, digest.hexdigest(), size


def _refused(request: Request, text: str, status: int) -> Response:
    if wants_json(request):
        return JSONResponse({"accepted": False, "error": text}, status)
    return message("无法上传", text, status)


async def _version(request: Request) -> Response | tuple[Unit, Upload]:
    found = await unit_of(request)
    if isinstance(found, Response):
        return found
    portal: Portal = request.app.state.portal
    wanted = request.path_params["version"]
    history = await run_in_threadpool(portal.store.uploads, found.id)
    upload = next((u for u in history if u.version == wanted), None)
    return (found, upload) if upload is not None else not_found(request)


def _no_copy(request: Request, what: str, why: str) -> Response:
    return problem(request, 404, f"没有{what}", why, hint="请回到本单位的填报页面查看校验结果。")


async def _made(portal: Portal, fn: Callable[..., Any], upload: Upload, suffix: str) -> Path | str:
    """``fn(stored file, out)`` in a worker: the file made, or why there is none."""
    out = _temp(portal, suffix)
    try:
        written = await portal.work(fn, str(col.blob_path(portal.folder, upload.sha256)), str(out))
    except XltoolError as exc:
        out.unlink(missing_ok=True)
        return exc.message
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    if written is False or out.stat().st_size == 0:
        out.unlink(missing_ok=True)
        return "这一版的文件无法读取。"
    return out


async def unit_annotated(request: Request) -> Response:
    got = await _version(request)
    if isinstance(got, Response):
        return got
    unit, upload = got
    what = "标注副本"
    if not col.annotatable(upload.result):
        return _no_copy(
            request, what, f"第 {upload.version} 版的文件无法读取，或没有需要标注的单元格，因此没有{what}。"
        )
    out = await _made(request.app.state.portal, col.write_annotated, upload, ".xlsx")
    if isinstance(out, str):
        return _no_copy(request, what, f"第 {upload.version} 版没有{what}：{out}")
    return attachment(out, f"{unit.name}_第{upload.version}版_标注.xlsx", XLSX)


async def unit_preview(request: Request) -> Response:
    got = await _version(request)
    if isinstance(got, Response):
        return got
    _unit, upload = got
    what = "年度报告预览"
    if upload.status != "ok":
        why = f"第 {upload.version} 版未通过校验，不生成{what}。请按提示改正后重新上传，通过后即可预览。"
        return _no_copy(request, what, why)
    out = await _made(request.app.state.portal, col.write_preview, upload, ".html")
    if isinstance(out, str):
        return _no_copy(request, what, f"第 {upload.version} 版没有{what}：{out}")
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
    """None when the request carries the admin API token in its Authorization header. The right
    token works from any address; wrong ones are failed guesses of the address (401, then 429)."""
    portal: Portal = request.app.state.portal
    if any(p in request.query_params for p in TOKEN_PARAMS):
        return JSONResponse({"error": "令牌只能放在 Authorization 请求头中（Bearer），不能放在网址里。"}, 401)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    stored = portal.store.get("api_sha") or ""
    if scheme.lower() == "bearer" and token and auth.same(auth.digest(token.strip()), stored):
        return None
    where = address(request)
    if token:
        throttled = portal.limiter.throttled(where)
        portal.limiter.fail(where)
        if throttled:
            retry = {"Retry-After": str(int(portal.s.window))}
            return JSONResponse({"error": "错误的令牌次数过多，请稍后再试。"}, 429, headers=retry)
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
            return api_refusal(request) or not_found(request)
        return await handler(request)

    return guarded


async def login_page(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    return page("login.html", unit=portal.unit, year=portal.year, csrf=auth.form_key(portal.secret, "login"), error="")


def _device(request: Request, portal: Portal) -> str | None:
    """The throttle key of a browser that has logged in here before (a signed cookie), or None."""
    ident, _, signature = request.cookies.get(DEVICE_COOKIE, "").partition(".")
    if ident and auth.same(signature, auth.form_key(portal.secret, "device:" + ident)):
        return "device:" + ident
    return None


async def login(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    where = address(request)
    form = await request.form(max_files=0, max_fields=3)
    csrf = auth.form_key(portal.secret, "login")
    if not auth.same(str(form.get("csrf", "")), csrf):
        return problem(request, 403, "无法登录", "页面已过期（表单校验码不符）。请刷新登录页后再试。")
    device = _device(request, portal)
    key = device or where
    if not portal.limiter.may_try(key):  # throttled: the costly check runs once every few seconds
        return too_many(request, "密码错误次数过多，请稍等几秒再试。")
    stored = await run_in_threadpool(portal.store.get, "admin_hash")
    if not await run_in_threadpool(auth.check_password, stored or "", str(form.get("password", ""))):
        throttled = portal.limiter.throttled(key)
        portal.limiter.fail(key)
        await run_in_threadpool(portal.store.log, "", where, "login", "", "密码错误")
        if throttled:
            return too_many(request, "密码错误次数过多，请稍等几秒再试。")
        return page("login.html", 403, unit=portal.unit, year=portal.year, csrf=csrf, error="密码不正确。")
    sid = auth.new_token()
    expires = now() + dt.timedelta(hours=SESSION_HOURS)
    await run_in_threadpool(portal.store.add_session, auth.digest(sid), auth.new_token(), expires)
    await run_in_threadpool(portal.store.log, "", where, "login", "", "成功")
    response = RedirectResponse("/admin", 303)
    secure = request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE, sid, max_age=SESSION_HOURS * 3600, path="/", httponly=True, samesite="strict", secure=secure
    )
    if device is None:
        ident = auth.new_token()
        value = f"{ident}.{auth.form_key(portal.secret, 'device:' + ident)}"
        age = DEVICE_DAYS * 86400
        response.set_cookie(
            DEVICE_COOKIE, value, max_age=age, path="/admin/login", httponly=True, samesite="strict", secure=secure
        )
    return response


async def _admin_form(request: Request) -> tuple[Any, Response | None]:
    """The posted form of a logged-in admin with the right CSRF token, or the refusal."""
    csrf = await admin_session(request)
    if csrf is None:
        return None, RedirectResponse("/admin/login", 303)
    form = await request.form(max_files=0, max_fields=3)
    if not auth.same(str(form.get("csrf", "")), csrf):
        return None, problem(request, 403, "操作未执行", "页面已过期（表单校验码不符）。请刷新管理页后再试。")
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
    )


async def reissue(request: Request) -> Response:
    """A new link for a unit, shown on this page once (the database keeps only its hash) and
    written to 填报链接.csv; the old link stops working at once."""
    _form, refusal = await _admin_form(request)
    if refusal is not None:
        return refusal
    portal: Portal = request.app.state.portal
    unit = await run_in_threadpool(portal.store.unit, request.path_params["unit_id"])
    if unit is None:
        return not_found(request)
    token = await run_in_threadpool(col.reissue, portal.store, unit.id)
    path = await run_in_threadpool(col.write_links, portal.folder, portal.store, {unit.id: token})
    await run_in_threadpool(portal.store.log, unit.name, address(request), "reissue", "", "旧链接已作废")
    link = f"{col.base_url(portal.store)}/u/{token}"
    return page("reissued.html", unit=portal.unit, year=portal.year, named=unit.name, link=link, file=path.name)


@admin_or_api
async def status_json(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    text = await run_in_threadpool(col.status_json, portal.store)
    return Response(text, media_type="application/json")


async def _summary(request: Request, document: bool) -> Response:
    """The summary of every unit's latest version, built once per version set (:mod:`summaries`)."""
    portal: Portal = request.app.state.portal
    rows = await run_in_threadpool(col.states, portal.store)
    if not any(r.status == "ok" for r in rows):
        return problem(request, 409, "暂无可汇总的报表", "还没有单位上传通过校验的工作簿，无法生成汇总。")
    names = col.file_names([r.unit for r in rows])
    merged = [(r.unit.id, r.latest, f"{names[r.unit.id]}.xlsx") for r in rows if r.mergeable and r.latest]
    files = [(str(col.blob_path(portal.folder, up.sha256)), name) for _id, up, name in merged]
    listed = [r.unit.name for r in rows if r.unit.listed]
    digest = summaries.key([(i, up.version, up.sha256, name) for i, up, name in merged], listed, portal.unit)
    suffix = ".docx" if document else ".xlsx"
    async with portal.summary_lock:
        out = await run_in_threadpool(summaries.copy, portal.folder, digest, suffix)
        if out is None:
            try:
                await _build(portal, digest, files, listed, document)
            except XltoolError as exc:
                return problem(request, 409, "无法生成汇总", exc.message)
            out = await run_in_threadpool(summaries.copy, portal.folder, digest, suffix)
    if out is None:  # another server process on this folder replaced it meanwhile: ask again
        return problem(request, 503, "请稍后重试", "汇总刚刚更新，请重新下载。", hint="", headers={"Retry-After": "1"})
    await run_in_threadpool(portal.store.log, "", address(request), "summary", "", f"{len(files)} 份")
    stem = f"{portal.unit}{portal.year}年政府信息公开工作年度报告汇总"
    return attachment(out, stem + suffix, DOCX if document else XLSX)


async def _build(portal: Portal, digest: str, files: list[tuple[str, str]], listed: list[str], document: bool) -> None:
    """Build the summary of ``digest`` (with ``document``, its report too) into the cache. The parts
    of the uploads are computed first where missing, spread over the workers; a summary already
    built for ``digest`` is only rendered."""
    built = await run_in_threadpool(summaries.copy, portal.folder, digest, ".xlsx")
    out = built or _temp(portal, ".xlsx")
    doc = _temp(portal, ".docx") if document else None
    if doc is not None:
        doc.unlink()  # publish refuses to overwrite
    try:
        if built is None:
            kept = [str(parts.path_of(Path(f))) for f, _name in files]
            await _parts(portal, [(f, k) for (f, _name), k in zip(files, kept, strict=True)])
            args = (files, listed, portal.unit, str(out), doc and str(doc), kept)
            await portal.work(col.build_summary, *args, timeout=portal.s.summary_seconds)
            await run_in_threadpool(summaries.keep, out, portal.folder, digest)
        elif doc is not None:
            await portal.work(col.write_document, str(out), str(doc), timeout=portal.s.summary_seconds)
        if doc is not None:
            await run_in_threadpool(summaries.keep, doc, portal.folder, digest)
    finally:
        _drop([p for p in (out, doc) if p is not None])


async def _parts(portal: Portal, stored: list[tuple[str, str]]) -> None:
    """Compute the missing parts of the stored uploads ((file, part path)), a share per worker."""
    missing = await run_in_threadpool(lambda: [(f, k) for f, k in stored if not Path(k).exists()])
    size = -(-len(missing) // portal.s.workers)
    await asyncio.gather(*(_cache(portal, missing[i : i + size]) for i in range(0, len(missing), size or 1)))


async def _warm_parts(portal: Portal) -> None:
    """At start-up, in the background: the parts of the units' latest uploads that have none (a new
    version of xltool computes them all again, :mod:`parts`), :data:`WARM_CHUNK` files per task and
    one task at a time, so the first summary after an upgrade only sums them while uploads keep the
    other workers (and wait at most for one chunk when there is only one)."""
    rows = await run_in_threadpool(col.states, portal.store)
    blobs = [col.blob_path(portal.folder, r.latest.sha256) for r in rows if r.mergeable and r.latest]
    kept = [(str(blob), str(parts.path_of(blob))) for blob in blobs]
    missing = await run_in_threadpool(lambda: [(f, k) for f, k in kept if not Path(k).exists()])
    for start in range(0, len(missing), WARM_CHUNK):
        if portal.stopping:
            return
        await _cache(portal, missing[start : start + WARM_CHUNK])


def _warmed(task: asyncio.Task[None]) -> None:
    """The background computing of parts ended: a failure only means the summary computes them."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        print(
            f"提示：启动后预先计算汇总数据未完成（生成汇总时会重新计算）：{type(exc).__name__}: {exc}", file=sys.stderr
        )


async def _cache(portal: Portal, chunk: list[tuple[str, str]]) -> None:
    """Keep the parts of ``chunk``; a file that kills its worker gets the part of a refused one."""
    try:
        await portal.work(col.cache_parts, chunk, timeout=portal.s.summary_seconds)
    except WorkerDied as died:
        if len(chunk) > 1:  # find the file that did it: one at a time
            for one in chunk:
                await _cache(portal, [one])
            return
        reason = CHECK_SLOW.format(seconds=int(portal.s.summary_seconds)) if died.timed_out else CHECK_DIED
        await run_in_threadpool(col.refused_part, chunk[0][1], Path(chunk[0][0]).name, reason)


def _drop(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


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
    data = await run_in_threadpool(col.links_csv, portal.folder, portal.store)
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


# ---------------------------------------------------------------- errors


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return not_found(request)
    if exc.status_code == 405:
        return problem(request, 405, "不支持的请求", "这个网址不接受这种请求方式。", hint="")
    return problem(request, exc.status_code, "无法处理请求", "请求有误，无法处理。")


async def _worker_died(request: Request, _exc: Exception) -> Response:
    return problem(request, 503, "请稍后重试", WORKER_DIED, hint="", headers={"Retry-After": "30"})


async def _too_large(request: Request, _exc: Exception) -> Response:
    return problem(request, 413, "无法上传", "上传的文件太大。", headers={"Connection": "close"})


async def _server_error(request: Request, _exc: Exception) -> Response:
    text = "服务器内部错误，这个请求没有完成。请稍后重试；一再出现时请联系汇总单位（服务器日志中有详情）。"
    return problem(request, 500, "服务器内部错误", text, hint="")


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
            response = await _too_large(Request(scope), TooLarge())
            return await response(scope, receive, _secured(send))
        received = 0

        async def limited() -> Message:
            nonlocal received
            msg = await receive()
            received += len(msg.get("body", b""))
            if received > self.max_body:
                raise TooLarge
            return msg

        try:
            await self.app(scope, limited, _secured(send))
        except ClientDisconnect:  # the client went (or was cut off for being too slow): nobody to answer
            return


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


def create_app(settings: Settings, ready: Callable[[], None] | None = None) -> Starlette:
    """The portal's ASGI app; ``ready`` is called once its workers are up."""
    portal = Portal(settings)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> Any:
        portal.start()
        await portal.pool.ready()
        if ready is not None:
            ready()
        warming = portal.warming = asyncio.create_task(_warm_parts(portal))
        warming.add_done_callback(_warmed)
        try:
            yield
        finally:
            # not cancelled: a cancelled task would leave its query running on the closed store;
            # told to stop, it ends after the step it is in (a query, or one chunk of files)
            portal.stopping = True
            await asyncio.gather(warming, return_exceptions=True)
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
    handlers = {
        HTTPException: _http_error,
        TooLarge: _too_large,
        WorkerDied: _worker_died,
        Exception: _server_error,
    }
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)  # type: ignore[arg-type]
    app.state.portal = portal
    return Guard(app, settings.max_upload + ENVELOPE)  # type: ignore[return-value]


# ---------------------------------------------------------------- the server


def protocol(limits: Limits) -> type[H11Protocol]:
    """uvicorn's HTTP protocol with the bounds of :mod:`xltool.serve.connections`."""
    return type("BoundedH11Protocol", (Bounded, H11Protocol), {"limits": limits})


def listen(host: str, port: int) -> socket.socket:
    """The server's listening socket, bound before anything else starts: a port in use is refused at once."""
    try:
        family, _type, _proto, _name, where = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError):
        raise UsageError(
            f"无法识别监听地址 {host}。请用 127.0.0.1（只允许本机访问）、0.0.0.0（所有网卡）或本机的 IP 地址。"
        ) from None
    try:
        return socket.create_server(where, family=family, backlog=2048)  # SO_REUSEADDR on POSIX only
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"端口 {port} 已被占用（也许另一个 xltool serve 已在运行）。请先停止占用它的程序，或换一个端口，如 --port {port + 1}。"
            ) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise UsageError(
                f"没有权限使用端口 {port}（1024 以下的端口需要管理员权限）。请换一个端口，如 --port 8000。"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise UsageError(f"本机没有地址 {host}，无法在上面监听。请检查 --host。") from None
        raise UsageError(f"无法在 {host}:{port} 上监听：{exc.strerror}。") from None


def fit_open_files(limits: Limits) -> Limits:
    """Raise the process's open-file limit to what the connections need (up to the hard limit), or
    lower the connection bound to what the limit allows."""
    if sys.platform == "win32":
        return limits
    import resource  # POSIX only: not there on Windows

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = limits.connections + RESERVED_FILES
    if soft != resource.RLIM_INFINITY and soft < want:
        soft = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft != resource.RLIM_INFINITY and soft < want:
        return replace(limits, connections=max(16, soft - RESERVED_FILES))
    return limits


def server(settings: Settings, sock: socket.socket, ready: Callable[[], None] | None = None) -> uvicorn.Server:
    """The uvicorn server of the portal, bounded (see :mod:`xltool.serve.connections`), on ``sock``.
    Behind a reverse proxy on this machine, its X-Forwarded-* headers are trusted."""
    limits = fit_open_files(settings.limits)
    config = uvicorn.Config(
        create_app(replace(settings, limits=limits), ready),
        http=protocol(limits),
        timeout_keep_alive=int(limits.keep_alive_seconds),
        h11_max_incomplete_event_size=HEADER_BYTES,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        log_level="warning",
    )
    return uvicorn.Server(config)


def run(settings: Settings, host: str, port: int) -> None:
    """Serve until Ctrl+C: the port first (refused at once when in use), then the workers, then requests."""
    sock = listen(host, port)
    os.umask(0o077)  # whatever the server creates in the data folder is its owner's only

    def ready() -> None:
        print(f"xltool 收集服务已启动：http://{host}:{port}/admin （按 Ctrl+C 停止）", flush=True)

    server(settings, sock, ready).run(sockets=[sock])
