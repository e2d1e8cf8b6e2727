"""keyword_builder builds the same record a keyword call to the class would, and refuses what it would."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import pytest

from classifier.keyword_build import keyword_builder


class Pair(NamedTuple):
    first: str
    second: int = 2


@dataclass(frozen=True, slots=True)
class Triple:
    a: int
    b: str = "b"
    c: list[int] = field(default_factory=list)


def test_fields_go_to_their_own_places_whatever_the_order_they_are_named_in() -> None:
    build = keyword_builder(Pair)
    assert build(second=5, first="x") == Pair(first="x", second=5)
    assert build(first="y") == Pair("y", 2)
    make = keyword_builder(Triple)
    assert make(c=[1], a=3, b="z") == Triple(a=3, b="z", c=[1])


def test_unknown_missing_and_positional_arguments_are_refused() -> None:
    build = keyword_builder(Pair)
    with pytest.raises(TypeError):
        build(first="x", third=1)
    with pytest.raises(TypeError):
        build(second=1)
    with pytest.raises(TypeError):
        build("x", 1)


def test_a_default_factory_field_must_be_named() -> None:
    make = keyword_builder(Triple)
    with pytest.raises(TypeError):
        make(a=1)
    first, second = make(a=1, c=[]), make(a=1, c=[])
    assert first.c is not second.c


def test_only_records_are_accepted() -> None:
    with pytest.raises(TypeError, match="neither a dataclass nor a NamedTuple"):
        keyword_builder(dict)
