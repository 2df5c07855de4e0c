"""Extracted text and structured data for the kinds of documents a CPA firm receives.

Each kind renders many documents at once: every value is drawn as an array for all of them, and
only the final formatting runs per document. The structured data is written as JSON text directly
(vocabulary strings escaped once per vocabulary, numbers as Python prints them, which is what
`json.dumps` writes), ready for binary COPY as jsonb.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from advisoros_db.datagen.pools import Pools

# texts, and each one's extracted data as JSON text
Rendered = tuple[list[str], list[str]]
Render = Callable[[np.random.Generator, Pools, Sequence[str], Sequence[int]], Rendered]


@dataclass(frozen=True)
class DocKind:
    """One kind of document: its category, file name pattern and extracted-text template."""

    form: str
    category: str
    weight: float
    render: Render


@lru_cache(maxsize=64)
def escaped(values: tuple[str, ...]) -> tuple[str, ...]:
    """Each value as it appears inside a JSON string."""
    return tuple(json.dumps(v)[1:-1] for v in values)


def _people(rng: np.random.Generator, p: Pools, m: int) -> tuple[list[str], list[str]]:
    """Person names and the same names JSON-escaped."""
    first, last = p.first_names, p.last_names
    f_esc, l_esc = escaped(first), escaped(last)
    fi = rng.integers(0, len(first), m).tolist()
    li = rng.integers(0, len(last), m).tolist()
    return (
        [f"{first[a]} {last[b]}" for a, b in zip(fi, li, strict=True)],
        [f"{f_esc[a]} {l_esc[b]}" for a, b in zip(fi, li, strict=True)],
    )


def _addresses(rng: np.random.Generator, p: Pools, m: int) -> list[str]:
    street = rng.integers(0, len(p.streets), m).tolist()
    city = rng.integers(0, len(p.cities), m).tolist()
    state = rng.integers(0, len(p.states), m).tolist()
    zips = rng.integers(10000, 99999, m).tolist()
    s, c, t = p.streets, p.cities, p.states
    return [
        f"{s[a]}, {c[b]}, {t[d]} {z}" for a, b, d, z in zip(street, city, state, zips, strict=True)
    ]


def _eins(rng: np.random.Generator, m: int) -> list[str]:
    a = rng.integers(10, 99, m).tolist()
    b = rng.integers(1000000, 9999999, m).tolist()
    return [f"{x}-{y}" for x, y in zip(a, b, strict=True)]


def _money(values: np.ndarray) -> list[float]:
    return list(np.round(values, 2).tolist())


def _w2(
    rng: np.random.Generator, p: Pools, clients: Sequence[str], years: Sequence[int]
) -> Rendered:
    m = len(clients)
    wages_a = np.round(rng.lognormal(11, 0.5, m), 2)
    wages, fed = _money(wages_a), _money(wages_a * rng.uniform(0.08, 0.22, m))
    people, people_j = _people(rng, p, m)
    eins, addresses = _eins(rng, m), _addresses(rng, p, m)
    texts = [
        f"Form W-2 Wage and Tax Statement {y}. Employer: {c}, EIN {e}, {a}. Employee: {n}. "
        f"Box 1 Wages, tips, other compensation ${w:,.2f}. Box 2 Federal income tax withheld "
        f"${f:,.2f}. Box 3 Social security wages ${w:,.2f}. Box 4 Social security tax withheld "
        f"${w * 0.062:,.2f}. Box 5 Medicare wages and tips ${w:,.2f}. Box 6 Medicare tax withheld "
        f"${w * 0.0145:,.2f}."
        for y, c, e, a, n, w, f in zip(
            years, clients, eins, addresses, people, wages, fed, strict=True
        )
    ]
    data = [
        f'{{"form":"W-2","wages":{w!r},"federal_withholding":{f!r},"employee":"{n}"}}'
        for w, f, n in zip(wages, fed, people_j, strict=True)
    ]
    return texts, data


def _nec(
    rng: np.random.Generator, p: Pools, clients: Sequence[str], years: Sequence[int]
) -> Rendered:
    m = len(clients)
    amounts = _money(rng.lognormal(9.5, 0.9, m))
    payees, payees_j = _people(rng, p, m)
    eins, addresses = _eins(rng, m), _addresses(rng, p, m)
    texts = [
        f"Form 1099-NEC Nonemployee Compensation {y}. Payer: {c}, TIN {e}. Recipient: {n}, {a}. "
        f"Box 1 Nonemployee compensation ${v:,.2f}. Box 4 Federal income tax withheld $0.00. "
        f"Contractor services rendered during {y}."
        for y, c, e, n, a, v in zip(years, clients, eins, payees, addresses, amounts, strict=True)
    ]
    data = [
        f'{{"form":"1099-NEC","nonemployee_compensation":{v!r},"recipient":"{n}"}}'
        for v, n in zip(amounts, payees_j, strict=True)
    ]
    return texts, data


def _k1(
    rng: np.random.Generator, p: Pools, clients: Sequence[str], years: Sequence[int]
) -> Rendered:
    m = len(clients)
    income = _money(rng.normal(40_000, 30_000, m))
    share = _money(rng.uniform(1, 60, m))
    partners, partners_j = _people(rng, p, m)
    eins = _eins(rng, m)
    texts = [
        f"Schedule K-1 (Form 1065) Partner's Share of Income, Deductions, Credits {y}. "
        f"Partnership: {c}, EIN {e}. Partner: {n}, profit share {s}%. Line 1 Ordinary business "
        f"income (loss) ${i:,.2f}. Line 19 Distributions ${abs(i) * 0.4:,.2f}. Capital account "
        f"analysis: beginning, contributions, ending."
        for y, c, e, n, s, i in zip(years, clients, eins, partners, share, income, strict=True)
    ]
    data = [
        f'{{"form":"K-1","ordinary_income":{i!r},"profit_share":{s!r},"partner":"{n}"}}'
        for i, s, n in zip(income, share, partners_j, strict=True)
    ]
    return texts, data


def _letter(
    rng: np.random.Generator, p: Pools, clients: Sequence[str], years: Sequence[int]
) -> Rendered:
    m = len(clients)
    fees = (rng.integers(15, 250, m) * 100).tolist()
    closing = rng.integers(0, len(p.sentences), m).tolist()
    signed = (rng.random(m) < 0.8).tolist()
    texts = [
        f"Engagement Letter for tax year {y}. This letter confirms that {c} engages our firm to "
        f"prepare federal and state income tax returns and provide bookkeeping review. Fees are "
        f"estimated at ${f:,} payable on invoice, net 30 days. The client is responsible for the "
        f"completeness of records provided. {p.sentences[k]}"
        for y, c, f, k in zip(years, clients, fees, closing, strict=True)
    ]
    data = [
        f'{{"form":"engagement_letter","estimated_fee":{f},"signed":{"true" if s else "false"}}}'
        for f, s in zip(fees, signed, strict=True)
    ]
    return texts, data


def _bank(
    rng: np.random.Generator, p: Pools, clients: Sequence[str], years: Sequence[int]
) -> Rendered:
    m = len(clients)
    months = rng.integers(1, 13, m).tolist()
    opening_a = np.round(rng.lognormal(10, 1, m), 2)
    deposits_a = np.round(rng.lognormal(9.5, 1, m), 2)
    withdrawals_a = np.round(rng.lognormal(9.3, 1, m), 2)
    closing = _money(opening_a + deposits_a - withdrawals_a)
    opening, deposits, withdrawals = _money(opening_a), _money(deposits_a), _money(withdrawals_a)
    banks = rng.integers(0, len(p.banks), m).tolist()
    accounts = rng.integers(1000, 9999, m).tolist()
    b_esc = escaped(p.banks)
    texts = [
        f"{p.banks[b]} business checking account statement {y}-{mo:02d} for {c}. Account ending "
        f"{a}. Opening balance ${o:,.2f}. Total deposits ${d:,.2f}. Total withdrawals ${w:,.2f}. "
        f"Closing balance ${z:,.2f}. Payroll, ACH transfer, wire, card purchases."
        for b, y, mo, c, a, o, d, w, z in zip(
            banks,
            years,
            months,
            clients,
            accounts,
            opening,
            deposits,
            withdrawals,
            closing,
            strict=True,
        )
    ]
    data = [
        f'{{"form":"bank_statement","bank":"{b_esc[b]}","month":{mo},"closing_balance":{z!r}}}'
        for b, mo, z in zip(banks, months, closing, strict=True)
    ]
    return texts, data


EXPENSES = ("office supplies", "travel", "meals", "software", "equipment")


def _receipt(
    rng: np.random.Generator, p: Pools, clients: Sequence[str], years: Sequence[int]
) -> Rendered:
    m = len(clients)
    vendors = rng.integers(0, len(p.companies), m).tolist()
    totals = _money(rng.lognormal(4.5, 1.1, m))
    kinds = rng.integers(0, len(EXPENSES), m).tolist()
    addresses = _addresses(rng, p, m)
    months, days = rng.integers(1, 13, m).tolist(), rng.integers(1, 29, m).tolist()
    v_esc = escaped(p.companies)
    texts = [
        f"Receipt from {p.companies[v]}, {a}. Date {y}-{mo:02d}-{d:02d}. Billed to {c}. Expense "
        f"category: {EXPENSES[k]}. Subtotal ${t * 0.92:,.2f}, sales tax ${t * 0.08:,.2f}, total "
        f"${t:,.2f}."
        for v, a, y, mo, d, c, k, t in zip(
            vendors, addresses, years, months, days, clients, kinds, totals, strict=True
        )
    ]
    data = [
        f'{{"form":"receipt","vendor":"{v_esc[v]}","total":{t!r},"expense_category":"{EXPENSES[k]}"}}'
        for v, t, k in zip(vendors, totals, kinds, strict=True)
    ]
    return texts, data


def _invoice(
    rng: np.random.Generator, p: Pools, clients: Sequence[str], years: Sequence[int]
) -> Rendered:
    m = len(clients)
    vendors = rng.integers(0, len(p.companies), m).tolist()
    totals = _money(rng.lognormal(7.5, 1, m))
    addresses = _addresses(rng, p, m)
    v_esc = escaped(p.companies)
    texts = [
        f"Vendor invoice from {p.companies[v]} to {c}, invoice date {y}. Professional services, "
        f"net 30. Amount due ${t:,.2f}. Remit to {a}."
        for v, c, y, t, a in zip(vendors, clients, years, totals, addresses, strict=True)
    ]
    data = [
        f'{{"form":"vendor_invoice","vendor":"{v_esc[v]}","amount_due":{t!r}}}'
        for v, t in zip(vendors, totals, strict=True)
    ]
    return texts, data


def _return(
    rng: np.random.Generator, p: Pools, clients: Sequence[str], years: Sequence[int]
) -> Rendered:
    m = len(clients)
    revenue_a = np.round(rng.lognormal(13, 1, m), 2)
    revenue, taxable = _money(revenue_a), _money(revenue_a * rng.uniform(0.05, 0.3, m))
    texts = [
        f"Form 1120-S U.S. Income Tax Return for an S Corporation {y}. Name: {c}. Gross receipts "
        f"or sales ${r:,.2f}. Ordinary business income ${t:,.2f}. Officer compensation, salaries "
        f"and wages, rents, taxes and licenses, depreciation."
        for y, c, r, t in zip(years, clients, revenue, taxable, strict=True)
    ]
    data = [
        f'{{"form":"1120-S","gross_receipts":{r!r},"ordinary_income":{t!r}}}'
        for r, t in zip(revenue, taxable, strict=True)
    ]
    return texts, data


KINDS: tuple[DocKind, ...] = (
    DocKind("W-2", "w2", 0.2, _w2),
    DocKind("1099-NEC", "1099", 0.14, _nec),
    DocKind("K-1", "k1", 0.08, _k1),
    DocKind("1120-S", "tax_return", 0.06, _return),
    DocKind("engagement-letter", "contract", 0.07, _letter),
    DocKind("bank-statement", "bank_statement", 0.2, _bank),
    DocKind("receipt", "receipt", 0.17, _receipt),
    DocKind("vendor-invoice", "invoice", 0.08, _invoice),
)
KIND_WEIGHTS = np.array([k.weight for k in KINDS]) / sum(k.weight for k in KINDS)


def render(
    rng: np.random.Generator,
    pools: Pools,
    kinds: np.ndarray,
    clients: Sequence[str],
    years: Sequence[int],
) -> tuple[list[str | None], list[bytes | None]]:
    """Text and jsonb (binary COPY form) for documents of the given kinds, in their order; rows
    where `kinds` is -1 get neither."""
    n = len(kinds)
    texts = np.full(n, None, dtype=object)
    data = np.full(n, None, dtype=object)
    for k, kind in enumerate(KINDS):
        at = np.flatnonzero(kinds == k)
        if not len(at):
            continue
        rows = at.tolist()
        body, extracted = kind.render(
            rng, pools, [clients[i] for i in rows], [years[i] for i in rows]
        )
        texts[at] = body
        data[at] = [("\x01" + d).encode() for d in extracted]
    return texts.tolist(), data.tolist()
