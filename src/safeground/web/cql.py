"""CQL2 filters (OGC API Features Part 3, basic CQL2) on a layer's public view.

The text and JSON encodings are parsed by pygeofilter, not by hand; the tree is then evaluated
here over the columns of the view a reader may see, so a filter can never select on a value the
response would not show (a filter on a stored exact position, or on a dropped field, would let a
reader find it by bisection). Basic CQL2 only: comparisons, ``AND``/``OR``/``NOT``, ``LIKE``,
``IN``, ``BETWEEN`` and ``IS NULL`` on attribute columns; anything else is refused with a 400 that
says what is supported.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from collections.abc import Callable
from typing import Any

import pandas as pd
from pygeofilter import ast, values
from pygeofilter.util import like_pattern_to_re

from safeground.web.errors import BadParameter

LANGUAGES = ("cql2-text", "cql2-json")
HINT = (
    "basic CQL2: comparisons (=, <>, <, <=, >, >=), AND, OR, NOT, LIKE, IN, BETWEEN, IS NULL on the "
    "collection's queryables (/collections/{id}/queryables), e.g. filter=status='open' AND priority<3"
)
_OPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Equal: operator.eq,
    ast.NotEqual: operator.ne,
    ast.LessThan: operator.lt,
    ast.LessEqual: operator.le,
    ast.GreaterThan: operator.gt,
    ast.GreaterEqual: operator.ge,
}


def parse(text: str, lang: str | None) -> ast.Node:
    """The filter's syntax tree; a 400 naming the problem when it does not parse."""
    lang = (lang or "cql2-text").lower()
    if lang not in LANGUAGES:
        raise BadParameter(f"filter-lang {lang!r} is not supported", hint=f"use one of: {', '.join(LANGUAGES)}")
    try:
        if lang == "cql2-json":
            from pygeofilter.parsers.cql2_json import parse as parse_json

            return parse_json(json.loads(text))
        from pygeofilter.parsers.cql2_text import parse as parse_text

        return parse_text(text)
    except Exception as exc:  # lark and json errors alike: the client's filter is wrong
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadParameter(f"the filter does not parse as {lang}: {first}", hint=HINT) from None


def matches(tree: ast.Node, frame: pd.DataFrame, kinds: dict[str, str]) -> pd.Series:
    """True for the rows of ``frame`` the filter selects. ``kinds`` maps each queryable column to its
    kind (text, integer, real, boolean, date, datetime); a column not in it cannot be filtered on."""
    out = _Evaluator(frame, kinds).eval(tree)
    if not isinstance(out, pd.Series):
        raise BadParameter("the filter compares no column", hint=HINT)
    return out.fillna(False).astype(bool)


class _Evaluator:
    def __init__(self, frame: pd.DataFrame, kinds: dict[str, str]) -> None:
        self.frame, self.kinds = frame, kinds

    def eval(self, node: Any) -> Any:
        if isinstance(node, ast.And):
            return self._cond(node.lhs) & self._cond(node.rhs)
        if isinstance(node, ast.Or):
            return self._cond(node.lhs) | self._cond(node.rhs)
        if isinstance(node, ast.Not):
            return ~self._cond(node.sub_node)
        if isinstance(node, ast.Comparison) and type(node) in _OPS:
            lhs, rhs = self._pair(node.lhs, node.rhs)
            return self._safe(lambda: _OPS[type(node)](lhs, rhs), node)
        if isinstance(node, ast.Between):
            lhs, low = self._pair(node.lhs, node.low)
            _, high = self._pair(node.lhs, node.high)
            res = self._safe(lambda: (lhs >= low) & (lhs <= high), node)
            return ~res if node.not_ else res
        if isinstance(node, ast.Like):
            col = self._column(node.lhs)
            regex = like_pattern_to_re(
                node.pattern, node.nocase, node.wildcard, node.singlechar, node.escapechar or "\\"
            )
            res = col.astype("string").str.match(regex).fillna(False).astype(bool)
            return ~res if node.not_ else res
        if isinstance(node, ast.In):
            col = self._column(node.lhs)
            options = [self._literal(o, self.kinds.get(getattr(node.lhs, "name", ""), "text")) for o in node.sub_nodes]
            res = col.isin(options)
            return ~res if node.not_ else res
        if isinstance(node, ast.IsNull):
            res = self._column(node.lhs).isna()
            return ~res if node.not_ else res
        if isinstance(node, ast.Attribute):
            return self._column(node)
        if isinstance(node, bool | int | float | str | dt.date):
            return node
        raise BadParameter(f"{type(node).__name__} is not part of basic CQL2, which this server supports", hint=HINT)

    def _cond(self, node: Any) -> pd.Series:
        res = self.eval(node)
        if not isinstance(res, pd.Series):
            raise BadParameter("AND, OR and NOT combine conditions, not values", hint=HINT)
        return res.fillna(False).astype(bool)

    def _pair(self, a: Any, b: Any) -> tuple[Any, Any]:
        """Both sides of a comparison, the literal read in the kind of the column it is compared with."""
        kind = next((self.kinds.get(n.name, "text") for n in (a, b) if isinstance(n, ast.Attribute)), "text")
        return self._side(a, kind), self._side(b, kind)

    def _side(self, node: Any, kind: str) -> Any:
        return self._column(node) if isinstance(node, ast.Attribute) else self._literal(node, kind)

    def _column(self, node: Any) -> pd.Series:
        if not isinstance(node, ast.Attribute):
            raise BadParameter("LIKE, IN and IS NULL apply to a queryable", hint=HINT)
        name = node.name
        if name not in self.kinds or name not in self.frame:
            raise BadParameter(
                f"{name!r} is not a queryable of this collection",
                hint=f"queryables: {', '.join(sorted(self.kinds)) or '(none)'}",
            )
        col = self.frame[name]
        kind = self.kinds[name]
        if kind == "date":
            return pd.to_datetime(col, errors="coerce")
        if kind == "datetime":
            return pd.to_datetime(col, errors="coerce", utc=True)
        if kind == "boolean":
            return col.map(lambda v: None if v is None or v != v else bool(v))
        return col

    def _literal(self, node: Any, kind: str) -> Any:
        if isinstance(node, ast.Node | values.Geometry | values.Envelope | values.Interval):
            raise BadParameter(f"{type(node).__name__} is not a value basic CQL2 compares", hint=HINT)
        if kind in ("date", "datetime") and isinstance(node, str | dt.date):
            try:
                t = pd.Timestamp(node)
            except ValueError:
                raise BadParameter(f"{node!r} is not a date", hint="write dates as DATE('2021-03-01')") from None
            if kind == "datetime":
                return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
            return t.tz_localize(None) if t.tzinfo is not None else t
        return node

    def _safe(self, compute: Callable[[], Any], node: Any) -> Any:
        try:
            return compute()
        except TypeError:
            raise BadParameter(
                f"cannot compare in {type(node).__name__}: a value of another type than its column", hint=HINT
            ) from None
