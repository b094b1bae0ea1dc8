"""The spec guide cannot rot: its examples are real files that build, serve and call upstream.

docs/guide.md shows each docs/examples/*.yaml whole, below a `<!-- example: ... -->` marker; the
shown text must equal the file (`--update-goldens` rewrites the guide's copies). Every example
validates with no warning at all, builds, and answers over REST and MCP, and what reaches the
recording upstream is what the example's text says (the expected requests below are read from
the YAML by hand, not from capgen).
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml
from click.testing import CliRunner

from generator.cli import cli
from generator.migrate import migrate
from generator.spec import eras
from tests.conftest import ROOT
from tests.eras.roundtrip import package
from tests.support.fake_upstream import Answer, FakeUpstream

GUIDE = ROOT / "docs" / "guide.md"
EXAMPLES = ROOT / "docs" / "examples"
_SHOWN = re.compile(r"<!-- example: (\S+) -->\n```yaml\n(.*?)```\n", re.DOTALL)


def test_the_guide_shows_each_example_as_it_is(update_goldens: bool) -> None:
    text = GUIDE.read_text(encoding="utf-8")
    shown = {name: body for name, body in _SHOWN.findall(text)}
    assert set(shown) == {p.relative_to(ROOT).as_posix() for p in EXAMPLES.glob("*.yaml")}
    if update_goldens:
        text = _SHOWN.sub(
            lambda m: f"<!-- example: {m[1]} -->\n```yaml\n{(ROOT / m[1]).read_text()}```\n", text
        )
        GUIDE.write_text(text, encoding="utf-8")
        shown = {name: body for name, body in _SHOWN.findall(text)}
    for name, body in shown.items():
        assert body == (ROOT / name).read_text(encoding="utf-8"), f"{name}: run --update-goldens"


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_each_example_validates_without_a_single_warning(example: str) -> None:
    result = CliRunner().invoke(cli, ["validate", "--warnings-as-errors", str(EXAMPLES / example)])
    assert result.exit_code == 0, result.stderr
    assert "0 error(s), 0 warning(s)" in result.stderr


def test_the_beta5_example_is_the_alpha2_one_migrated(tmp_path: Path) -> None:
    beta5 = (EXAMPLES / "notes.beta5.yaml").read_text(encoding="utf-8")
    migrated = migrate(EXAMPLES / "notes.yaml", eras.BETA5)
    assert migrated.text is not None
    assert yaml.safe_load(migrated.text) == yaml.safe_load(beta5)
    (tmp_path / "notes.yaml").write_text(beta5, encoding="utf-8")  # the same file name
    assert package(tmp_path / "notes.yaml") == package(EXAMPLES / "notes.yaml")


def _mcp(built: Any, *calls: tuple[str, dict[str, Any]]) -> list[Any]:
    async def run() -> list[Any]:
        async with built.mcp() as client:
            return [await client.call_tool(name, arguments) for name, arguments in calls]

    return anyio.run(run)


@pytest.mark.parametrize("example", ["notes.yaml", "notes.beta5.yaml"])
def test_notes_over_rest_and_mcp(example: str, make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    built = make(EXAMPLES / example, env={"NOTES_API_TOKEN": "notes-secret-1"})
    listing = {"items": [{"id": "n1", "title": "Milk", "text": "buy milk", "tags": ["home"]}]}
    upstream.answer(Answer(200, listing), Answer(201, {"id": "n2"}), Answer(200, {"id": "n1"}))
    with built.rest() as client:
        found = client.get("/notes", params={"tag": "home", "limit": "2"})
        made = client.post("/notes", json={"title": "T", "text": "words", "tag": "work"})
        one = client.get("/notes/n1")
    assert found.status_code == 200 and found.json() == [{"id": "n1", "title": "Milk"}]
    assert made.status_code == 201 and one.status_code == 200
    upstream.answer(Answer(200, listing), Answer(200, {"id": "n1"}), Answer(201, {"id": "n3"}))
    results = _mcp(
        built,
        ("search-notes", {"tag": "home"}),
        ("read-note", {"id": "n1"}),
        ("jot", {"text": "hi"}),
    )
    assert not any(r.is_error for r in results), [r.content for r in results]
    seen = [(r.method, r.raw_path, r.query) for r in upstream.requests]
    assert seen == [
        ("GET", "/notes/notes", "tag=home&limit=2"),
        ("POST", "/notes/notes", ""),
        ("GET", "/notes/notes/n1", ""),
        ("GET", "/notes/notes", "tag=home&limit=5"),
        ("GET", "/notes/notes/n1", ""),
        ("POST", "/notes/notes", ""),
    ]
    assert upstream.requests[1].json() == {"title": "T", "text": "words", "tags": ["work"]}
    assert upstream.requests[5].json() == {"title": "Note: hi", "text": "hi", "tags": ["agent"]}
    assert {r.headers["authorization"] for r in upstream.requests} == {"Bearer notes-secret-1"}


SHIPYARD_ENV = {
    "SHIPYARD_FLEET_KEY": "fleet-key-1",
    "SHIPYARD_HR_USER": "ann",
    "SHIPYARD_HR_PASSWORD": "pw-hr-1",
}


def test_shipyard_steps_aggregates_and_credentials(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    built = make(EXAMPLES / "shipyard.yaml", env=SHIPYARD_ENV)
    ship = {"name": "Northern Star", "crewIds": ["p1", "p3"]}
    people = [
        {"id": "p1", "name": "Ann", "role": "captain"},
        {"id": "p2", "name": "Bo", "role": "cook"},
        {"id": "p3", "name": "Cy", "role": "engineer"},
    ]
    upstream.answer(Answer(200, ship), Answer(200, people), Answer(200, ship))
    with built.rest() as client:
        crew = client.get("/ships/IMO-9/crew")
        card = client.get("/ships/IMO-9/card")
    assert crew.status_code == 200, crew.text
    assert crew.json() == {
        "ship": "Northern Star",
        "crew": [{"name": "Ann", "role": "captain"}, {"name": "Cy", "role": "engineer"}],
    }
    assert card.json() == {"name": "Northern Star", "crew": ["p1", "p3"]}
    fleet, hr, again = upstream.requests
    # FLEET_BASE_URL (the fake upstream + /fleet) replaces the whole baseUri, /v2 included
    assert (fleet.raw_path, fleet.headers["x-api-key"]) == ("/fleet/ships/IMO-9", "fleet-key-1")
    assert again.raw_path == "/fleet/ships/IMO-9"
    assert hr.raw_path == "/hr/people"
    assert hr.headers["authorization"] == "Basic " + base64.b64encode(b"ann:pw-hr-1").decode()


def test_shipyard_mcp_tools_resources_prompts_and_mocks(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    built = make(EXAMPLES / "shipyard.yaml", env=SHIPYARD_ENV)
    ship = {"name": "Northern Star", "crewIds": ["p1"]}
    upstream.answer(Answer(200, ship), Answer(200, [{"id": "p1"}]))

    async def run() -> tuple[Any, ...]:
        async with built.mcp() as client:
            card = await client.call_tool("ship-card", {"imo": "IMO-9"})
            status = await client.call_tool("yard-status", {})
            people = await client.read_resource("data://shipyard/people")
            prompt = await client.get_prompt("crew-briefing", {"ship": "Star", "topic": "fog"})
            return card, status, people, prompt

    card, status, people, prompt = anyio.run(run)
    assert json.loads(card.content[0].text) == {"name": "Northern Star", "crew": ["p1"]}
    assert json.loads(status.content[0].text) == {"status": "open", "opens": "07:00"}
    assert json.loads(people.contents[0].text) == [{"id": "p1"}]
    assert (
        prompt.messages[0].content.text == "Write a short briefing for the crew of Star about fog."
    )
    assert [r.raw_path for r in upstream.requests] == ["/fleet/ships/IMO-9", "/hr/people"]


def test_nothing_in_the_repository_links_outside_it() -> None:
    """Markdown links and `../` paths in the repository's own Markdown (third-party corpus text
    aside) resolve to files inside it."""
    link = re.compile(r"\]\(([^)#\s]+)[^)]*\)|(?<![\w/.])(\.\./[\w./-]*\w)")
    skipped = {".venv", ".nox", ".cache", "node_modules", ".git", "shared-corpus"}
    documents = [p for p in ROOT.rglob("*.md") if not skipped & set(p.relative_to(ROOT).parts)]
    documents = [p for p in documents if "corpus" not in p.relative_to(ROOT).parts[2:3]]
    outside = []
    for document in documents:
        for match in link.finditer(document.read_text(encoding="utf-8")):
            target = match[1] or match[2]
            if re.match(r"[a-z]+:", target):
                continue  # a URL
            resolved = (document.parent / target).resolve()
            if not resolved.is_relative_to(ROOT.resolve()) or not resolved.exists():
                outside.append(f"{document.relative_to(ROOT)}: {target}")
    assert len(documents) > 5 and outside == []


def test_the_shipped_schemas_are_linked_and_agree_with_themselves_on_call() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    for schema in sorted((ROOT / "generator" / "data").glob("*.schema.json")):
        assert f"../generator/data/{schema.name}" in guide
        nodes = list(_nodes(json.loads(schema.read_text(encoding="utf-8"))))
        calls = [
            n["call"] for n in nodes if isinstance(n, dict) and isinstance(n.get("call"), dict)
        ]
        patterns = {c["pattern"] for c in calls if "pattern" in c}
        assert len(patterns) == 1
        pattern = re.compile(patterns.pop())
        texts = [n for n in nodes if isinstance(n, str)]
        shown = [x for text in texts for x in re.findall(r"`call: ([^`]+)`", text)]
        shown += [x for text in texts for x in re.findall(r"E\.g\.: (\S+) or (\S+)", text)[0:1]]
        examples = [e for item in shown for e in ([item] if isinstance(item, str) else item)]
        assert examples and all(pattern.match(e) for e in examples), examples


def _nodes(node: Any) -> Any:
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        yield from _nodes(child)


def test_the_walk_through_quotes_what_capgen_says() -> None:
    """Each message the guide quotes is in the golden output of its case (tests/test_errors.py
    checks those goldens against the real command)."""
    cases = ROOT / "tests" / "errors" / "cases"
    said = "".join(
        (cases / c / "expected.txt").read_text() for c in ("guide-first-try", "guide-second-try")
    )
    quoted = re.findall(r"^spec\.yaml:\d+:\d+: (?:error|warning)\[.*$", GUIDE.read_text(), re.M)
    assert len(quoted) == 6 and all(line in said.splitlines() for line in quoted)
