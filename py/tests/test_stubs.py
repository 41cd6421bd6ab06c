"""The committed stubs are exactly what the generator makes from the engine's table."""

from __future__ import annotations

import pathlib

import webex_native
from webex_native import _gen

STUBS = pathlib.Path(webex_native.__file__).with_name("__init__.pyi")
SOURCE_STUBS = pathlib.Path(__file__).resolve().parents[1] / "python" / "webex_native" / "__init__.pyi"


def test_committed_stubs_match_the_operation_table() -> None:
    generated = _gen.generate()
    for path in {STUBS, SOURCE_STUBS}:
        assert path.read_text(encoding="utf-8") == generated, (
            f"{path} drifted from the operation table; run: python -m webex_native._gen {SOURCE_STUBS}"
        )


def test_every_operation_and_error_code_is_in_the_stubs() -> None:
    text = STUBS.read_text(encoding="utf-8")
    for op in webex_native.OPERATIONS:
        assert f"class {op.namespace[:1].upper()}{op.namespace[1:]}Namespace:" in text
        assert f"    def {op.verb}(self" in text, op.name
    for code, _ in webex_native._native.error_codes():
        assert f"class {_gen.class_name(code)}(" in text, code


def test_what_the_stubs_declare_exists_at_run_time() -> None:
    import ast

    tree = ast.parse(STUBS.read_text(encoding="utf-8"))
    declared = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    declared += [n.target.id for n in tree.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)]
    missing = [name for name in declared if not hasattr(webex_native, name)]
    assert missing == [], f"declared in the stubs, missing at run time: {missing}"
    # `import *` gives the same names either way (the result models are the one `Model` class).
    stub_all = next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets))
    models = set(stub_all) - set(webex_native.__all__)
    assert all(getattr(webex_native, m) is webex_native.Model for m in models), models
    assert set(webex_native.__all__) - set(stub_all) == {"__version__"}
    assert "TimeoutError" not in webex_native.__all__, "it would shadow the builtin on import *"
