"""`prelayout` gives black its own layout, so black's single pass changes nothing.

black formats a file twice whenever its first pass changed something; for a package of
thousands of operations that second pass is most of the build. These tests pin the two
promises: laying out never changes what black produces, and what the templates render is,
after laying out, already black's output.
"""

from __future__ import annotations

from pathlib import Path

import black
import pytest

from generator import pipeline
from generator.diagnostics import render_text
from generator.format import black_mode, laid_out
from generator.render import render
from generator.targets.package import plan
from tests.conftest import SEED_SPEC

SAMPLE = Path(__file__).parents[1] / "data" / "corpus"

STATEMENTS = [
    "X = Operation('ns', 'op', 'GET', '/a', parameters=(Parameter('a', 'path', required=True), Parameter('b', 'query')), outputs=(Output('object', mapping='$.'),))\n",
    "X = (A, B)\n",
    "X = (\nA,\nB,\n)\n",
    "X = Call(client.X, with_=(With('a', ref='rest.a'), With('body', ref='rest.body'), With('id', value=1)))\n",
    "X = Input('model', required=True, description='The model identifier to execute, e.g. @cf/meta/llama-3.1-8b-instruct and more')\n",
    "X = f(g(h('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb')))\n",
    "X = {'read_only_hint': False, 'destructive_hint': False, 'idempotent_hint': False, 'open_world_hint': True}\n",
    "X = Thing('" + "x" * 120 + "')\n",
    "X = Thing(name='" + "x" * 120 + "', other=1)\n",
    "VERY_LONG_NAME_"
    + "X" * 90
    + " = Route(name='n', endpoint=Endpoint('e', call=Call(client.Y)))\n",
    'X = [1, 2.5, -3, None, True, \'it\\\'s "q"\', "plain"]\n',
    "X = Tuple((), [], {}, (1,), [1,], f(a,), 'padding to make this line longer than black allows it')\n",
    "X = Thing(*client.OPERATIONS, key='value')\n",
    "from . import (\n    alpha,\n    beta,\n)\n",
    "from . import (alpha, beta)\n",
    "from . import client_alpha_beta_gamma, client_delta_epsilon_zeta, client_eta_theta, mcp_server, rest\n",
    "class C:\n    async def m(self, a):\n        return await self.call(OPERATION_NAME, {'account_id': account_id, 'model': model, 'body': body, 'x': x})\n",
    "X = Thing(a=1)  # a comment that must stay\n",
    "X = Thing(\n    a=1,  # inside\n    b=2,\n)\n",
    "X = 'implicit' 'concatenation'\n",
    "X = b'bytes'\n",
    "X = 0XFF\n",
]


def _black(source: str) -> str:
    return black.format_str(source, mode=black_mode())


@pytest.mark.parametrize("source", STATEMENTS)
def test_laying_out_never_changes_blacks_output(source: str) -> None:
    assert _black(laid_out(source)) == _black(source)


@pytest.mark.parametrize(
    "source", [s for s in STATEMENTS if len(s) > 100 and "#" not in s and "'implicit'" not in s]
)
def test_long_data_statements_come_out_in_blacks_layout(source: str) -> None:
    """Statements already on one short line are left as written: templates write those."""
    laid = laid_out(source)
    assert laid == _black(laid)


def _specs() -> list[Path]:
    return [SEED_SPEC, *sorted(SAMPLE.rglob("*.yaml"))]


@pytest.mark.parametrize("spec", _specs(), ids=lambda p: p.stem)
def test_rendered_packages_need_one_black_pass(spec: Path) -> None:
    result = pipeline.validate(spec)
    if result.package is None:
        pytest.fail(render_text(result.diagnostics))
    for file in plan(result.package):
        if file.template is None or not file.is_python:
            continue
        laid = laid_out(render(file))
        assert _black(laid) == laid, f"{file.path}: black would still change the rendered text"
