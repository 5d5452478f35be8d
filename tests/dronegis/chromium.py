"""One way to start Debian's headless Chromium (through playwright) for the browser tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@contextmanager
def chromium(profile: Path, **options: Any) -> Iterator[Any]:
    """A persistent headless Chromium context (profile folder ``profile``), closed on exit.

    ``options`` go to playwright's ``launch_persistent_context`` (viewport, accept_downloads, ...).
    A missing browser fails the test: scripts/setup.sh installs it.
    """
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} missing: scripts/setup.sh installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=list(ARGS), **options
        )
        try:
            yield context
        finally:
            context.close()
