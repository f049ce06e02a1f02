"""The error tree is complete: the tree drawn at the top of ``agent/core/errors.py`` is the class hierarchy,
no error class of the tree is defined anywhere else, and every exception the code raises is in the tree or
on the short list the module's docstring gives (programming errors, the SDK's inside the adapter, control
flow that never leaves its module)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from agent.core import errors

REPO = Path(__file__).resolve().parents[2]
#: what may be raised outside the tree (each is named, with its reason, in errors.py's docstring).
OUTSIDE_THE_TREE = {
    "ValueError",
    "TypeError",
    "AssertionError",
    "ArithmeticError",
    "NotImplementedError",
    "KeyError",
    "RuntimeError",
    "ClientError",
    "ServerError",
    "AnswerRejected",
    "JSONFormatError",
    "_Paused",
    "_Stop",
    "Exit",
    "ToolError",
    "ApplicationError",
    "AttributeError",
}


def drawn_tree() -> dict[str, str | None]:
    """{class: parent} as drawn in the module docstring (indentation gives the parent)."""
    assert errors.__doc__
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in errors.__doc__.splitlines():
        m = re.match(r"^(\s*(?:[│ ]   )*)(?:[├└]── )?([A-Z]\w+)\s{2,}|^\s{4}(RebalancerError)$", line)
        if not m:
            continue
        name = m.group(2) or m.group(3)
        depth = len(m.group(1) or "") // 4 if m.group(2) else 0
        stack = [(d, n) for d, n in stack if d < depth]
        parents[name] = stack[-1][1] if stack else None
        stack.append((depth, name))
    return parents


def python_sources() -> list[Path]:
    return [p for d in ("agent", "tools") for p in (REPO / d).rglob("*.py") if "standin" not in p.parts]


def test_the_drawn_tree_is_the_class_hierarchy():
    defined = {
        name: (cls.__base__.__name__ if cls is not errors.RebalancerError else None)
        for name, cls in vars(errors).items()
        if isinstance(cls, type) and issubclass(cls, errors.RebalancerError)
    }
    assert drawn_tree() == defined


def test_no_error_of_the_tree_is_defined_outside_it():
    tree = set(drawn_tree())
    elsewhere = [
        f"{p.relative_to(REPO)}:{node.name}"
        for p in python_sources()
        if p.name != "errors.py"
        for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, ast.ClassDef)
        and any((b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")) in tree for b in node.bases)
    ]
    assert elsewhere == []


def raised_names() -> dict[str, str]:
    """{exception class name: where first raised} over agent/ (but the independent stand-in) and tools/."""
    out: dict[str, str] = {}
    for p in python_sources():
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                f = node.exc.func
                name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
                if name and name.lstrip("_")[:1].isupper():  # a class, not a variable or a factory
                    out.setdefault(name, f"{p.relative_to(REPO)}:{node.lineno}")
    return out


def test_every_exception_raised_is_in_the_tree_or_named_as_outside_it():
    stray = {n: where for n, where in raised_names().items() if n not in drawn_tree() and n not in OUTSIDE_THE_TREE}
    assert stray == {}


def test_every_outsider_is_named_in_the_docstring():
    assert errors.__doc__
    assert [n for n in sorted(OUTSIDE_THE_TREE) if n not in errors.__doc__ and n != "Exit"] == []
