"""Vietnamese normalisation: folding, and seeing through the spellings sellers use to dodge filters."""

from __future__ import annotations

import pytest

from classifier.normalize import deobfuscate, fold, has_vietnamese_marks, nfc_lower, normalize


def test_nfc_and_lowercase_make_one_spelling_of_decomposed_text() -> None:
    decomposed = "Sie\u0302u Ca\u0302\u0301p"  # "Siêu Cấp" typed with combining marks
    assert nfc_lower(decomposed) == "siêu cấp"
    assert nfc_lower("  Giày\u200b   Đẹp ") == "giày đẹp"


@pytest.mark.parametrize(
    ("text", "folded"),
    [("Siêu Cấp", "sieu cap"), ("Đồng hồ", "dong ho"), ("Hàng nhái", "hang nhai"), ("Ốp lưng", "op lung")],
)
def test_fold_removes_diacritics_and_the_d_stroke(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_keeps_offsets_of_the_lowercase_text() -> None:
    text = "Giày Siêu Cấp ĐẸP ổn định"
    assert len(fold(text)) == len(nfc_lower(text))


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("N.I.K.E Air", "nike air"),
        ("V-I-N-A milk", "vina milk"),
        ("d...a...s", "das"),
        ("L O T U S step", "lotus step"),
        ("n1ke air max 90", "nike air max 90"),
        ("ad1d@s", "adidas"),
        ("l0tus st3p", "lotus step"),
        ("a*ple watch", "aple watch"),
        ("iρhone 13", "iphone 13"),  # Greek rho
        ("Аpple", "apple"),  # Cyrillic A
    ],
)
def test_deobfuscate_sees_through_spelling_tricks(text: str, plain: str) -> None:
    assert normalize(text).deobfuscated == plain


@pytest.mark.parametrize("text", ["size 3-4-5 tuổi", "samsung a11 s23 j330", "giá 500k", "iphone 13 pro", "sạc 3a"])
def test_deobfuscate_leaves_model_numbers_sizes_and_prices_alone(text: str) -> None:
    assert deobfuscate(fold(text)) == fold(text)


def test_accent_detection() -> None:
    assert has_vietnamese_marks("Giày đẹp")
    assert has_vietnamese_marks("do dep") is False
    assert has_vietnamese_marks("đo")


def test_stretched_letters_are_one_letter() -> None:
    assert normalize("giày cvssss xịnnnnn").deobfuscated == "giay cvs xin"
    assert normalize("pin aaa").deobfuscated == "pin aaa"  # three is a word (AAA), not a stretch


@pytest.mark.parametrize(
    "text",
    [
        "Giày rep 1:1 full box",
        "giày rep-1-1 replica",
        "áo sf xịn, hàng super fake",
        "đồng hồ like auth 99% mirror quality",
        "rep11 rep 11 aaa+ a+++",
        "s.i.e.u c.a.p hàng loại 1",
        "prep repair reply",
    ],
)
def test_one_trie_regex_finds_what_each_phrase_alone_finds(text: str) -> None:
    import re

    from classifier.phrase_scan import alternation, boundary_pattern

    phrases = ["rep", "rep 1:1", "rep 11", "replica", "sf", "super fake", "like auth", "aaa", "aaa+", "a+++", "loai 1"]
    folded = fold(text)
    combined = {m.group() for m in alternation(phrases).finditer(folded)}
    alone = {m.group() for p in phrases for m in re.finditer(boundary_pattern(p), folded)}
    # The trie keeps the longest phrase at a place; every phrase it reports is one found alone,
    # and every place some phrase matches alone is covered by one it reports.
    assert combined <= alone
    for found in alone:
        assert any(found in longer for longer in combined), (found, combined)


@pytest.mark.parametrize("large", [True, False])
def test_phrase_scan_finds_the_alternations_matches(large: bool) -> None:
    """PhraseScan's faster scan (a large vocabulary) and its plain one give regex.finditer's spans
    and regex.search's answer, on texts built to trip boundaries: phrases ending on a symbol with
    another right after, joiners, non-ASCII letters (which are no boundary) and symbols."""
    import random

    from classifier.phrase_scan import PhraseScan, alternation

    phrases = ["rep", "rep 1:1", "aaa+", "a+++", "+1", ".net", "sieu cap", "x-a5", "ốp"]
    if large:
        # Enough opening characters that alternation opens on the boundary and the scan is used.
        phrases += [f"{c}{c}k" for c in "bcdfghjklmnoqtuvwyz"]
    scan = PhraseScan(phrases)
    regex = alternation(phrases)
    assert regex is not None and (scan._ascii is not None) is large
    pieces = [*phrases, " ", " ", "-", ".", "/", "_", "+", ":", "1", "ß", "中", "é", "(", "x", "Q", "rep", "aaa", "k"]
    rng = random.Random(11)
    for _ in range(4000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        expected = [(m.start(), m.end(), m.group()) for m in regex.finditer(text)]
        assert scan.spans(text) == expected, text
        for endpos in (None, 0, rng.randint(0, len(text) + 2)):
            end = len(text) if endpos is None else endpos
            assert scan.found_in(text, endpos) == (regex.search(text, 0, end) is not None), (text, endpos)


def test_the_ascii_spelled_apart_check_answers_as_the_general_one_on_ascii_text() -> None:
    import random

    from classifier import normalize as n

    rng = random.Random(3)
    alphabet = [chr(code) for code in range(128)] + ["n.i.k.e", "a b c", "v - i - n - a", "x"] * 8
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        general = n._MAY_BE_SPELLED_APART.search(text)
        ascii_only = n._MAY_BE_SPELLED_APART_IN_ASCII.search(text)
        assert (general and general.span()) == (ascii_only and ascii_only.span()), repr(text)


def test_longest_first_on_boundaries_matches_as_a_longest_first_alternation() -> None:
    import random
    import re

    from classifier.phrase_scan import longest_first

    words = ["va", "và", "and", "or", "hoac", "hoặc", "a", "an", "a.b", "o-r"]
    regex = longest_first(words, on_boundaries=True)
    ordered = sorted(words, key=len, reverse=True)
    plain = re.compile(r"(?<![^\W_])(?:" + "|".join(re.escape(w) for w in ordered) + r")(?![^\W_])")
    pieces = [*words, " ", ",", ".", "-", "x", "1", "_", "ß"]
    rng = random.Random(2)
    for _ in range(4000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        assert [m.span() for m in regex.finditer(text)] == [m.span() for m in plain.finditer(text)], text


def test_nfc_lower_leaves_single_spaced_text_and_spaces_any_other() -> None:
    import random

    from classifier.normalize import nfc_lower

    # Every whitespace character but the ASCII space is non-printable: the shortcut's premise.
    assert not any(chr(c).isspace() and chr(c).isprintable() for c in range(0x110000) if chr(c) != " ")
    rng = random.Random(4)
    pieces = ["a", "Ố", "b", " ", "  ", "\t", "\n", "\xa0", "\u2003", "\u3000", "\x1c", "\u200b", "x", "1"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 9)))
        assert nfc_lower(text) == " ".join(text.replace("\u200b", "").lower().split()), repr(text)
