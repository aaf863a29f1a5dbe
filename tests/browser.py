"""A real browser for the tests: Debian's chromium driven by Playwright, with no network.

Playwright's own browser download is never used (``executable_path``); every request that does
not go to 127.0.0.1 is aborted and recorded, so a page that would fetch from a CDN fails its test
instead of quietly working on a developer's machine with internet.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = os.environ.get("SAFEGROUND_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
#: software WebGL (SwiftShader): MapLibre needs WebGL and CI machines have no GPU
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--disable-dev-shm-usage"]  # fmt: skip


def chromium_problem() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"no chromium at {CHROMIUM} (Debian package chromium; scripts/setup-system.sh installs it)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


@contextmanager
def offline_page(**context: Any) -> Iterator[tuple[Any, list[str]]]:
    """(page, blocked): a fresh page whose requests off 127.0.0.1 are aborted and listed in ``blocked``."""
    problem = chromium_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {problem}")
        pytest.skip(f"browser tests did NOT run: {problem}")
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ctx = browser.new_context(**context)

        def guard(route: Any) -> None:
            url = route.request.url
            if url.startswith(("http://127.0.0.1", "data:", "blob:")):
                route.continue_()
            else:
                blocked.append(url)
                route.abort()

        ctx.route("**/*", guard)
        page = ctx.new_page()
        try:
            yield page, blocked
        finally:
            ctx.close()
            browser.close()


def add_accounts(
    location: str, organisations: dict[str, str], users: dict[str, tuple[str, str]], password: str
) -> None:
    """The test's organisations (acronym → type) and users (login → (organisation, role)) in a store, each user
    with `password`; an organisation the store already holds is kept as it is."""
    from safeground.services import accounts as acc_svc

    for acronym, kind in organisations.items():
        if not [o for o in acc_svc.organisations(location) if o.acronym == acronym]:
            acc_svc.add_organisation(location, f"Org {acronym}", kind, acronym=acronym, actor="setup")
    for name, (org, role) in users.items():
        acc_svc.add_user(location, name, full_name=name, organisation=org, role=role, password=password, actor="setup")


def log_in(page: Any, url: str, user: str, password: str, then: str) -> None:
    """Log in through the workspace's own form, as a person does, and wait for the page it leads to."""
    page.goto(f"{url}/workspace/login?next={then}")
    page.fill("#sg-username", user)
    page.fill("#sg-password", password)
    page.click("#sg-login-submit")
    page.wait_for_url(f"{url}{then}*", timeout=30_000)
