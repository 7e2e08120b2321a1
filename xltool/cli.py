"""Command line: parse arguments, call one core function, print, choose the exit code.

The only module that imports typer. Run-level errors (XltoolError) become a Chinese message on
stderr and exit code 2, and Ctrl+C exit code 130, in one place: :func:`_guard`. typer's own
usage errors and help screens are put in Chinese by the command classes (:class:`_Chinese`), and
output never fails on a console encoding that lacks a character (:func:`_never_crash_on_output`).
"""

from __future__ import annotations

import codecs
import io
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

from xltool import screens
from xltool.errors import XltoolError

# typer's usage errors, help screens and help option are in English; a clerk gets them in Chinese.
# The exception class is found through typer's public BadParameter (typer vendors click).
_USAGE_ERROR: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
_USAGE_WORDS = (("Usage: ", "用法："), ("[OPTIONS]", "[选项]"), ("COMMAND [ARGS]...", "命令 [参数]..."))
# What a value is, by typer's type label, where a parameter names no metavar of its own.
_VALUE_WORDS = {"path": "路径", "int": "整数", "float": "数字", "str": "文字", "list[str]": "文字", "datetime": "时间"}


def _name_values(command: Any, ctx: Any) -> None:
    """Chinese value names for help and usage lines, instead of typer's ``{inputs}`` and ``<path>``.

    A parameter's own ``metavar`` wins; a flag shows none (it takes no value); anything else gets
    the Chinese word of its type. An argument's type column would repeat its name, so it shows none.
    """
    for param in command.params:
        if param.metavar is None:
            if getattr(param, "is_flag", False):
                param.metavar = ""
            else:
                label = param.display_type(ctx).strip("<>")
                param.metavar = _VALUE_WORDS.get(label.removesuffix("..."), "值")
        if param.param_type_name == "argument":
            param.display_type_rich = lambda ctx: None  # the name column shows the metavar already


def _in_chinese(exc: Exception) -> Exception:
    """The same usage error, its message in Chinese (by kind; an unknown kind keeps its text)."""
    kind, message = type(exc).__name__, str(getattr(exc, "message", exc))
    param, ctx = getattr(exc, "param", None), getattr(exc, "ctx", None)
    names = " / ".join(getattr(param, "opts", ()) or ())
    what = getattr(param, "help", None) or names
    if kind == "NoArgsIsHelpError":  # the help screen was shown instead
        return exc
    if kind == "MissingParameter" and param is not None:
        text = f"缺少选项 {names}（{what}）。" if names.startswith("-") else f"缺少{what}。"
    elif kind == "NoSuchOption":
        maybe = sorted(getattr(exc, "possibilities", None) or ())
        text = f"没有 {getattr(exc, 'option_name', '')} 这个选项。" + (
            f"是不是要用 {'、'.join(maybe)}？" if maybe else ""
        )
    elif kind == "BadOptionUsage":
        option = getattr(exc, "option_name", "")
        text = f"选项 {option} 后面要写上它的值。" if "requires" in message else f"选项 {option} 后面不能带值。"
    elif kind == "BadParameter" and param is not None:
        number = "整数" if "integer" in message else "数字" if re.search("float|number", message) else ""
        text = f"{names or what} 的值无效：" + (f"应为{number}。" if number else f"{message}。")
    elif found := re.match(r"No such command '(.*?)'\.(?: Did you mean '(.*?)'\?)?", message):
        listed = "、".join(ctx.command.list_commands(ctx)) if ctx is not None else ""
        text = f"没有“{found.group(1)}”这个命令（可用的命令：{listed}）。"
        text += f"是不是要用 {found.group(2)}？" if found.group(2) else ""
    elif found := re.match(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)", message):
        text = f"多余的参数：{found.group(1)}。如果文件名中有空格，请给它加上引号。"
    else:
        return exc
    return _ChineseUsageError(text, ctx)


