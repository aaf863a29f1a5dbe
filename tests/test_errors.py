"""One error model, two front-ends: a domain error names the parameter; the CLI shows the flag, the web the
query parameter (issue 17, item 5)."""

from __future__ import annotations

import pytest

from safeground.errors import InvalidInput, Param, SafeGroundError, as_flag, as_query, render_params
from safeground.risk.grid import Grid
from safeground.safety.buffers import load_buffers
from tests.conftest import run_cli

_BUFFER_HINT_CLI = "e.g. --buffer antipersonnel_mines=100 --buffer accident=75"  # the CLI's words before and after


def test_one_buffer_error_rendered_for_the_cli_and_for_the_web(tmp_path):
    # the command line: the same bytes it printed when the domain wrote "--buffer" itself
    res = run_cli("check", "47.1", "39.6", "--store", str(tmp_path / "none.gpkg"), "--buffer", "mines=x")
    assert res.returncode == 2
    assert res.stderr == (
        "error: 1 problem found; nothing was stored:\n"
        "  --buffer, buffers, field 'mines': not a number of metres (value: 'x')\n"
        f"fix: {_BUFFER_HINT_CLI}\n"
    )
    # the web: the same error from the same domain call, in the API's words, as the response body
    with pytest.raises(InvalidInput) as exc:
        load_buffers(None, ["mines=x"])
    err = exc.value
    assert err.http_status == 422
    assert err.body(as_query) == {
        "code": "invalid_input",
        "message": "1 problem found; nothing was stored:\n  buffer, buffers, field 'mines': not a number of metres"
        " (value: 'x')",
        "hint": "e.g. buffer=antipersonnel_mines=100 buffer=accident=75",
        "parameters": ["buffer"],
    }
    assert err.render_hint(as_flag) == _BUFFER_HINT_CLI


def test_a_parameter_with_underscores_is_a_dashed_flag_and_a_snake_case_query_parameter():
    err = SafeGroundError(f"{Param('top', 1.5)} is not a share", hint=f"choose an earlier {Param('as_of')}")
    assert err.render_message(as_flag) == "--top 1.5 is not a share"
    assert err.render_hint(as_flag) == "choose an earlier --as-of"
    assert err.render_message(as_query) == "top=1.5 is not a share"
    assert err.render_hint(as_query) == "choose an earlier as_of"
    assert str(err) == "top=1.5 is not a share\n  → choose an earlier as_of"  # Python's words: the keywords
    assert err.parameters() == ["top", "as_of"]


def test_text_around_a_reference_is_left_alone():
    # braces, dashes and equals signs in a message are the user's text, not references
    text = f"{{x}} --not-a-param a=b {Param('cell', 25)} {{cell}}"
    assert render_params(text, as_flag) == "{x} --not-a-param a=b --cell 25 {cell}"
    assert render_params("no reference here", as_query) == "no reference here"


def test_a_domain_error_carries_no_cli_flag():
    with pytest.raises(SafeGroundError) as exc:
        Grid.covering((-80, -5, -60, 13), 1)
    assert "--" not in str(exc.value) and exc.value.parameters() == ["cell"]
    assert exc.value.render_hint(as_flag) == "use a larger --cell for a region this size"
