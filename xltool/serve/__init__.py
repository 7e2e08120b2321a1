"""``xltool serve``: the collection portal (see collection.py for the round, app.py for the pages).

Nothing web-related is imported here, so the CLI starts as fast as before: the web libraries load
only when the command runs, and their absence is a Chinese message (exit 2), not a traceback.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from xltool.errors import UsageError

# import name -> distribution, of what the 'serve' extra installs
NEEDED = {
    "starlette": "starlette",
    "uvicorn": "uvicorn",
    "jinja2": "Jinja2",
    "sqlalchemy": "SQLAlchemy",
    "python_multipart": "python-multipart",
    "argon2": "argon2-cffi",
}
INSTALL = "pip install 'xltool[serve]'"


def require(db: str | None = None) -> None:
    needed = dict(NEEDED) | ({"psycopg": "psycopg"} if db and db.startswith("postgresql") else {})
    missing = [dist for name, dist in needed.items() if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            f"xltool serve 需要网页服务组件（缺少：{'、'.join(missing)}）。请先安装：{INSTALL}"
            '（在 Windows 上可用：py -m pip install "xltool[serve]"）。'
        )


def init(folder: Path, **options: Any) -> Any:
    """Create the collection or update its roster; returns collection.Created."""
    require(options.get("db"))
    # the web stack is an optional extra (xltool[serve]): imported only once require() found it
    from xltool.serve import collection

    return collection.init(folder, **options)


def serve(folder: Path, *, host: str, port: int, db: str | None, max_upload_mb: int, workers: int) -> None:
    require(db)
    # the web stack is an optional extra (xltool[serve]): imported only once require() found it
    from xltool.serve import app
    from xltool.serve.store import open_store

    if max_upload_mb < 1:
        raise UsageError("--max-upload-mb 必须是正整数。")
    store = open_store(Path(folder), db)  # a folder that is not a collection is refused before the server starts
    try:
        if store.get("year") is None:
            raise UsageError(f"这个数据库中还没有收集。请先运行 xltool serve {folder} --init …（--db 与运行时相同）。")
    finally:
        store.close()
    settings = app.Settings(Path(folder), db=db, max_upload=max_upload_mb * 1024 * 1024, workers=workers)
    app.run(settings, host, port)