class _ChineseUsageError(_USAGE_ERROR):  # type: ignore[misc,valid-type]
    """A usage error shown as the help screens are: usage line, where to find help, a 错误 panel."""

    def show(self, file: Any = None) -> None:
        ctx = getattr(self, "ctx", None)
        lines: list[str] = []
        if ctx is not None:
            lines += [ctx.get_usage(), f"查看帮助：{ctx.command_path} -h"]
        lines += screens.panel("错误", [[str(self.message)]], _width())
        typer.echo("\n".join(lines), err=True)


def _width() -> int:

    return screens.screen_width(os.environ.get("COLUMNS"))


def _option_row(param: Any, ctx: Any) -> list[str]:
    """A parameter as the help panels show it: required mark, names, value name, help and default."""
    mark = "*" if param.required else ""
    help_text = param.help or ""
    if param.param_type_name == "argument":
        return [mark, param.metavar or param.name or "", help_text + (" [必填]" if param.required else "")]
    longs = [o for o in param.opts if o.startswith("--")] or list(param.opts)
    shorts = [o for o in param.opts if not o.startswith("--")] if longs != list(param.opts) else []
    default = param.default
    if param.required:
        help_text += " [必填]"
    elif param.show_default and default not in (None, False) and not getattr(param, "is_flag", False):
        help_text += f" [默认：{default}]"
    return [mark, ", ".join(longs), ", ".join(shorts), param.metavar or "", help_text]


def _help_screen(command: Any, ctx: Any) -> str:
    width = _width()
    lines = ["", command.get_usage(ctx), ""]
    if command.help:
        lines += [*screens.wrap(command.help.strip(), width - 2), ""]
    params = command.get_params(ctx)
    arguments = [_option_row(p, ctx) for p in params if p.param_type_name == "argument"]
    options = [_option_row(p, ctx) for p in params if p.param_type_name == "option"]
    if arguments:
        lines += screens.panel("参数", arguments, width)
    if options:
        lines += screens.panel("选项", options, width)
    if hasattr(command, "list_commands"):
        rows = [[name, (command.get_command(ctx, name).help or "").strip()] for name in command.list_commands(ctx)]
        lines += screens.panel("命令", rows, width)
    return "\n".join(lines) + "\n"


