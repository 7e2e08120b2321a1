"""Command line: parse arguments, call one core function, print, choose the exit code.

The only module that imports typer. Run-level errors (XltoolError) become a Chinese message on
stderr and exit code 2, in one place: :func:`_guard`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from xltool.errors import XltoolError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="xltool：政府信息公开工作年度报告的填报模板、校验、汇总与成文工具。",
    context_settings={"help_option_names": ["-h", "--help"]},
)

T = TypeVar("T")


@app.callback()
def _root() -> None:
    """xltool：政府信息公开工作年度报告的填报模板、校验、汇总与成文工具。"""


def _guard(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except XltoolError as exc:
        typer.echo(f"错误：{exc.message}", err=True)
        raise typer.Exit(exc.exit_code) from None


@app.command()
def template(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="输出文件或目录（配合 --roster 时为目录）")
    ] = None,
    year: Annotated[int | None, typer.Option("--year", help="报告年度，如 2024")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="单位名称")] = None,
    previous: Annotated[
        Path | None, typer.Option("--previous", help="上年度已填报的工作簿：预填并锁定“上年结转”")
    ] = None,
    roster: Annotated[
        Path | None, typer.Option("--roster", help="单位名单（CSV 或 xlsx，含“单位名称”列）：每个单位生成一份模板")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="输出文件已存在时覆盖")] = False,
) -> None:
    """生成带锁定保护的填报模板（.xlsx）。"""
    from xltool import make

    written = _guard(
        lambda: make.templates(output, year=year, unit=unit, previous=previous, roster=roster, force=force)
    )
    for path in written:
        typer.echo(str(path))
    typer.echo(f"已生成 {len(written)} 份模板。", err=True)


def main() -> None:
    app(prog_name="xltool")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
