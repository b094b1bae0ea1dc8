"""The YAML loader's locations and the naming pass."""

from __future__ import annotations

from pathlib import Path

from generator.diagnostics import Diagnostics
from generator.loader import parse_text
from generator.semantics import naming


def load(text: str):  # type: ignore[no-untyped-def]
    diagnostics = Diagnostics()
    return parse_text(text, Path("s.yaml"), diagnostics, "s.yaml"), diagnostics


def test_locations_of_values_and_keys() -> None:
    document, diagnostics = load("a:\n  b:\n    - x\n    - {c: 1}\n")
    assert not diagnostics.items
    assert document.data == {"a": {"b": ["x", {"c": 1}]}}
    assert document.locations.span(("a", "b", 1, "c")) == ("s.yaml", 4, 11)
    assert document.locations.key_span(("a", "b")) == ("s.yaml", 2, 3)
    assert document.locations.span(("a", "nope", 3)) == ("s.yaml", 2, 3)


def test_scalars_keep_yaml_types_but_dates_stay_text() -> None:
    document, _ = load("i: 010\nf: 1.5\nb: true\nn: ~\nd: 2026-05-19\ns: '5'\n")
    assert document.data == {"i": 8, "f": 1.5, "b": True, "n": None, "d": "2026-05-19", "s": "5"}


def test_duplicate_keys_and_anchors() -> None:
    document, diagnostics = load(
        "base: &b {x: 1}\nuse: *b\nmerged:\n  <<: *b\n  y: 2\nuse: again\n"
    )
    assert document.data["merged"] == {"x": 1, "y": 2}
    (duplicate,) = diagnostics.items
    assert (duplicate.code, duplicate.span.line, duplicate.span.col) == ("E008", 6, 1)


def test_identifiers() -> None:
    assert naming.identifier("from") == "from_"
    assert naming.identifier("id") == "id_"
    assert naming.identifier("filter[x]") == "filter_x"
    assert naming.identifier("$top") == "top"
    assert naming.identifier("@x.y-z") == "x_y_z"
    assert naming.identifier("3d") == "value_3d"
    assert naming.identifier("listStories") == "list_stories"
    assert naming.constant("get-article") == "GET_ARTICLE"
    assert naming.pascal("workers-ai-ai-inference") == "WorkersAiAiInference"
    assert naming.module_name("3d-secure") == "cap_3d_secure"


def test_names_from_other_alphabets_and_leading_digits() -> None:
    assert naming.identifier("café") == "cafe"
    assert naming.constant("Straße-Übersicht") == "STRASSE_UBERSICHT"
    assert naming.identifier("日本", "param") == "param"
    assert naming.constant("1st-op", "OPERATION") == "OPERATION_1ST_OP"
    assert naming.constant("2fa") == "VALUE_2FA"
    assert naming.identifier("2nd-items", "operation") == "operation_2nd_items"
    for name in ("1st-op", "2fa", "café", "日本", "__init__", "$top"):
        assert naming.constant(name).isidentifier()
        assert naming.identifier(name).isidentifier()
        assert naming.pascal(name).isidentifier()
        assert naming.module_name(name).isidentifier()


def test_collisions_get_numbered_suffixes_in_order() -> None:
    assert naming.unique(["a", "b", "a", "a"], taken={"b"}) == ["a", "b_2", "a_2", "a_3"]


def test_normalise() -> None:
    assert (
        naming.normalise("account-id")
        == naming.normalise("account_id")
        == naming.normalise("accountId")
    )


def test_a_huge_tagged_integer_is_a_located_error() -> None:
    _, diagnostics = load("a: 1\nb: !!int " + "9" * 5000 + "\n")
    (error,) = [d for d in diagnostics.items if d.severity == "error"]
    assert (error.code, error.span.line, error.span.col) == ("E009", 2, 4)


def test_spec_files_are_read_only_when_regular_and_bounded(tmp_path: Path) -> None:
    from generator.loader import load_document

    for target in (Path("/dev/zero"), tmp_path, Path(str(tmp_path) + "/x\x00y.yaml")):
        diagnostics = Diagnostics()
        assert load_document(target, diagnostics, "s.yaml") is None
        (error,) = diagnostics.items
        assert error.code == "E001", error.message


def test_long_names_make_short_deterministic_modules() -> None:
    module, renamed = naming.package_module("a" * 240)
    assert len(module) == naming.MAX_MODULE and not renamed
    assert module == naming.package_module("a" * 240)[0]
    assert module != naming.package_module("a" * 239)[0]