class _Chinese:
    """Mixed into typer's command classes: Chinese help option, usage line, help screen and usage errors."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help, option.metavar = "显示本帮助并退出。", ""  # a flag: no value to name
        return option

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        _name_values(self, ctx)
        pieces: list[str] = super().collect_usage_pieces(ctx)  # type: ignore[misc]
        return [re.sub(r"\{(.*?)\}", r"\1", piece) for piece in pieces]  # typer marks required ones {so}

    def get_usage(self, ctx: Any) -> str:
        usage: str = super().get_usage(ctx)  # type: ignore[misc]
        for english, chinese in _USAGE_WORDS:
            usage = usage.replace(english, chinese, 1)
        return usage

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _name_values(self, ctx)
        formatter.write(_help_screen(self, ctx))

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)  # type: ignore[misc]
        except _USAGE_ERROR as exc:
            raise _in_chinese(exc) from None

    def resolve_command(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().resolve_command(*args, **kwargs)  # type: ignore[misc]
        except _USAGE_ERROR as exc:
            raise _in_chinese(exc) from None


class _Group(_Chinese, TyperGroup):
    pass


class _Command(_Chinese, TyperCommand):
    pass


app = typer.Typer(
    cls=_Group,
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,  # our own screens (xltool/screens.py): rich takes 0.25 s to load
    help="xltool：政府信息公开工作年度报告的填报模板、校验、汇总与成文工具。",
    context_settings={"help_option_names": ["-h", "--help"]},
)

T = TypeVar("T")
INPUTS, INPUTS_HELP = "工作簿或文件夹", "工作簿、文件夹或通配符（如 报表/*.xlsx）"


@app.callback()
def _root() -> None:
    """xltool：政府信息公开工作年度报告的填报模板、校验、汇总与成文工具。"""


def _guard(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except XltoolError as exc:
        typer.echo(f"错误：{exc.message}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("已取消（Ctrl+C）。输出文件都是写完后才改名保存的，不会留下写了一半的文件。", err=True)
        raise typer.Exit(130) from None


@app.command(cls=_Command)
def template(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="输出文件或文件夹")] = None,
    year: Annotated[int | None, typer.Option("--year", help="报告年度，如 2024")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="单位名称")] = None,
    previous: Annotated[
        Path | None, typer.Option("--previous", help="上年度已填报的工作簿：预填并锁定“上年结转”")
    ] = None,
    roster: Annotated[
        Path | None,
        typer.Option(
            "--roster", help="单位名单（.csv 或 .xlsx，含“单位名称”列）：每个单位一份预填并锁定单位信息的模板"
        ),
    ] = None,
    form: Annotated[
        str | None,
        typer.Option("--form", help="表式版本：2019 或 2021（默认按报告年度：2019—2020 年用 2019 年表式）"),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="输出文件已存在时覆盖")] = False,
) -> None:
    """生成带锁定保护的填报模板（.xlsx）。"""
    # each command imports its own modules: `xltool --help` and the other commands start without them
    from xltool.sources import templates as make

    def warn(message: str) -> None:
        typer.echo(message, err=True)

    written = _guard(
        lambda: make.templates(
            output, year=year, unit=unit, previous=previous, roster=roster, form=form, force=force, warn=warn
        )
    )
    for path in written:
        typer.echo(str(path))
    typer.echo(f"已生成 {len(written)} 份模板。", err=True)


@app.command(cls=_Command)
def check(
    inputs: Annotated[list[str], typer.Argument(help=INPUTS_HELP, metavar=INPUTS, show_default=False)],
    json_out: Annotated[bool, typer.Option("--json", help="以 JSON 输出结果")] = False,
    previous: Annotated[
        Path | None, typer.Option("--previous", help="上年度的工作簿：核对上年结转等跨年度关系")
    ] = None,
    annotate: Annotated[
        Path | None, typer.Option("--annotate", help="另存一份标注了问题单元格的副本（只能检查一个文件时使用）")
    ] = None,
    assess: Annotated[
        bool, typer.Option("--assess", help="同时按评估要点检查（写明上年度问题整改、信息处理费、统计期限）")
    ] = False,
) -> None:
    """校验填好的工作簿，指出每个有问题的单元格。退出码：0 无错误，1 有错误，2 无法运行。"""
    # each command imports its own modules: `xltool --help` and the other commands start without them
    from xltool.checks import check as checking
    from xltool.sources import checking as files
    from xltool.sources.inputs import expand

    def warn(message: str) -> None:
        typer.echo(message, err=True)

    paths = _guard(lambda: expand(inputs))
    if annotate is not None:  # one file
        results = _guard(lambda: files.check(paths, previous, annotate=annotate, warn=warn, assess=assess))
        batches = iter([results])
    else:  # printed batch by batch as they are checked, then let go: flat memory for any number of files
        batches = files.batches(paths, previous, warn, assess=assess)
    tally = checking.Tally()
    while (batch := _guard(lambda: next(batches, None))) is not None:
        if json_out:  # JSON is read by programs: escape what the output encoding lacks rather than lose it
            items = [_fitted(checking.json_item, r) for r in batch]
            lead = checking.JSON_SEPARATOR if tally.files else checking.JSON_HEAD
            typer.echo(lead + checking.JSON_SEPARATOR.join(items), nl=False)
        else:
            typer.echo("\n".join(checking.text_lines(batch)))
        tally.add(batch)
    if json_out:
        typer.echo(checking.JSON_TAIL)
    elif closing := tally.closing_line():
        typer.echo(closing)
    if annotate is not None and not tally.unreadable:
        typer.echo(f"已另存标注副本：{annotate}", err=True)
    raise typer.Exit(tally.exit_code)


@app.command(cls=_Command)
def render(
    workbook: Annotated[Path, typer.Argument(help="填好的工作簿（.xlsx）", metavar="工作簿", show_default=False)],
    output: Annotated[Path, typer.Option("-o", "--output", help="输出文档：.docx、.html 或 .md", show_default=False)],
    force: Annotated[bool, typer.Option("--force", help="工作簿有错误也照样生成，并覆盖已存在的输出文件")] = False,
    allow_draft: Annotated[
        bool,
        typer.Option("--allow-draft", help="文字部分未写完或仍是未修改的草稿时也生成，文档顶部标注“〔草稿〕”"),
    ] = False,
) -> None:
    """把工作簿生成可发布的年度报告文档（.docx / .html / .md）。文字部分未写完或仍是草稿时不生成（退出码 1）。"""
    # each command imports its own modules: `xltool --help` and the other commands start without them
    from xltool.sources import publishing as publish

    result = _guard(lambda: publish.publish(workbook, output, force=force, allow_draft=allow_draft))
    if result.refused is not None:
        typer.echo(result.refused, err=True)
        raise typer.Exit(1)
    typer.echo(str(result.path))


@app.command(cls=_Command)
def draft(
    workbook: Annotated[Path, typer.Argument(help="填好表格的工作簿（.xlsx）", metavar="工作簿", show_default=False)],
    output: Annotated[Path, typer.Option("-o", "--output", help="输出的草稿工作簿（.xlsx）", show_default=False)],
    previous: Annotated[
        Path | None,
        typer.Option("--previous", help="上年度的工作簿（汇总起草时用上年汇总）：写出与上年相比的增减"),
    ] = None,
    unit_word: Annotated[
        str | None,
        typer.Option("--unit-word", help="句子的主语，如 全县、本机关（汇总默认按单位名称：某某县人民政府为“全县”）"),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="工作簿有错误也照现有数字起草，并覆盖已存在的输出文件")
    ] = False,
) -> None:
    """根据表格数字起草空白的文字部分（第一部分的主动公开、依申请公开，第六部分的信息处理费），另存为新工作簿。原有文字一字不改。"""
    # each command imports its own modules: `xltool --help` and the other commands start without them
    from xltool.sources import drafting

    result = _guard(
        lambda: drafting.draft_workbook(workbook, output, previous=previous, unit_word=unit_word, force=force)
    )
    if result.refused is not None:
        typer.echo(result.refused, err=True)
        raise typer.Exit(1)
    typer.echo("\n".join(drafting.text_lines(workbook, result)), err=True)
    typer.echo(str(result.path))


@app.command(cls=_Command)
def merge(
    inputs: Annotated[list[str], typer.Argument(help=INPUTS_HELP, metavar=INPUTS, show_default=False)],
    output: Annotated[Path, typer.Option("-o", "--output", help="汇总工作簿（.xlsx）", show_default=False)],
    unit: Annotated[str | None, typer.Option("--unit", help="汇总单位名称，如：某某县人民政府")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="并行进程数（默认为 CPU 核数）")] = None,
    roster: Annotated[
        Path | None, typer.Option("--roster", help="应报送单位名单（.csv 或 .xlsx，含“单位名称”列）")
    ] = None,
    include_invalid: Annotated[
        bool, typer.Option("--include-invalid", help="有错误的工作簿也计入汇总（在单位明细中标注）")
    ] = False,
    previous: Annotated[
        Path | None,
        typer.Option("--previous", help="上年度的汇总工作簿：逐个单位核对上年结转，并与上年比较主要数字"),
    ] = None,
    unit_word: Annotated[
        str | None,
        typer.Option(
            "--unit-word", help="起草文字时句子的主语（默认按 --unit：某某县人民政府为“全县”，其他为“本机关”）"
        ),
    ] = None,
) -> None:
    """把多个单位的工作簿汇总成一个同样格式、可再次汇总的工作簿。退出码：0 全部汇总，1 有文件未汇总或有错误，2 无法运行。"""
    # each command imports its own modules: `xltool --help` and the other commands start without them
    from xltool.sources import merging as merge_files
    from xltool.sources.inputs import expand
    from xltool.summary import merge as merging

    def run() -> merging.Outcome:
        paths = expand(inputs)
        with _progress(len(paths), "读取和校验") as step:
            return merge_files.merge(
                paths,
                output,
                unit=unit,
                jobs=jobs,
                roster_path=roster,
                include_invalid=include_invalid,
                previous=previous,
                unit_word=unit_word,
                progress=step,
            )

    outcome = _guard(run)
    typer.echo(merging.as_text(outcome))
    raise typer.Exit(outcome.exit_code)


@app.command("import", cls=_Command)
def import_(
    reports: Annotated[
        list[str],
        typer.Argument(help="已发布的年度报告：.html、.docx、.pdf、.txt、.md，文件夹或通配符", show_default=False),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="一份报告：输出工作簿（.xlsx）；多份：输出文件夹", show_default=False)
    ],
    year: Annotated[int | None, typer.Option("--year", help="报告年度（标题中没有写明时）")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="单位名称（标题中没有写明时）")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="以 JSON 输出结果")] = False,
    force: Annotated[bool, typer.Option("--force", help="输出文件已存在时覆盖")] = False,
) -> None:
    """把已发布的年度报告（网页、Word、PDF、文本）导入为工作簿并校验。退出码：0 全部读到且无错误，1 有错误或缺失，2 无法运行。"""
    # each command imports its own modules: `xltool --help` and the other commands start without them
    import json

    from xltool.sources import importing as run
    from xltool.sources.inputs import expand_reports

    paths = _guard(lambda: expand_reports(reports))
    outcomes = _guard(lambda: run.import_reports(paths, output, year=year, unit=unit, force=force))
    if json_out:
        text = json.dumps({"files": [run.to_json(o) for o in outcomes]}, ensure_ascii=False, indent=2)
        if not _fits(sys.stdout, text):
            text = json.dumps({"files": [run.to_json(o) for o in outcomes]}, ensure_ascii=True, indent=2)
        typer.echo(text)
    else:
        typer.echo("\n".join(run.text_lines(outcomes)))
    raise typer.Exit(max((o.exit_code for o in outcomes), default=0))


@app.command(cls=_Command)
def review(
    reports: Annotated[
        list[str],
        typer.Argument(
            help="已发布的年度报告（.html、.docx、.pdf、.txt、.md）和工作簿（.xlsx），文件夹或通配符；可混放多个单位、多个年度",
            metavar="报告或文件夹",
            show_default=False,
        ),
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="评查结果工作簿（.xlsx）", show_default=False)],
    roster: Annotated[
        Path | None,
        typer.Option("--roster", help="应公开报告的单位名单（.csv 或 .xlsx，含“单位名称”列，可含“单位类型”列）"),
    ] = None,
    dates: Annotated[
        Path | None,
        typer.Option("--dates", help="发布日期清单（.csv 或 .xlsx：“发布日期”列，及“文件”列或“单位名称”“报告年度”列）"),
    ] = None,
    year: Annotated[
        int | None, typer.Option("--year", help="只评查这一年度的报告（上一年度的报告只用于跨年核对）")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="以 JSON 输出结果")] = False,
    force: Annotated[bool, typer.Option("--force", help="输出文件已存在时覆盖")] = False,
) -> None:
    """评查已发布的年度报告：逐份校验、跨年核对、是否按期公开、名单核对，生成评查结果工作簿。退出码：0 无错误，1 有错误或有报告无法评查，2 无法运行。"""
    # each command imports its own modules: `xltool --help` and the other commands start without them
    from xltool.review import output as shown
    from xltool.sources import reviewing

    def run() -> Any:
        paths = reviewing.inputs(reports)
        with _progress(len(paths), "评查") as step:
            return reviewing.review(paths, output, roster=roster, dates=dates, year=year, force=force, progress=step)

    outcome = _guard(run)
    if json_out:
        typer.echo(_fitted(shown.to_json, outcome, str(output)))
    else:
        typer.echo(shown.as_text(outcome, str(output)))
    raise typer.Exit(outcome.exit_code)


@app.command(cls=_Command)
def serve(
    folder: Annotated[Path, typer.Argument(help="收集数据文件夹（每轮收集一个）", show_default=False)],
    init: Annotated[bool, typer.Option("--init", help="新建收集，或按名单更新已有收集的单位")] = False,
    year: Annotated[int | None, typer.Option("--year", help="报告年度，如 2024（--init）")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="汇总单位名称（--init）")] = None,
    roster: Annotated[Path | None, typer.Option("--roster", help="单位名单 .csv 或 .xlsx（--init）")] = None,
    previous: Annotated[
        Path | None,
        typer.Option("--previous", help="上一年度的收集文件夹或汇总工作簿：预填各单位的“上年结转”（--init）"),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="单位访问本服务的地址，如 http://10.1.2.3:8000（--init）")
    ] = None,
    deadline: Annotated[str | None, typer.Option("--deadline", help="报送截止时间，显示在单位页面（--init）")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="以 JSON 输出管理密码、令牌和链接（--init）")] = False,
    host: Annotated[str, typer.Option("--host", help="监听地址（默认只允许本机访问）")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="端口")] = 8000,
    db: Annotated[
        str | None, typer.Option("--db", help="数据库地址，如 postgresql://用户@主机/库名（默认为文件夹中的 SQLite）")
    ] = None,
    max_upload_mb: Annotated[int, typer.Option("--max-upload-mb", help="单个上传文件的大小上限（MB）")] = 20,
    workers: Annotated[int, typer.Option("--workers", help="校验上传文件的进程数")] = 2,
) -> None:
    """运行报表收集网站：各单位下载模板、上传、即时校验；管理员查看报送情况并下载汇总。"""
    # each command imports its own modules: `xltool --help` and the other commands start without them
    from xltool import serve as portal

    if not init:
        _guard(lambda: portal.serve(folder, host=host, port=port, db=db, max_upload_mb=max_upload_mb, workers=workers))
        return
    options = {"year": year, "unit": unit, "roster": roster, "previous": previous, "base_url": base_url}
    created = _guard(lambda: portal.init(folder, db=db, deadline=deadline, **options))
    if json_out:
        import json  # only for --json

        typer.echo(json.dumps(created.to_json(), ensure_ascii=False, indent=2))
        return
    if created.admin_password is not None:
        typer.echo(f"管理密码：{created.admin_password}")
        typer.echo(f"管理令牌（供脚本使用）：{created.admin_token}")
        typer.echo("以上两项只显示这一次，请妥善保存（数据库中只保存它们的散列值）。", err=True)
    typer.echo(f"已写入 {len(created.links)} 个单位的填报链接：{created.links_file}")
    if created.not_in_previous:
        names = "、".join(created.not_in_previous)
        typer.echo(f"上年汇总中没有以下 {len(created.not_in_previous)} 个单位，其模板不预填“上年结转”：{names}")


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when it is a terminal (nothing in pipes, logs and tests)."""
    if not sys.stderr.isatty():
        yield lambda _n: None
        return
    with typer.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


