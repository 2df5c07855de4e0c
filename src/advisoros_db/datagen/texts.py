"""Extracted text and structured data for the kinds of documents a CPA firm receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from advisoros_db.datagen.pools import Pools


@dataclass(frozen=True)
class DocKind:
    """One kind of document: its category, file name pattern and extracted-text template."""

    form: str
    category: str
    weight: float
    render: Callable[[np.random.Generator, Pools, str, int], tuple[str, dict[str, Any]]]


def _person(rng: np.random.Generator, pools: Pools) -> str:
    first = pools.first_names[int(rng.integers(len(pools.first_names)))]
    last = pools.last_names[int(rng.integers(len(pools.last_names)))]
    return f"{first} {last}"


def _addr(rng: np.random.Generator, pools: Pools) -> str:
    street = pools.streets[int(rng.integers(len(pools.streets)))]
    city = pools.cities[int(rng.integers(len(pools.cities)))]
    state = pools.states[int(rng.integers(len(pools.states)))]
    return f"{street}, {city}, {state} {int(rng.integers(10000, 99999))}"


def _ein(rng: np.random.Generator) -> str:
    return f"{int(rng.integers(10, 99))}-{int(rng.integers(1000000, 9999999))}"


def _w2(rng: np.random.Generator, p: Pools, client: str, year: int) -> tuple[str, dict[str, Any]]:
    wages = round(float(rng.lognormal(11, 0.5)), 2)
    fed = round(wages * float(rng.uniform(0.08, 0.22)), 2)
    employee = _person(rng, p)
    text = (
        f"Form W-2 Wage and Tax Statement {year}. Employer: {client}, EIN {_ein(rng)}, "
        f"{_addr(rng, p)}. Employee: {employee}. Box 1 Wages, tips, other compensation "
        f"${wages:,.2f}. Box 2 Federal income tax withheld ${fed:,.2f}. Box 3 Social security "
        f"wages ${wages:,.2f}. Box 4 Social security tax withheld ${wages * 0.062:,.2f}. "
        f"Box 5 Medicare wages and tips ${wages:,.2f}. Box 6 Medicare tax withheld "
        f"${wages * 0.0145:,.2f}."
    )
    return text, {"form": "W-2", "wages": wages, "federal_withholding": fed, "employee": employee}


def _nec(rng: np.random.Generator, p: Pools, client: str, year: int) -> tuple[str, dict[str, Any]]:
    amount = round(float(rng.lognormal(9.5, 0.9)), 2)
    payee = _person(rng, p)
    text = (
        f"Form 1099-NEC Nonemployee Compensation {year}. Payer: {client}, TIN {_ein(rng)}. "
        f"Recipient: {payee}, {_addr(rng, p)}. Box 1 Nonemployee compensation ${amount:,.2f}. "
        f"Box 4 Federal income tax withheld $0.00. Contractor services rendered during {year}."
    )
    return text, {"form": "1099-NEC", "nonemployee_compensation": amount, "recipient": payee}


def _k1(rng: np.random.Generator, p: Pools, client: str, year: int) -> tuple[str, dict[str, Any]]:
    income = round(float(rng.normal(40_000, 30_000)), 2)
    share = round(float(rng.uniform(1, 60)), 2)
    partner = _person(rng, p)
    text = (
        f"Schedule K-1 (Form 1065) Partner's Share of Income, Deductions, Credits {year}. "
        f"Partnership: {client}, EIN {_ein(rng)}. Partner: {partner}, profit share {share}%. "
        f"Line 1 Ordinary business income (loss) ${income:,.2f}. Line 19 Distributions "
        f"${abs(income) * 0.4:,.2f}. Capital account analysis: beginning, contributions, ending."
    )
    return text, {
        "form": "K-1",
        "ordinary_income": income,
        "profit_share": share,
        "partner": partner,
    }


def _letter(
    rng: np.random.Generator, p: Pools, client: str, year: int
) -> tuple[str, dict[str, Any]]:
    fee = int(rng.integers(15, 250)) * 100
    text = (
        f"Engagement Letter for tax year {year}. This letter confirms that {client} engages our "
        f"firm to prepare federal and state income tax returns and provide bookkeeping review. "
        f"Fees are estimated at ${fee:,} payable on invoice, net 30 days. The client is "
        f"responsible for the completeness of records provided. {p.sentences[int(rng.integers(len(p.sentences)))]}"
    )
    return text, {
        "form": "engagement_letter",
        "estimated_fee": fee,
        "signed": bool(rng.random() < 0.8),
    }


def _bank(rng: np.random.Generator, p: Pools, client: str, year: int) -> tuple[str, dict[str, Any]]:
    month = int(rng.integers(1, 13))
    opening = round(float(rng.lognormal(10, 1)), 2)
    deposits = round(float(rng.lognormal(9.5, 1)), 2)
    withdrawals = round(float(rng.lognormal(9.3, 1)), 2)
    bank = p.banks[int(rng.integers(len(p.banks)))]
    text = (
        f"{bank} business checking account statement {year}-{month:02d} for {client}. "
        f"Account ending {int(rng.integers(1000, 9999))}. Opening balance ${opening:,.2f}. "
        f"Total deposits ${deposits:,.2f}. Total withdrawals ${withdrawals:,.2f}. Closing balance "
        f"${opening + deposits - withdrawals:,.2f}. Payroll, ACH transfer, wire, card purchases."
    )
    return text, {
        "form": "bank_statement",
        "bank": bank,
        "month": month,
        "closing_balance": round(opening + deposits - withdrawals, 2),
    }


def _receipt(
    rng: np.random.Generator, p: Pools, client: str, year: int
) -> tuple[str, dict[str, Any]]:
    vendor = p.companies[int(rng.integers(len(p.companies)))]
    total = round(float(rng.lognormal(4.5, 1.1)), 2)
    kind = ("office supplies", "travel", "meals", "software", "equipment")[int(rng.integers(5))]
    text = (
        f"Receipt from {vendor}, {_addr(rng, p)}. Date {year}-{int(rng.integers(1, 13)):02d}-"
        f"{int(rng.integers(1, 29)):02d}. Billed to {client}. Expense category: {kind}. "
        f"Subtotal ${total * 0.92:,.2f}, sales tax ${total * 0.08:,.2f}, total ${total:,.2f}."
    )
    return text, {"form": "receipt", "vendor": vendor, "total": total, "expense_category": kind}


def _invoice(
    rng: np.random.Generator, p: Pools, client: str, year: int
) -> tuple[str, dict[str, Any]]:
    vendor = p.companies[int(rng.integers(len(p.companies)))]
    total = round(float(rng.lognormal(7.5, 1)), 2)
    text = (
        f"Vendor invoice from {vendor} to {client}, invoice date {year}. Professional services, "
        f"net 30. Amount due ${total:,.2f}. Remit to {_addr(rng, p)}."
    )
    return text, {"form": "vendor_invoice", "vendor": vendor, "amount_due": total}


def _return(
    rng: np.random.Generator, p: Pools, client: str, year: int
) -> tuple[str, dict[str, Any]]:
    revenue = round(float(rng.lognormal(13, 1)), 2)
    taxable = round(revenue * float(rng.uniform(0.05, 0.3)), 2)
    text = (
        f"Form 1120-S U.S. Income Tax Return for an S Corporation {year}. Name: {client}. "
        f"Gross receipts or sales ${revenue:,.2f}. Ordinary business income ${taxable:,.2f}. "
        f"Officer compensation, salaries and wages, rents, taxes and licenses, depreciation."
    )
    return text, {"form": "1120-S", "gross_receipts": revenue, "ordinary_income": taxable}


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
