"""A small labelled relevance set: documents of the kinds a CPA firm holds, and queries with the
documents a person would expect to find. Written by hand for this project; names are fictitious."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LabelledDocument:
    key: str
    file_name: str
    category: str
    text: str


@dataclass(frozen=True)
class LabelledQuery:
    text: str
    relevant: frozenset[str]
    style: str
    """"keyword" (words in the documents), "identifier" (form or invoice numbers) or
    "paraphrase" (the meaning, in other words)."""


def _doc(key: str, file_name: str, category: str, text: str) -> LabelledDocument:
    return LabelledDocument(key, file_name, category, " ".join(text.split()))


DOCUMENTS: tuple[LabelledDocument, ...] = (
    _doc(
        "w2-harbor",
        "2023_W2_Harbor_Logistics.pdf",
        "w2",
        """
        Form W-2 Wage and Tax Statement 2023. Employer: Harbor Logistics LLC, EIN 84-2210937.
        Employee: Maria Delgado. Box 1 wages, tips, other compensation 68,450.00. Box 2 federal
        income tax withheld 7,912.33. Box 3 social security wages 68,450.00. Box 5 Medicare wages.
        Box 12a code D elective deferrals to a 401(k) plan 4,200.00. State CA wages 68,450.00.""",
    ),
    _doc(
        "w2-pinecrest",
        "W-2 Pinecrest Dental 2023.pdf",
        "w2",
        """
        Wage and Tax Statement, tax year 2023, copy B to be filed with employee's federal return.
        Employer Pinecrest Dental Group PC. Wages 52,118.90, federal withholding 5,004.12, social
        security tax withheld 3,231.37, Medicare tax withheld 755.72. Box 10 dependent care
        benefits 2,500.00.""",
    ),
    _doc(
        "w2-harbor-2022",
        "2022_W2_Harbor_Logistics.pdf",
        "w2",
        """
        Form W-2 2022 Wage and Tax Statement from Harbor Logistics LLC for Maria Delgado. Box 1
        wages 63,900.00, box 2 federal income tax withheld 7,101.45, state income tax 3,020.10.""",
    ),
    _doc(
        "1099nec-brightline",
        "1099-NEC Brightline Design 2023.pdf",
        "1099",
        """
        Form 1099-NEC Nonemployee Compensation 2023. Payer: Brightline Design Studio. Recipient:
        Tomas Reyes, independent contractor. Box 1 nonemployee compensation 18,750.00. No federal
        income tax withheld. Report on Schedule C as self-employment income.""",
    ),
    _doc(
        "1099int-first-national",
        "1099-INT First National Bank 2023.pdf",
        "1099",
        """
        Form 1099-INT Interest Income 2023 from First National Bank. Box 1 interest income 1,284.66
        on savings and certificates of deposit. Box 3 interest on U.S. savings bonds and Treasury
        obligations 0.00. Box 4 federal income tax withheld 0.00.""",
    ),
    _doc(
        "1099div-vanguard",
        "1099-DIV brokerage 2023.pdf",
        "1099",
        """
        Form 1099-DIV Dividends and Distributions 2023, consolidated brokerage statement. Box 1a
        total ordinary dividends 3,410.22, box 1b qualified dividends 2,975.10, box 2a total
        capital gain distributions 812.40, box 7 foreign tax paid 41.18.""",
    ),
    _doc(
        "1099b-brokerage",
        "1099-B proceeds 2023.pdf",
        "1099",
        """
        Form 1099-B Proceeds From Broker and Barter Exchange Transactions 2023. Short-term and
        long-term sales of stock, cost basis reported to the IRS, wash sale loss disallowed 120.00,
        total proceeds 45,880.00, total cost basis 41,203.55.""",
    ),
    _doc(
        "k1-maple-partners",
        "K-1 Maple Street Partners 2023.pdf",
        "k1",
        """
        Schedule K-1 (Form 1065) Partner's Share of Income, Deductions, Credits, etc. 2023.
        Partnership: Maple Street Partners LP, EIN 47-3381204. Partner ownership 12.5 percent.
        Line 1 ordinary business income 22,340. Line 2 net rental real estate income 4,100.
        Line 19 distributions 15,000.""",
    ),
    _doc(
        "k1-scorp",
        "K-1 1120-S Reyes Holdings.pdf",
        "k1",
        """
        Schedule K-1 (Form 1120-S) Shareholder's Share of Income, Deductions, Credits 2023 from
        Reyes Holdings Inc, an S corporation. Shareholder percentage of stock ownership 50 percent.
        Ordinary business income 61,200, section 179 deduction 8,000, shareholder distributions.""",
    ),
    _doc(
        "k1-trust",
        "K-1 1041 Delgado Family Trust.pdf",
        "k1",
        """
        Schedule K-1 (Form 1041) Beneficiary's Share of Income, Deductions, Credits for the
        Delgado Family Trust, tax year 2023. Interest income 2,140, ordinary dividends 3,975,
        net long-term capital gain 6,300 allocated to the beneficiary.""",
    ),
    _doc(
        "engagement-tax-2023",
        "Engagement Letter 2023 Tax Preparation.pdf",
        "contract",
        """
        Engagement letter for individual income tax return preparation, tax year 2023. This letter
        confirms the terms of our engagement: we will prepare your federal and state returns from
        information you provide. Our fee is 1,450 dollars. You are responsible for the accuracy of
        the information. Please sign and return this agreement.""",
    ),
    _doc(
        "engagement-audit",
        "Engagement Letter Financial Statement Review.pdf",
        "contract",
        """
        Engagement letter: review of the financial statements of Pinecrest Dental Group PC for the
        year ending December 31, 2023, in accordance with SSARS. We will perform analytical
        procedures and inquiries; a review is substantially less in scope than an audit. Fees are
        billed monthly at our standard hourly rates. Signature of management required.""",
    ),
    _doc(
        "engagement-bookkeeping",
        "Monthly Bookkeeping Services Agreement.pdf",
        "contract",
        """
        Services agreement for monthly bookkeeping and payroll processing for Brightline Design
        Studio. Scope: bank reconciliations, accounts payable, quarterly payroll filings Form 941.
        Monthly retainer 650 dollars, either party may terminate with thirty days written notice.""",
    ),
    _doc(
        "invoice-0042",
        "INV-2024-0042.pdf",
        "invoice",
        """
        Invoice INV-2024-0042 issued to Harbor Logistics LLC. Description: preparation of 2023
        corporate tax return Form 1120 and state franchise tax return. Amount due 3,200.00 USD.
        Payment terms net 30, due date February 15, 2024. Remit to our firm by ACH or check.""",
    ),
    _doc(
        "invoice-0043",
        "INV-2024-0043.pdf",
        "invoice",
        """
        Invoice INV-2024-0043 to Pinecrest Dental Group PC for the financial statement review
        engagement, 14 hours at 185.00 per hour, total 2,590.00 USD, due March 1, 2024.""",
    ),
    _doc(
        "invoice-overdue-reminder",
        "Past due notice INV-2023-0917.pdf",
        "invoice",
        """
        Reminder: invoice INV-2023-0917 for bookkeeping services is 45 days past due. The balance
        of 1,950.00 remains unpaid. Please remit payment promptly to avoid a late fee of 1.5
        percent per month.""",
    ),
    _doc(
        "bank-chase-jan",
        "Business checking statement January 2024.pdf",
        "bank_statement",
        """
        Business checking account statement, January 1 to January 31, 2024. Beginning balance
        24,310.55. Deposits and credits 31,900.00. Checks and withdrawals 28,442.18. ACH payment to
        IRS EFTPS 4,102.00. Ending balance 27,768.37. Account ending in 4471.""",
    ),
    _doc(
        "bank-savings-q4",
        "Savings account statement Q4 2023.pdf",
        "bank_statement",
        """
        Savings account quarterly statement October through December 2023. Opening balance
        85,000.00, interest credited 312.45, transfer to checking 10,000.00, closing balance
        75,312.45. Annual percentage yield earned 1.62 percent.""",
    ),
    _doc(
        "bank-credit-card",
        "Corporate credit card statement Feb 2024.pdf",
        "bank_statement",
        """
        Corporate card statement closing February 28, 2024. New balance 6,218.40, minimum payment
        due 125.00. Transactions: airline tickets, hotel lodging for client meetings, software
        subscriptions, office supplies, restaurant meals with clients.""",
    ),
    _doc(
        "receipt-office-depot",
        "Receipt office supplies.jpg",
        "receipt",
        """
        Store receipt: printer paper, toner cartridges, file folders and a desk chair. Subtotal
        412.77, sales tax 34.05, total 446.82 paid with business debit card. Keep for expense
        deduction records.""",
    ),
    _doc(
        "receipt-donation",
        "Charitable contribution acknowledgment.pdf",
        "receipt",
        """
        Thank you for your gift. This letter acknowledges your cash contribution of 2,500.00 to the
        Riverside Food Bank, a 501(c)(3) organization, on November 28, 2023. No goods or services
        were provided in exchange for this donation. Retain for your tax records.""",
    ),
    _doc(
        "receipt-medical",
        "Medical bills 2023.pdf",
        "receipt",
        """
        Itemized statements from Valley Medical Center and Sunrise Pharmacy: surgery copay,
        physical therapy sessions, prescription medications. Total out-of-pocket medical and
        dental expenses paid in 2023: 9,860.00.""",
    ),
    _doc(
        "receipt-mileage",
        "Mileage log 2023.xlsx",
        "receipt",
        """
        Vehicle mileage log for business use, 2023. Client visits, bank deposits and supply runs:
        8,412 business miles out of 14,900 total miles. Standard mileage rate 65.5 cents per mile.""",
    ),
    _doc(
        "return-1040",
        "2022 Form 1040 as filed.pdf",
        "tax_return",
        """
        Form 1040 U.S. Individual Income Tax Return 2022, married filing jointly. Wages 116,018,
        taxable interest 940, qualified dividends 2,300, adjusted gross income 119,258, standard
        deduction 25,900, taxable income 93,358, total tax 11,275, refund 1,402.""",
    ),
    _doc(
        "estimated-1040es",
        "2024 Form 1040-ES vouchers.pdf",
        "tax_return",
        """
        Form 1040-ES Estimated Tax for Individuals 2024. Payment vouchers 1 through 4 due April 15,
        June 17, September 16 2024 and January 15 2025, each 2,850.00. Use the worksheet to figure
        your estimated tax to avoid an underpayment penalty.""",
    ),
    _doc(
        "return-1120s",
        "2023 Form 1120-S Reyes Holdings.pdf",
        "tax_return",
        """
        Form 1120-S U.S. Income Tax Return for an S Corporation, 2023, Reyes Holdings Inc. Gross
        receipts 842,000, cost of goods sold 391,500, officer compensation 120,000, ordinary
        business income 122,400 passed through to shareholders on Schedule K-1.""",
    ),
    _doc(
        "irs-cp2000",
        "IRS notice CP2000.pdf",
        "correspondence",
        """
        Notice CP2000 from the Internal Revenue Service: proposed changes to your 2022 income tax
        return. The income and payment information we have on file does not match the information
        you reported. Unreported interest and brokerage income; proposed amount due 1,118.00.
        Respond by the date on this notice if you disagree.""",
    ),
    _doc(
        "state-notice",
        "State franchise tax board letter.pdf",
        "correspondence",
        """
        Franchise Tax Board notice of balance due for the 2022 taxable year: penalty for late
        filing and interest. Contact us or pay online to avoid collection action.""",
    ),
    _doc(
        "payroll-941",
        "Q4 2023 Form 941.pdf",
        "payroll",
        """
        Form 941 Employer's Quarterly Federal Tax Return for the fourth quarter 2023. Number of
        employees 7, wages, tips and other compensation 148,300, federal income tax withheld
        17,890, taxable social security and Medicare wages. Total deposits for the quarter.""",
    ),
    _doc(
        "payroll-register",
        "Payroll register December 2023.pdf",
        "payroll",
        """
        Payroll register for pay period ending December 29, 2023: gross pay by employee, federal
        and state withholding, FICA, 401(k) deferrals, net pay and direct deposit amounts.""",
    ),
    _doc(
        "mortgage-1098",
        "Form 1098 Mortgage Interest 2023.pdf",
        "other",
        """
        Form 1098 Mortgage Interest Statement 2023 from Lakeside Home Loans. Box 1 mortgage interest
        received from borrower 14,205.88. Box 2 outstanding mortgage principal 312,440. Box 10
        property tax paid from escrow 5,110.00.""",
    ),
    _doc(
        "property-tax",
        "County property tax bill 2023.pdf",
        "other",
        """
        County treasurer real estate property tax bill for the 2023 tax year, parcel 18-204-77.
        Assessed value 402,000. First installment 2,555.00 due December 10, second installment
        2,555.00 due April 10.""",
    ),
    _doc(
        "pnl-2023",
        "Profit and loss 2023 Brightline.pdf",
        "financial_statement",
        """
        Profit and loss statement, January through December 2023, Brightline Design Studio.
        Revenue 284,000, cost of services 96,300, gross profit 187,700, operating expenses including
        rent, software and contractors 141,950, net income 45,750.""",
    ),
    _doc(
        "balance-sheet",
        "Balance sheet Dec 31 2023 Pinecrest.pdf",
        "financial_statement",
        """
        Balance sheet as of December 31, 2023, Pinecrest Dental Group PC. Total assets 612,400
        including cash, accounts receivable and dental equipment net of depreciation. Liabilities
        218,700 including an equipment loan. Shareholders' equity 393,700.""",
    ),
    _doc(
        "daycare-receipt",
        "Daycare provider statement 2023.pdf",
        "receipt",
        """
        Little Oaks Child Care Center annual statement 2023: child care expenses paid 7,800.00 for
        two children, provider tax identification number 93-1022846, for the child and dependent
        care credit.""",
    ),
    _doc(
        "hsa-5498",
        "Form 5498-SA HSA contributions.pdf",
        "other",
        """
        Form 5498-SA HSA, Archer MSA, or Medicare Advantage MSA Information 2023. Total
        contributions made in 2023 to the health savings account 3,850.00, fair market value of the
        account 11,204.16.""",
    ),
)


