"""One formatter of pydantic's validation errors, worded per boundary, used by every boundary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.core import problems

REPO = Path(__file__).resolve().parents[2]


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    width: float = Field(gt=0)


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    inner: Inner

    @field_validator("name")
    @classmethod
    def _short(cls, v: str) -> str:
        if len(v) > 3:
            raise ValueError("at most 3 characters")
        return v


def error(data: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Outer.model_validate(data)
    return caught.value


def test_every_problem_on_one_line_with_dotted_locations_and_no_value_error_prefix():
    e = error({"name": "long", "inner": {"width": -1}, "colour": "red"})
    assert problems.one_line(e) == (
        "name: at most 3 characters; inner.width: Input should be greater than 0; colour: unknown key"
    )


def test_the_boundary_chooses_its_words():
    e = error({"inner": {"width": 1, "depth": 2}})
    assert problems.one_line(e, unknown="unknown field", missing="required key is missing") == (
        "name: required key is missing; inner.depth: unknown field"
    )


def test_the_first_problem_keeps_its_kind_location_and_bounds():
    first = problems.first(error({"name": "ok", "inner": {"width": 0}}))
    assert (first.where, first.kind, first.loc, first.ctx) == (
        "inner.width",
        "greater_than",
        ("inner", "width"),
        {"gt": 0},
    )


def test_a_whole_value_wrong_is_named_by_its_root_and_skip_drops_leading_parts():
    with pytest.raises(ValidationError) as caught:
        Inner.model_validate("wide")
    assert str(problems.first(caught.value, root="band")).startswith("band: ")
    assert problems.first(error({"name": "ok", "inner": {"width": 0}}), skip=1).where == "width"


def test_no_other_module_reads_pydantic_errors_itself():
    readers = [
        str(p.relative_to(REPO))
        for d in ("agent", "tools")
        for p in (REPO / d).rglob("*.py")
        if p.name != "problems.py" and re.search(r"\.errors\(", p.read_text())
    ]
    assert readers == []
