"""Results as objects: what attribute access on a ``Model`` answers (no sandbox needed)."""

from __future__ import annotations

import pytest

from webex_native import Model


def _message() -> Model:
    return Model({
        "id": "m1",
        "roomId": "r1",
        "files": ["https://f/1"],
        "person": {"displayName": "Alice", "emails": ["a@x"]},
        "attachments": [{"contentType": "card", "content": {"n": 1}}],
        "items": [1, 2],
        "count": 0,
        "ratio": 0.5,
        "flag": False,
        "gone": None,
    })


def test_members_read_as_attributes_in_camel_or_snake_case() -> None:
    m = _message()
    assert (m.id, m.roomId, m.room_id) == ("m1", "r1", "r1")
    assert (m.count, m.ratio, m.flag, m.gone) == (0, 0.5, False, None)
    assert m.absent is None and m.also_absent is None, "absent optional members read as None"


def test_nested_objects_and_lists_are_models_too() -> None:
    m = _message()
    assert isinstance(m.person, Model) and m.person.display_name == "Alice"
    assert m.person.emails == ["a@x"] and m.files == ["https://f/1"]
    assert m.attachments[0].content.n == 1
    assert isinstance(m["person"], Model)


def test_the_class_own_members_win_over_json_members_of_the_same_name() -> None:
    m = _message()
    assert callable(m.items) and m["items"] == [1, 2]
    assert sorted(m.keys()) == sorted(m.to_dict())
    assert m.get("id") == "m1"

    class Message(Model):
        def summary(self) -> str:
            return f"{self.id} in {self.room_id}"

    sub = Message({"id": "m2", "roomId": "r2", "summary": "shadowed"})
    assert sub.summary() == "m2 in r2" and sub["summary"] == "shadowed"


def test_unknown_dunders_raise_and_models_are_read_only() -> None:
    m = _message()
    with pytest.raises(AttributeError):
        m.__wrapped__
    assert not hasattr(m, "__fspath__")
    with pytest.raises(AttributeError, match="read-only"):
        m.id = "other"  # type: ignore[misc]


def test_models_compare_and_convert_as_their_data() -> None:
    data = {"id": "m1", "nested": {"a": [1, {"b": 2}]}}
    m = Model(data)
    assert m == data and m == Model(dict(data)) and dict(m) == dict(data)
    copy = m.to_dict()
    copy["nested"]["a"].append(3)
    assert data["nested"]["a"] == [1, {"b": 2}], "to_dict() is a deep copy"
    assert len(m) == 2 and "id" in m and list(m) == ["id", "nested"]
    assert "id" in dir(m) and "to_dict" in dir(m)
    assert repr(m).startswith("Model({'id': 'm1'")


def test_models_copy_deepcopy_and_pickle_as_their_data() -> None:
    import copy
    import pickle

    m = _message()
    for twin in (copy.copy(m), copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert isinstance(twin, Model) and twin == m and twin.person.display_name == "Alice"
    deep = copy.deepcopy(m)
    assert deep.to_dict()["person"] is not m.to_dict()["person"]
