"""Answers are built into Python objects by the native module, not by ``json.loads``: the same
objects must come out, whatever the JSON holds."""

from __future__ import annotations

import json
from typing import Any

import pytest

from webex_native import Sandbox, Webex
from webex_native import _native

DOCUMENTS: list[Any] = [
    None, True, False, 0, -1, 2**63 - 1, -(2**63), 2**64 - 1, 0.5, -1.25e-7, 1e300, "", "plain",
    # Floats that need all 17 digits, and the smallest subnormal.
    0.1 + 0.2, 1 / 3, 2.2250738585072014e-308, 5e-324, 123456789.12345679, [1.0, 1, True, 0.0, 0],
    "quote \" backslash \\ slash / controls \b\f\n\r\t \u0001 \u001f",
    "accents é ü ñ, CJK 会议, emoji 🎉 (astral: a surrogate pair once escaped)",
    [], {}, [[], [{}], [[[]]]], {"": "empty key", "k": None},
    {"nested": {"list": [1, "two", 3.0, None, True, {"deep": ["x"]}]}},
    # Keys with escapes and non-ASCII keys, and more distinct keys than are kept for sharing.
    {"tab\tkey": 1, "ключ": 2, "emoji🎉": 3, **{f"k{i}": i for i in range(200)}},
    # A page: the same keys on every item.
    {"items": [{"id": f"m{i}", "text": f"t{i}", "n": i, "ok": i % 2 == 0} for i in range(300)], "next": None},
    # Deeper than serde reads (128 levels): json.loads takes over.
    {"items": [{"card": json.loads("[" * 200 + "]" * 200)}]},
]


def _same(built: Any, loaded: Any) -> None:
    """Equal with the same types all the way down (``==`` alone takes 1 == 1.0 == True)."""
    assert json.dumps(built) == json.dumps(loaded)
    assert repr(built) == repr(loaded)


@pytest.mark.parametrize("doc", DOCUMENTS, ids=range(len(DOCUMENTS)))
def test_text_is_read_as_json_loads_reads_it(doc: Any) -> None:
    for text in (json.dumps(doc), json.dumps(doc, ensure_ascii=False), json.dumps(doc, indent=2)):
        _same(_native.loads(text), json.loads(text))


@pytest.mark.parametrize("text", [
    '{"text": "a lone surrogate \\ud83d in a message"}',
    '[{"a": "\\udc00\\ud83d"}]',
])
def test_what_serde_refuses_and_json_loads_reads_is_read_all_the_same(text: str) -> None:
    _same(_native.loads(text), json.loads(text))


def test_shared_keys_are_equal_strings_and_items_are_independent() -> None:
    page = _native.loads(json.dumps([{"id": 1}, {"id": 2}]))
    page[0]["id"] = 10
    assert page == [{"id": 10}, {"id": 2}]
    assert [list(item) for item in page] == [["id"], ["id"]]


@pytest.mark.parametrize("text", ["", "{", "[1,]", "{\"a\" 1}", "nul", "[1] 2", "\"\\x\""])
def test_malformed_text_is_a_value_error_not_a_crash(text: str) -> None:
    with pytest.raises(ValueError):
        _native.loads(text)


def test_answers_from_the_cloud_keep_every_character() -> None:
    """A created message (an answer built from a value) and a listed one (a page passed on as
    the sandbox wrote it) carry escapes and non-ASCII text intact."""
    text = "quote \" backslash \\ tab\t newline\n accents é, CJK 会议, emoji 🎉"
    with Sandbox() as sb, Webex(sb.config()) as webex:
        room = webex.rooms.create(title="ünïcode 会议 🎉")
        created = webex.messages.create(roomId=room.id, text=text)
        listed = list(webex.messages.list(roomId=room.id))
        assert created.text == text and room.title == "ünïcode 会议 🎉"
        assert [m.text for m in listed] == [text]
        assert listed[0].to_dict() == created.to_dict()
