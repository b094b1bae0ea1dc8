"""Mustache rendering (SEMANTICS §2.2, conformance cases 1-4)."""

from __future__ import annotations

from capgen_runtime.expr.templating import lookup, placeholders, render, to_text


def test_missing_values_render_empty() -> None:
    assert render("hello {{name}}/{{missing}}", {"name": "alice"}) == "hello alice/"


def test_empty_scopes_leave_the_template_unchanged() -> None:
    assert render("plain", {}) == "plain"
    assert render("/api/users/{{userId}}/posts", {}) == "/api/users/{{userId}}/posts"


def test_some_parameters_make_missing_ones_empty() -> None:
    template = "/api/{{version}}/users/{{userId}}/posts/{{postId}}"
    assert render(template, {"version": "v1"}) == "/api/v1/users//posts/"
    assert render("{{x}}", {"x": None, "y": 1}) == ""


def test_numbers_repeats_lists_and_unicode() -> None:
    assert render("db{{id}}-{{id}}", {"id": 42}) == "db42-42"
    assert (
        render('{"crewIds": {{crewIds}}}', {"crewIds": ["CREW-001", "CREW-003"]})
        == '{"crewIds": ["CREW-001","CREW-003"]}'
    )
    assert render("{{who}}", {"who": "Lindstrøm"}) == "Lindstrøm"


def test_booleans_dicts_and_floats_render_like_the_engine_deviations() -> None:
    assert (
        render("{{a}} {{b}} {{c}} {{d}}", {"a": True, "b": False, "c": {"k": 1}, "d": 5.0})
        == 'true false {"k":1} 5.0'
    )


def test_dotted_names_look_up_whole_keys_first_then_paths() -> None:
    scope = {"step.region": "whole", "step": {"region": "eu"}, "fetch-profile": {"region": "us"}}
    assert render("{{step.region}}", scope) == "whole"
    assert render("{{fetch-profile.region}}", scope) == "us"
    assert lookup("a.0.b", [{"a": [{"b": 7}]}]) == 7


def test_later_scopes_are_fallbacks() -> None:
    binds = {"CLOUDFLARE_API_KEY": "k", "env": {"CLOUDFLARE_API_KEY": "k"}}
    assert render("Bearer {{env.CLOUDFLARE_API_KEY}}", {"model": "m"}, binds) == "Bearer k"
    assert render("{{model}}", {"model": "caller"}, {"model": "bind"}) == "caller"


def test_sections_inverted_sections_comments_and_spaces() -> None:
    scope = {"items": [{"n": 1}, {"n": 2}], "empty": [], "flag": True}
    assert render("{{#items}}<{{n}}>{{/items}}", scope) == "<1><2>"
    assert render("{{^empty}}none{{/empty}}{{! ignored }}", scope) == "none"
    assert render("{{#flag}}on{{/flag}} {{ flag }}", scope) == "on true"


def test_values_are_never_escaped_or_re_expanded() -> None:
    assert render("{{v}}", {"v": "<b>&{{x}}</b>", "x": "no"}) == "<b>&{{x}}</b>"


def test_single_braces_are_literal_and_placeholders_are_listed() -> None:
    assert render("{x}/{{y}}", {"y": 1}) == "{x}/1"
    assert placeholders("{{a}} {{#b}}{{c}}{{/b}} {{a}}") == ("a", "b", "c")
    assert to_text(None) == ""