# Symbols in our messages that the GBK code page lacks, and what a GBK reader expects instead.
_GBK_FALLBACK = {"✓": "√", "✗": "×", "−": "-"}


def _fallback(exc: UnicodeError) -> tuple[str, int]:
    """Encoding error handler: a near symbol where the stream's encoding has one, else "?"."""
    assert isinstance(exc, UnicodeEncodeError)
    out = []
    for ch in exc.object[exc.start : exc.end]:
        alt = _GBK_FALLBACK.get(ch, "?")
        try:
            alt.encode(exc.encoding)
        except UnicodeEncodeError:
            alt = "?"
        out.append(alt)
    return "".join(out), exc.end


def _fits(stream: Any, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _fitted(make: Callable[..., str], *args: Any) -> str:
    """``make(*args)``, or with ``ascii_only=True`` when the text does not fit the output encoding."""
    text = make(*args)
    return text if _fits(sys.stdout, text) else make(*args, ascii_only=True)


def _never_crash_on_output() -> None:
    """On Windows, output redirected to a file or pipe is encoded in the ANSI code page (GBK on a
    Chinese system), which lacks ✓ ✗ − and the rare characters of some place names: replace them
    instead of failing with UnicodeEncodeError."""
    codecs.register_error("xltool-fallback", _fallback)
    for stream in (sys.stdout, sys.stderr):
        if not _fits(stream, "".join(_GBK_FALLBACK)) and isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="xltool-fallback")


def main() -> None:
    _never_crash_on_output()
    app(prog_name="xltool")


if __name__ == "__main__":  # pragma: no cover
    main()
