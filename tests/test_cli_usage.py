"""Mistyped commands: the clerk reads what went wrong in Chinese, exit code 2, never English."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from xltool.cli import app

runner = CliRunner()


def error_text(stderr: str) -> str:
    """The message inside the error panel, its lines joined."""
    return "".join(line.strip("│ ") for line in stderr.splitlines() if line.startswith("│"))


@pytest.mark.parametrize(
    ("args", "usage", "message"),  # usage: the usage line, then 查看帮助 names the same command
    [
        (
            ["merge", "报表"],
            "用法：xltool merge [选项] 工作簿或文件夹...",
            "缺少选项 -o / --output（汇总工作簿（.xlsx））。",
        ),
        (["check"], "用法：xltool check [选项] 工作簿或文件夹...", "缺少工作簿、文件夹或通配符（如 报表/*.xlsx）。"),
        (
            ["chek", "a.xlsx"],
            "用法：xltool [选项] 命令 [参数]...",
            "没有“chek”这个命令（可用的命令：template、check、render、draft、merge、import、review、serve）。是不是要用 check？",
        ),
        (
            ["check", "--jason", "a.xlsx"],
            "用法：xltool check [选项] 工作簿或文件夹...",
            "没有 --jason 这个选项。是不是要用 --json？",
        ),
        (["template", "--year", "二〇二四"], "用法：xltool template [选项]", "--year 的值无效：应为整数。"),
        (
            ["render", "年报", "(定稿).xlsx", "-o", "x.md"],
            "用法：xltool render [选项] 工作簿",
            "多余的参数：(定稿).xlsx。如果文件名中有空格，请给它加上引号。",
        ),
        (["merge", "报表", "-o"], None, "选项 -o 后面要写上它的值。"),
        (["template", "--force=1"], None, "选项 --force 后面不能带值。"),
    ],
)
def test_usage_errors_in_chinese(args: list[str], usage: str | None, message: str) -> None:
    result = runner.invoke(app, args, prog_name="xltool", env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert error_text(result.stderr) == message
    lines = result.stderr.splitlines()
    if usage is not None:
        command = usage.removeprefix("用法：").split(" [")[0]
        assert lines[:2] == [usage, f"查看帮助：{command} -h"]
    assert "─ 错误 ─" in result.stderr
    assert not any(word in result.stderr for word in ("Error", "Usage", "Try", "Missing", "No such", "Got"))


@pytest.mark.parametrize("args", [["-h"], ["check", "-h"], ["merge", "--help"]])
def test_help_in_chinese(args: list[str]) -> None:
    result = runner.invoke(app, args, prog_name="xltool", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "显示本帮助并退出。" in result.stdout
    assert "用法：xltool" in result.stdout
    assert "─ 选项 ─" in result.stdout
    assert not any(
        word in result.stdout for word in ("Usage", "Options", "Arguments", "Commands", "Show this", "required")
    )


COMMANDS = sorted(typer.main.get_command(app).commands)  # every registered command, whoever added it
# typer's own value names ({inputs}, [workbook], <path>, <bool>, <list[str]>), or any other template slot
PLACEHOLDER = re.compile(r"\{[^{}]*\}|<[A-Za-z_\[\], ]+>|\[[a-z_]+\]|%\(|\{\}")


def test_the_commands_are_found() -> None:
    assert {"template", "check", "render", "merge"} <= set(COMMANDS)


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_shows_no_template_placeholder(command: str) -> None:
    args = [command, "-h"] if command else ["-h"]
    result = runner.invoke(app, args, prog_name="xltool", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert f"用法：xltool {command}".rstrip() in result.stdout
    assert not PLACEHOLDER.findall(result.stdout), result.stdout
    params = typer.main.get_command(app).commands[command].params if command else []
    names = {p.name for p in params if p.name}
    shown = set(re.findall(r"(?<![-\w])[a-z_]+(?![-\w])", result.stdout))
    assert not names & shown, result.stdout  # a parameter's Python name (inputs, json_out) is not for clerks


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_usage_lines_of_errors_show_no_template_placeholder(command: str) -> None:
    args = [command, "--没有这个选项"] if command else ["--没有这个选项"]
    result = runner.invoke(app, args, prog_name="xltool", env={"COLUMNS": "200"})
    assert result.exit_code == 2
    usage = result.stderr.splitlines()[0]
    assert usage.startswith(f"用法：xltool {command}".rstrip()), result.stderr
    assert not PLACEHOLDER.findall(result.stderr), result.stderr
    assert error_text(result.stderr) == "没有 --没有这个选项 这个选项。"
