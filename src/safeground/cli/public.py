"""``safeground public-info``: the safety rules and emergency numbers the public returnee page shows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from safeground.cli.common import StoreOpt, console

public_app = typer.Typer(help="The safety rules and emergency numbers shown on the public page (/safe/).",
                         no_args_is_help=True)  # fmt: skip


def _print(info: dict[str, Any]) -> None:
    console.print(f"authority: {info['authority'] or '(not set)'}", highlight=False)
    numbers = info["emergency"]
    console.print("emergency numbers: " + (", ".join(f"{e['name']} {e['number']}" for e in numbers) or "(not set)"),
                  highlight=False)  # fmt: skip
    for lang, rules in info["rules"].items():
        console.print(f"rules ({lang}): " + (f"{len(rules)}" if rules else "(not set: the page shows its own)"))
        for r in rules:
            console.print(f"  • {r}", highlight=False)


@public_app.command("set")
def set_info(
    store: StoreOpt = "demo.gpkg",
    emergency: Annotated[
        list[str] | None, typer.Option(help="An emergency number, NAME=NUMBER (repeat), e.g. 'Emergency=112'.")
    ] = None,
    rules: Annotated[
        Path | None,
        typer.Option(help="YAML or JSON file of safety rules per language: {az: [...], ru: [...], en: [...]}."),
    ] = None,
    authority: Annotated[str | None, typer.Option(help="Who sets them, as the page names it.")] = None,
    clear: Annotated[bool, typer.Option(help="Forget what was set before.")] = False,
) -> None:
    """Set what the public page shows on every screen: safety rules, emergency numbers, the authority."""
    from safeground.services.public import set_public_info

    _print(set_public_info(store, rules=rules, emergency=emergency or (), authority=authority, clear=clear))


@public_app.command("show")
def show_info(store: StoreOpt = "demo.gpkg") -> None:
    """Show the safety rules and emergency numbers the public page shows."""
    from safeground.services.public import show_public_info

    _print(show_public_info(store))
