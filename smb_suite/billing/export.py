"""Statements and invoice lines as CSV and JSON for accounting systems. Amounts are written as decimal strings
with two decimals ("15.00"), never as JSON numbers, so that no reader turns them into floats."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from smb_suite.billing.invoice import Line
from smb_suite.billing.share import PartnerTotal, ShareLine, Total

STATEMENT_FIELDS = ("business", "month", "contract_year", "currency", "billed", "rate_percent", "share")
INVOICE_FIELDS = (
    "business", "month", "contract_year", "item", "unit", "description", "currency", "unit_price", "quantity",
    "days", "amount",
)  # fmt: skip
SUMMARY_FIELDS = ("partner", "currency", "businesses", "billed", "share")
TOTAL = "TOTAL"


def share_row(line: ShareLine) -> dict[str, str | int]:
    return {
        "business": line.business,
        "month": str(line.month),
        "contract_year": line.contract_year,
        "currency": line.currency,
        "billed": str(line.billed),
        "rate_percent": str(line.rate),
        "share": str(line.share),
    }


def total_row(total: Total) -> dict[str, str]:
    return {"currency": total.currency, "billed": str(total.billed), "share": str(total.share)}


def invoice_row(line: Line) -> dict[str, str | int]:
    return {
        "business": line.business,
        "month": str(line.month),
        "contract_year": line.contract_year,
        "item": line.item,
        "unit": line.unit,
        "description": line.description,
        "currency": line.currency,
        "unit_price": str(line.unit_price),
        "quantity": line.quantity,
        "days": line.days,
        "amount": str(line.amount),
    }


def statement_csv(lines: Sequence[ShareLine], totals: Sequence[Total]) -> str:
    """One row per business, contract year and currency, then one TOTAL row per currency."""
    rows: list[dict[str, str | int]] = [share_row(line) for line in lines]
    rows += [{"business": TOTAL, **total_row(total)} for total in totals]
    return _csv(STATEMENT_FIELDS, rows)


def statement_json(partner: str, month: str, lines: Sequence[ShareLine], totals: Sequence[Total]) -> str:
    document = {
        "partner": partner,
        "month": month,
        "lines": [share_row(line) for line in lines],
        "totals": [total_row(total) for total in totals],
    }
    return json.dumps(document, indent=2)


def invoice_csv(lines: Sequence[Line]) -> str:
    return _csv(INVOICE_FIELDS, [invoice_row(line) for line in lines])


def invoice_json(month: str, lines: Sequence[Line]) -> str:
    return json.dumps({"month": month, "lines": [invoice_row(line) for line in lines]}, indent=2)


def summary_row(total: PartnerTotal) -> dict[str, str | int]:
    return {
        "partner": total.partner,
        "currency": total.currency,
        "businesses": total.businesses,
        "billed": str(total.billed),
        "share": str(total.share),
    }


def summary_csv(lines: Sequence[PartnerTotal]) -> str:
    return _csv(SUMMARY_FIELDS, [summary_row(line) for line in lines])


def summary_json(month: str, lines: Sequence[PartnerTotal]) -> str:
    return json.dumps({"month": month, "partners": [summary_row(line) for line in lines]}, indent=2)


def _csv(fields: Sequence[str], rows: Sequence[dict[str, str | int]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\r\n")  # RFC 4180 2: CRLF ends each record
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
