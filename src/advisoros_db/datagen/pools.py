"""Pools of realistic names and words drawn from Faker once per seed, then sampled by index.

Calling Faker per row costs tens of microseconds; sampling a pre-built pool costs well under one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from faker import Faker

POOL = 2_000

# Phrases of a CPA practice, mixed into free text so searches for them find real rows.
PRACTICE_PHRASES: tuple[str, ...] = (
    "Reconcile payroll accounts for the quarter",
    "Prepare amended return after the K-1 arrived late",
    "Request penalty abatement for the late filing notice",
    "Client asked about cryptocurrency gains and wash sales",
    "Missing signature on the engagement letter",
    "Update the depreciation schedule for new equipment",
    "Review cash flow forecast with the owner",
    "Send organizer and document checklist to the client",
    "Follow up on IRS notice CP2000",
    "File quarterly estimated tax payments",
    "Reconcile bank statements and credit card accounts",
    "Prepare 1099-NEC filings for contractors",
    "Book year-end adjusting entries",
    "Sales tax nexus review for new states",
    "Extension filed; gather remaining brokerage statements",
)


@dataclass(frozen=True)
class Pools:
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    companies: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[str, ...]
    states: tuple[str, ...]
    sentences: tuple[str, ...]
    words: tuple[str, ...]
    user_agents: tuple[str, ...]
    banks: tuple[str, ...]

    @classmethod
    def build(cls, seed: int) -> Pools:
        fake = Faker("en_US")
        fake.seed_instance(seed)
        return cls(
            first_names=tuple(fake.first_name() for _ in range(POOL // 4)),
            last_names=tuple(fake.last_name() for _ in range(POOL // 4)),
            # A few fixed names the query catalog searches for, among the generated ones.
            companies=tuple(
                f"Zephyr {fake.last_name()}" if i % 97 == 0 else fake.company() for i in range(POOL)
            ),
            streets=tuple(fake.street_address() for _ in range(POOL // 4)),
            cities=tuple(fake.city() for _ in range(POOL // 8)),
            states=tuple(fake.state_abbr() for _ in range(60)),
            sentences=tuple(
                f"{PRACTICE_PHRASES[i % len(PRACTICE_PHRASES)]}. {fake.sentence(nb_words=8)}"
                if i % 4 == 0
                else fake.sentence(nb_words=12)
                for i in range(POOL)
            ),
            words=tuple(dict.fromkeys(fake.word() for _ in range(POOL))),
            user_agents=tuple(fake.user_agent() for _ in range(50)),
            banks=(
                "First National Bank",
                "Chase",
                "Wells Fargo",
                "Bank of America",
                "US Bank",
                "PNC Bank",
                "Truist",
                "Citizens Bank",
            ),
        )


def pick(rng: np.random.Generator, pool: tuple[str, ...], n: int) -> list[str]:
    return [pool[i] for i in rng.integers(0, len(pool), n)]
