"""One bounded loader for every YAML (and JSON) file SafeGround reads from a user.

``yaml.safe_load`` is safe against code execution but not against size: ten
anchors that each repeat the previous one ten times (a "billion laughs") are a
few hundred bytes that expand to 10¹⁰ values once something walks them, and
``maps traverse``, ``mapping save`` and ``plan priorities --weights`` all walk
what they read. A duplicated key is worse than a crash: YAML silently keeps the
last value, so ``mine_count: 34`` followed by ``mine_count: 3`` stores 3.

So every YAML input goes through :func:`load_yaml`, which refuses, with the
line and the key, before anything is built:

* a file larger than ``max_bytes``;
* more than ``MAX_ALIASES`` aliases, or a document whose expanded size (every
  alias counted as the whole subtree it repeats) exceeds ``MAX_NODES``;
* nesting deeper than ``MAX_DEPTH``;
* a scalar longer than ``MAX_SCALAR`` characters;
* a key repeated in one mapping.

JSON is YAML, but Python's ``json`` module is faster and is what reads JSON
files; :func:`load_json` bounds it the same way (size, depth) and turns the
``RecursionError`` of a 100,000-deep document into a message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from safeground.errors import InvalidInput, Problem

#: a record, a mapping or a weights file is a few kilobytes; 10 MB is generous
MAX_BYTES = 10_000_000
#: anchors are legitimate (a default repeated in a few places), hundreds are not
MAX_ALIASES = 100
#: values in the document once every alias is expanded
MAX_NODES = 200_000
#: nesting of lists and mappings (a traverse record needs 3)
MAX_DEPTH = 64
#: characters in one value (a description, a note)
MAX_SCALAR = 100_000


class _Refused(Exception):
    def __init__(self, line: int | None, field: str, reason: str, value: Any = None) -> None:
        super().__init__(reason)
        self.line, self.field, self.reason, self.value = line, field, reason, value


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, counting aliases and depth while it composes the node graph."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                event = self.peek_event()
                raise _Refused(_line(event), "-", f"more than {MAX_ALIASES} aliases (*name): refused as a YAML bomb")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(_line(self.peek_event()), "-", f"nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_scalar_node(self, anchor: Any) -> ScalarNode:
        event = self.peek_event()
        if len(getattr(event, "value", "") or "") > MAX_SCALAR:
            raise _Refused(_line(event), "-", f"a value longer than {MAX_SCALAR:,} characters")
        return super().compose_scalar_node(anchor)


def _line(mark_holder: Any) -> int | None:
    mark = getattr(mark_holder, "start_mark", None)
    return None if mark is None else mark.line + 1


def _check_graph(root: Node) -> None:
    """Expanded size of the node graph (aliases share nodes, so memoise per node) and repeated keys."""
    size: dict[int, int] = {}
    # iterative post-order walk: a deep document must not exhaust Python's stack here either
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in size:
            continue
        if isinstance(node, ScalarNode):
            size[id(node)] = 1
            continue
        children: list[Node] = []
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            seen: dict[Any, int | None] = {}
            for key, value in node.value:
                if isinstance(key, ScalarNode) and not done:
                    if key.value in seen and key.value != "<<":
                        first = seen[key.value]
                        raise _Refused(
                            _line(key),
                            str(key.value),
                            f"key given twice (also on line {first}): YAML would silently keep the last value",
                            key.value,
                        )
                    seen[key.value] = _line(key)
                children += [key, value]
        if not done:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in size)
            continue
        total = 1 + sum(size.get(id(c), 1) for c in children)
        if total > MAX_NODES:
            raise _Refused(_line(node), "-", f"expands to more than {MAX_NODES:,} values (aliases repeating aliases?)")
        size[id(node)] = total


def _refuse(src: str, reason: str, line: int | None = None, field: str = "-", value: Any = None) -> InvalidInput:
    item = f"line {line}" if line else "file"
    return InvalidInput(
        [Problem(src, item, field, reason, value)],
        hint_text="correct the file: SafeGround reads plain YAML/JSON of a bounded size",
    )


def load_yaml(text: str, src: str, *, max_bytes: int = MAX_BYTES) -> Any:
    """Parse one YAML document from an untrusted file, bounded; ``InvalidInput`` naming line and key."""
    if len(text) > max_bytes:
        raise _refuse(src, f"larger than {max_bytes:,} characters; not a SafeGround input file")
    try:
        loader = _BoundedLoader(text)  # the reader refuses control characters already here
    except yaml.YAMLError as exc:
        raise _refuse(src, f"not valid YAML/JSON: {str(exc).splitlines()[0]}") from None
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_graph(root)
        return loader.construct_document(root)
    except _Refused as exc:
        raise _refuse(src, exc.reason, exc.line, exc.field, exc.value) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        raise _refuse(src, f"not valid YAML/JSON: {str(exc).splitlines()[0]}", line) from None
    except RecursionError:
        raise _refuse(src, f"nested deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()


def load_json(text: str, src: str, *, max_bytes: int | None = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON from an untrusted file: bounded in size and depth, repeated keys refused."""
    if max_bytes is not None and len(text) > max_bytes:
        raise _refuse(src, f"larger than {max_bytes:,} characters; not a SafeGround input file")

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                raise _Refused(None, k, "key given twice in one object: JSON readers disagree on which value wins", k)
            out[k] = v
        return out

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except _Refused as exc:
        raise _refuse(src, exc.reason, None, exc.field, exc.value) from None
    except json.JSONDecodeError as exc:
        raise _refuse(src, f"not JSON (truncated?): {exc.msg}", exc.lineno) from None
    except RecursionError:  # the C decoder stops at Python's recursion limit (about 1,000 levels)
        raise _refuse(src, f"nested deeper than {max_depth} levels") from None
    # the depth Python could still read, without recursion: levels below the limit are refused too
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict | list):
            if level > max_depth:
                raise _refuse(src, f"nested deeper than {max_depth} levels")
            stack.extend((v, level + 1) for v in (value.values() if isinstance(value, dict) else value))
    return data


def read_text(path: str | Path, src: str | None = None, *, max_bytes: int | None = MAX_BYTES) -> str:
    """The text of an input file, decoded as :func:`safeground.intake.textin.decode` says, size-bounded."""
    from safeground.intake.textin import decode

    p = Path(path)
    name = src or p.name
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise _refuse(name, f"cannot be read: {exc.strerror or exc}") from None
    if max_bytes is not None and size > max_bytes:
        raise _refuse(name, f"{size:,} bytes, larger than {max_bytes:,}; not a SafeGround input file")
    return decode(p.read_bytes(), name)


def load_file(path: str | Path, src: str | None = None) -> Any:
    """A YAML or JSON input file by its suffix (anything not .json is read as YAML)."""
    p = Path(path)
    name = src or p.name
    text = read_text(p, name)
    return load_json(text, name) if p.suffix.lower() == ".json" else load_yaml(text, name)
