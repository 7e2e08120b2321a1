"""The placer's batch memory (xltool/importers/memo.py): a result belongs to the very part of the form
it was worked out for, never to another that happens to be equal or to reuse its id."""

from __future__ import annotations

from importlib import resources

from xltool.form import spec as specs
from xltool.importers import headers, memo, rows

SPEC = specs.load("2021")


def test_a_result_is_kept_for_its_owner_and_key_only() -> None:
    table: memo.Memo[str] = memo.Memo(size=3)
    a, b = object(), object()
    assert table.get(a, "k", lambda: "a") == "a"
    assert table.get(a, "k", lambda: "again") == "a"  # kept
    assert table.get(b, "k", lambda: "b") == "b"  # another owner, the same key: its own
    assert table.get(a, "j", lambda: "j") == "j"
    assert table.get(a, "x", lambda: "x") == "x"  # a fourth entry: the table starts again
    assert len(table.table) == 1
    assert table.get(a, "k", lambda: "made again") == "made again"


def test_a_form_parsed_again_gets_its_own_rows() -> None:
    """An equal form parsed on the fly (tests, a changed definition) is matched against its own rows."""
    other = specs.parse(resources.files("xltool.specs").joinpath(specs.SPEC_FILES["2021"]).read_text("utf-8"))
    label = ["（一）予以公开"]
    mine, theirs = rows.match(SPEC, label)[0], rows.match(other, label)[0]
    assert mine is not None and theirs is not None
    assert mine.row.section is SPEC.section_of(mine.row.table)
    assert theirs.row.section is other.section_of(theirs.row.table)
    assert rows.match(SPEC, label)[0] is mine  # the same form, the same label: the same match


def test_header_readings_are_the_same_object_for_the_same_text() -> None:
    block = SPEC.table("t3").blocks[0]
    printed = ["申请人情况自然人法人或其他组织商业企业科研机构社会公益组织法律服务机构其他总计"]
    first = headers.flattened(printed, block)
    assert first is not None and first.found > 0
    assert headers.flattened(list(printed), block) is first
    assert SPEC.by_key["t3.new.natural"].key == "t3.new.natural"
    assert SPEC.input_keys == tuple(c.key for c in SPEC.inputs())
    assert SPEC.derived_keys == {c.key for c in SPEC.cells() if c.derived}
