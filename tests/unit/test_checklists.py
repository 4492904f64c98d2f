"""Checklist validation: every kind of mistake, with file, line and item path."""

import textwrap

import pytest

from qa_review.core.checklists import parse
from qa_review.core.errors import ChecklistError
from qa_review.services.catalog import load_checklists as load_dir
from qa_review.services.settings import REPO_ROOT

HEAD = """\
id: test
title: Test
version: 1
sections:
  - id: main
    items:
"""


def error_of(items_yaml: str, head: str = HEAD) -> str:
    with pytest.raises(ChecklistError) as e:
        parse(head + textwrap.indent(textwrap.dedent(items_yaml), "      "), "t.yaml")
    return str(e.value)


@pytest.mark.parametrize(
    "items, expected",
    [
        (
            "- id: a\n  check: {kind: phrasee, any: [x]}\n",
            "t.yaml:8: sections[main].items[a].check.kind: unknown kind 'phrasee'",
        ),
        ("- id: a\n  check: {kind: phrase}\n", "t.yaml:8: sections[main].items[a].check: give the phrases"),
        (
            "- id: a\n  check: {kind: phrase, any: []}\n",
            "t.yaml:8: sections[main].items[a].check.any: needs at least one phrase",
        ),
        (
            "- id: a\n  weight: 0\n  check: {kind: manual}\n",
            "t.yaml:8: sections[main].items[a].weight: Input should be greater than 0",
        ),
        (
            "- id: a\n  check: {kind: metric, metric: loudness, max: 1}\n",
            "t.yaml:8: sections[main].items[a].check.metric: unknown metric 'loudness'",
        ),
        ("- id: a\n  check: {kind: metric, metric: duration_s}\n", "needs `max:` or `min:`"),
        (
            "- id: a\n  check: {kind: manual}\n- id: a\n  check: {kind: manual}\n",
            "t.yaml:9: duplicate id 'a' (first used on line 7)",
        ),
        (
            "- id: Bad Id\n  check: {kind: manual}\n",
            "t.yaml:7: sections[main].items[Bad Id].id: 'Bad Id' is not a valid id",
        ),
        (
            "- id: a\n  check: {kind: manual}\n  colour: red\n",
            "t.yaml:9: sections[main].items[a].colour: unknown field 'colour'",
        ),
        ("- id: a\n  check: {kind: phrase, any: [x], speaker: doctor}\n", "check.speaker"),
        ("- id: a\n", "t.yaml:7: sections[main].items[a].check: required field missing"),
    ],
)
def test_each_mistake_is_named_with_its_line(items, expected):
    assert expected in error_of(items)


def test_broken_yaml_gives_the_line():
    with pytest.raises(ChecklistError, match=r"t.yaml:3: not valid YAML"):
        parse("id: x\ntitle: [unclosed\nversion: 1\n", "t.yaml")


def test_missing_top_level_fields():
    msg = str(pytest.raises(ChecklistError, parse, "id: x\nsections: []\n", "t.yaml").value)
    assert "title: required field missing" in msg and "version: required field missing" in msg


def test_all_errors_reported_at_once():
    msg = error_of("- id: a\n  weight: -1\n  check: {kind: manual}\n- id: b\n  check: {kind: bogus}\n")
    assert "items[a].weight" in msg and "items[b].check.kind" in msg


def test_shipped_checklists_are_valid():
    good, bad = load_dir(REPO_ROOT / "checklists")
    assert bad == []
    assert {c.checklist.id for c in good} >= {"clinic-inbound", "outbound-confirmation", "written-chat"}


def test_folder_reports_invalid_files_and_keeps_valid_ones(tmp_path):
    (tmp_path / "ok.yaml").write_text(HEAD + "      - id: a\n        check: {kind: manual}\n")
    (tmp_path / "bad.yaml").write_text("id: bad\n")
    good, bad = load_dir(tmp_path)
    assert [g.checklist.id for g in good] == ["test"]
    assert len(bad) == 1 and "bad.yaml" in bad[0]


def test_unreadable_file_names_itself(tmp_path):
    from qa_review.services.catalog import load_checklist as load_file

    with pytest.raises(ChecklistError, match=r"missing.yaml: cannot read the checklist"):
        load_file(tmp_path / "missing.yaml")