QUERIES: tuple[LabelledQuery, ...] = (
    LabelledQuery(
        "W-2 wage statement", frozenset({"w2-harbor", "w2-pinecrest", "w2-harbor-2022"}), "keyword"
    ),
    LabelledQuery("Harbor Logistics W-2", frozenset({"w2-harbor", "w2-harbor-2022"}), "keyword"),
    LabelledQuery("1099-NEC contractor income", frozenset({"1099nec-brightline"}), "identifier"),
    LabelledQuery("interest income statement", frozenset({"1099int-first-national"}), "keyword"),
    LabelledQuery("dividends", frozenset({"1099div-vanguard"}), "keyword"),
    LabelledQuery(
        "schedule K-1 partnership",
        frozenset({"k1-maple-partners", "k1-scorp", "k1-trust"}),
        "keyword",
    ),
    LabelledQuery(
        "engagement letter",
        frozenset({"engagement-tax-2023", "engagement-audit", "engagement-bookkeeping"}),
        "keyword",
    ),
    LabelledQuery("INV-2024-0042", frozenset({"invoice-0042"}), "identifier"),
    LabelledQuery("1040-ES", frozenset({"estimated-1040es"}), "identifier"),
    LabelledQuery(
        "bank statement",
        frozenset({"bank-chase-jan", "bank-savings-q4", "bank-credit-card"}),
        "keyword",
    ),
    LabelledQuery("Form 941", frozenset({"payroll-941"}), "identifier"),
    LabelledQuery("EIN 47-3381204", frozenset({"k1-maple-partners"}), "identifier"),
    LabelledQuery("proof of a gift to charity", frozenset({"receipt-donation"}), "paraphrase"),
    LabelledQuery(
        "letter from the IRS saying I underreported income", frozenset({"irs-cp2000"}), "paraphrase"
    ),
    LabelledQuery(
        "what the client owes us for tax prep",
        frozenset({"invoice-0042", "invoice-0043", "invoice-overdue-reminder"}),
        "paraphrase",
    ),
    LabelledQuery("home loan interest paid", frozenset({"mortgage-1098"}), "paraphrase"),
    LabelledQuery(
        "quarterly tax payments for next year", frozenset({"estimated-1040es"}), "paraphrase"
    ),
    LabelledQuery(
        "childcare costs for the dependent care credit",
        frozenset({"daycare-receipt"}),
        "paraphrase",
    ),
    LabelledQuery("doctor and hospital expenses", frozenset({"receipt-medical"}), "paraphrase"),
    LabelledQuery(
        "business driving records for vehicle deduction",
        frozenset({"receipt-mileage"}),
        "paraphrase",
    ),
    LabelledQuery(
        "salary paperwork from employers",
        frozenset({"w2-harbor", "w2-pinecrest", "w2-harbor-2022", "payroll-register"}),
        "paraphrase",
    ),
    LabelledQuery(
        "income and expenses of the design studio", frozenset({"pnl-2023"}), "paraphrase"
    ),
    LabelledQuery("unpaid bill reminder", frozenset({"invoice-overdue-reminder"}), "paraphrase"),
    LabelledQuery("stock sales cost basis", frozenset({"1099b-brokerage"}), "keyword"),
    LabelledQuery("health savings account contributions", frozenset({"hsa-5498"}), "keyword"),
    LabelledQuery("what the company owns and owes", frozenset({"balance-sheet"}), "paraphrase"),
    LabelledQuery("S corporation return", frozenset({"return-1120s", "k1-scorp"}), "keyword"),
    LabelledQuery("penalty notice from the state", frozenset({"state-notice"}), "paraphrase"),
)
