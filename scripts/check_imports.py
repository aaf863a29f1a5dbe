"""Check the import graph of ``src/safeground``: no import circle, and no layer importing one above it.

The layers (``docs/architecture.md``), from the bottom up:

* foundation: ``errors``, ``geometry``, ``tabular``, ``compute``, ``figures``: used by
  everything, they import nothing of SafeGround but each other;
* ``model``: the records and their vocabulary;
* ``storage``: the stores (GeoPackage, PostGIS) behind one interface;
* domain packages (``intake``, ``minemaps``, ``risk``, ``safety``, ``routing``, ``reports``, ...,
  and ``outputs``, the guard on every file written);
* ``services``: the orchestration the command line and the server share;
* front-ends: ``cli`` and ``web``.

A layer may import the layers below it and, for domain packages, other domain packages, never
one above it. Every ``import`` statement counts, at module level or inside a function (a
function-level import hides an upward dependency or a circle; it does not remove it), and so do
those under ``if TYPE_CHECKING:``. The graph is of modules as named in the statements: importing
``safeground.intake.features`` is an edge to that module, ``from safeground.model import Accident``
one to ``safeground.model`` (the package's ``__init__``).

A circle is a strongly connected component of more than one module. Run from the repository root::

    python scripts/check_imports.py [--known a.b,c.d ...]

It prints every circle (with one path around it) and every layering violation, and exits 1 if
there is any. ``--known`` names the modules of a circle that is known and accepted for now, and
``--known-import IMPORTING:IMPORTED`` an upward import (the architecture test keeps both lists);
a known circle passes only while it is exactly those modules, and a known one that no longer
exists is reported too, so the lists only ever shrink.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "safeground"

#: the layer of each top-level module or package of ``safeground``, lowest first
LAYERS: dict[str, tuple[str, ...]] = {
    "foundation": ("errors", "geometry", "tabular", "compute", "figures"),
    "model": ("model",),
    "storage": ("storage",),
    "domain": (
        "access",
        "accounts",  # users, roles, sessions, tokens and the audit log, beside the layers
        "casualties",
        "eore",  # risk education: sessions and which settlements to reach next
        "generator",
        "intake",
        "landrelease",
        "minemaps",
        "people",  # victim assistance and the missing (issue 21)
        "outputs",  # every file a command writes, guarded: it knows the store, so it sits above storage
        "quality",  # QA/QC inspections and residual contamination investigations
        "reports",
        "review",  # submissions, their quality flags, the review queue
        "risk",
        "routing",
        "safety",
        "styles",  # the IMSMA symbology as QML, SLD and MapLibre layers
        "sync",
    ),
    "services": ("services",),
    "frontend": ("cli", "web", "__main__"),  # __main__: python -m safeground, the command line
}
ORDER = list(LAYERS)
#: what each layer must not import: every layer above it (domain packages may import each other)
FORBIDDEN: dict[str, set[str]] = {layer: set(ORDER[i + 1 :]) for i, layer in enumerate(ORDER)}


@dataclass(frozen=True)
class Edge:
    source: str  # importing module, e.g. safeground.intake.features
    target: str  # imported module, e.g. safeground.model
    line: int


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = ROOT) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted((root / PACKAGE).rglob("*.py"))}


def _resolve(name: str, known: set[str]) -> str | None:
    """The longest known module that ``name`` is or is inside (``a.b.C`` → ``a.b``)."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def edges(root: Path = ROOT) -> list[Edge]:
    """Every import of a SafeGround module by a SafeGround module, wherever the statement is."""
    found = modules(root)
    known = set(found)
    out: list[Edge] = []
    for mod, path in found.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from the module's own package (or its parents)
                    base = mod.split(".") if is_package else mod.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    prefix = ".".join([*base, node.module] if node.module else base)
                else:
                    prefix = node.module or ""
                # `from pkg import sub` imports the submodule; `from pkg import Name` the package
                targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in known else prefix for a in node.names]
            for t in targets:
                if not t.startswith(PACKAGE + ".") and t != PACKAGE:
                    continue
                target = _resolve(t, known)
                if target is not None and target != mod:
                    out.append(Edge(mod, target, node.lineno))
    return out


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2:
        return "foundation"  # the package's own __init__
    for layer, names in LAYERS.items():
        if parts[1] in names:
            return layer
    return None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterable[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        m = stack.pop()
                        on_stack.discard(m)
                        component.append(m)
                        if m == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
    return sorted(out)


def path_around(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """One circle through the component's first module, as a list of modules (breadth-first)."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if child not in previous:
                    previous[child] = node
                    nxt.append(child)
        frontier = nxt
    return component  # pragma: no cover - a component always has a circle


def check(
    known_cycles: list[set[str]] | None = None,
    known_imports: set[tuple[str, str]] | None = None,
    root: Path = ROOT,
) -> list[str]:
    """Every problem of the import graph, in words; empty when it is clean.

    ``known_cycles`` and ``known_imports`` (importing module, imported module) are accepted for now;
    one that no longer exists is a problem too, so that the allow-list is kept short.
    """
    known_cycles = known_cycles or []
    known_imports = known_imports or set()
    all_edges = edges(root)
    graph: dict[str, set[str]] = {m: set() for m in modules(root)}
    for e in all_edges:
        graph[e.source].add(e.target)
    problems: list[str] = []
    for mod in sorted(graph):
        if layer_of(mod) is None:
            problems.append(f"{mod}: in no layer; add its package to LAYERS in scripts/check_imports.py")
    upward = set()
    for e in sorted(all_edges, key=lambda e: (e.source, e.line)):
        src, dst = layer_of(e.source), layer_of(e.target)
        if src is not None and dst in FORBIDDEN[src]:
            upward.add((e.source, e.target))
            if (e.source, e.target) not in known_imports:
                problems.append(f"layering: {e.source} ({src}) imports {e.target} ({dst}), line {e.line}")
    for a, b in sorted(set(known_imports) - upward):
        problems.append(f"known layering exception {a} → {b} is gone: update the allow-list")
    found = cycles(graph)
    for component in found:
        if set(component) in known_cycles:
            continue
        problems.append(
            f"import circle of {len(component)} modules: {', '.join(component)}\n"
            f"    for example {' → '.join(path_around(component, graph))}"
        )
    for k in known_cycles:
        if k not in [set(c) for c in found]:
            problems.append(f"known circle {', '.join(sorted(k))} is gone or changed: update the allow-list")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--known", action="append", default=[], help="modules of an accepted circle, comma-separated")
    parser.add_argument(
        "--known-import", action="append", default=[], help="an accepted upward import, IMPORTING:IMPORTED"
    )
    args = parser.parse_args(argv)
    known = [{m.strip() for m in k.split(",") if m.strip()} for k in args.known]
    known_imports = {(k.partition(":")[0], k.partition(":")[2]) for k in args.known_import}
    problems = check(known, known_imports)
    for p in problems:
        print(p)
    n_modules = len(modules())
    print(f"{n_modules} modules, {len(problems)} problem(s)" + (f", {len(known)} known circle(s)" if known else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
