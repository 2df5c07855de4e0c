"""A pytest plugin: the passwords of the test servers never appear in a test report.

Failure output shows fixture values, assertion operands, locals (`-l`) and captured output, any of
which may hold a URL with a password; each registered secret is replaced by `***` in all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest

_SECRETS: set[str] = set()


def register(*secrets: str | None) -> None:
    """Scrub these secrets (and their percent-encoded forms) from every report from now on."""
    for secret in secrets:
        if secret:
            _SECRETS.update({secret, quote(secret, safe="")})


def scrub(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if not _SECRETS:
        return
    if report.longrepr is not None:
        text = str(report.longrepr)
        if any(secret in text for secret in _SECRETS):
            report.longrepr = scrub(text)
    report.sections = [(title, scrub(content)) for title, content in report.sections]
