"""pipeline/errors.py: the tree drawn in its docstring is the tree of classes, with their exit codes,
and no module outside it starts a second tree."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pipeline import errors

CLASSES = {name: obj for name, obj in vars(errors).items()
           if isinstance(obj, type) and issubclass(obj, errors.RiskwatchError)}
# exceptions that never leave their module: caught where they are raised
INTERNAL = {"pipeline/contract.py": {"_Invalid"}, "pipeline/ledgers/values.py": {"CellError"}}


def _drawing() -> list[tuple[int, str, int | None]]:
    """(depth, class name, exit code drawn or None) for every line of the docstring's tree."""
    rows = []
    for line in (errors.__doc__ or "").splitlines():
        m = re.match(r"^    ([│ ├└─]*)(\w+)\s*(?:exit (\d))?", line)
        if m and m.group(2) in CLASSES:
            rows.append((len(m.group(1)) // 4, m.group(2), int(m.group(3)) if m.group(3) else None))
    return rows


def test_the_drawing_names_every_class_once():
    assert sorted(name for _, name, _ in _drawing()) == sorted(CLASSES)


def test_the_drawing_is_the_class_tree_and_its_exit_codes():
    parents: list[str] = []
    for depth, name, code in _drawing():
        parents[depth:] = [name]
        if depth:
            assert CLASSES[parents[depth - 1]] in CLASSES[name].__mro__, name
        if code is not None:
            assert CLASSES[name].exit_code == code, name


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_each_class_has_a_code_a_status_and_a_chinese_label(name):
    cls = CLASSES[name]
    assert cls.exit_code in (1, 2, 3, 4, 5)
    assert 400 <= cls.http_status < 600
    assert re.fullmatch(r"[\u4e00-\u9fff]+", cls.label)


def test_no_second_tree():
    root = Path(errors.__file__).resolve().parents[1]
    found = []
    for path in sorted([*(root / "pipeline").rglob("*.py"), *(root / "streams").rglob("*.py"),
                        *(root / "dashboards").rglob("*.py")]):
        rel = path.relative_to(root).as_posix()
        if rel == "pipeline/errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef) or node.name in INTERNAL.get(rel, ()):
                continue
            bases = {b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else "" for b in node.bases}
            if bases & {"Exception", "ValueError", "RuntimeError", "LookupError", "KeyError", "TypeError"}:
                found.append(f"{rel}: {node.name}")
    assert found == [], "subclass a pipeline.errors class instead"
