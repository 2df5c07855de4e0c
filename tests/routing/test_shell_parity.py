"""The blocking and asyncio shells of `router.connection()` stay twins (issue 15.3).

Every decision lives in `transaction.py`; the two shells only say how an operation is performed.
This test holds them together: each async function, with `async`/`await` and the psycopg async
names mapped to their blocking counterparts, must read exactly as its blocking twin except for
the differences listed here (an API that is a setter in one and a method in the other, the
sleep, and the async shell's wait for the router's first probe round). A change made to one shell
only fails here.
"""

from __future__ import annotations

import difflib
import inspect
import re
import textwrap
from collections.abc import Callable
from typing import Any

import pytest

from advisoros_db.routing import connection as shells

TO_BLOCKING = [
    ("check_role_async", "check_role"),
    ("verify_tenant_async", "verify_tenant"),
    ("AsyncRoutedConnection", "RoutedConnection"),
    ("AsyncConnectionPool", "ConnectionPool"),
    ("psycopg.AsyncConnection", "psycopg.Connection"),
    ("psycopg.AsyncCursor", "psycopg.Cursor"),
    ("__aenter__", "__enter__"),
    ("__aexit__", "__exit__"),
    ("acheckout(", "_checkout("),
    ("_aopen", "_open"),
    ("_aclose", "_close"),
    ("adrive", "drive"),
    ("_async_op", "_sync_op"),
    ("async with", "with"),
    ("async def", "def"),
    ("await ", ""),
]

# (blocking twin, async function, lines only the blocking one has, lines only the async one has)
TWINS: list[tuple[Callable[..., Any], Callable[..., Any], list[str], list[str]]] = [
    (
        shells.RoutedConnection.__enter__,
        shells.AsyncRoutedConnection.__aenter__,
        [],
        [
            "probed = self._probed",
            "if probed is not None and not probed.is_set():",
            "asyncio.to_thread(probed.wait)",
        ],
    ),
    (shells.RoutedConnection.execute, shells.AsyncRoutedConnection.execute, [], []),
    (shells.RoutedConnection._finish, shells.AsyncRoutedConnection._finish, [], []),
    (shells.drive, shells.adrive, [], []),
    (
        shells._open,
        shells._aopen,
        ["conn.read_only = read_only"],
        ["conn.set_read_only(read_only)"],
    ),
    (
        shells._close,
        shells._aclose,
        [
            "conn.autocommit = True",
            "row = conn.execute(CURRENT_LSN_SQL, prepare=False).fetchone()",
            "conn.autocommit = False",
        ],
        [
            "conn.set_autocommit(True)",
            "cursor = conn.execute(CURRENT_LSN_SQL, prepare=False)",
            "row = cursor.fetchone()",
            "conn.set_autocommit(False)",
        ],
    ),
    (
        shells._sync_op,
        shells._async_op,
        ["threading.Event().wait(op.seconds)"],
        ["asyncio.sleep(op.seconds)"],
    ),
]


def _code_lines(func: Callable[..., Any], *, from_async: bool) -> list[str]:
    source = inspect.getsource(func)
    if from_async:
        for old, new in TO_BLOCKING:
            source = source.replace(old, new)
    source = re.sub(r'"""(.|\n)*?"""', "", textwrap.dedent(source))
    lines = (re.sub(r"\s+#.*$", "", line).strip() for line in source.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@pytest.mark.parametrize("twin", TWINS, ids=lambda t: t[0].__name__)
def test_each_async_function_is_its_blocking_twin(
    twin: tuple[Callable[..., Any], Callable[..., Any], list[str], list[str]],
) -> None:
    blocking, asynchronous, only_blocking, only_async = twin
    diff = list(
        difflib.ndiff(
            _code_lines(blocking, from_async=False), _code_lines(asynchronous, from_async=True)
        )
    )
    assert [line[2:] for line in diff if line.startswith("- ")] == only_blocking
    assert [line[2:] for line in diff if line.startswith("+ ")] == only_async
