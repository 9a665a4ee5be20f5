"""Render an invoice as a PDF with fpdf2, a pure-Python PDF writer."""

from __future__ import annotations

from fpdf import FPDF

from billing.models import Invoice, InvoiceLine
from billing.templatetags.money import usd


def _latin1(text: str) -> str:
    # fpdf2's built-in Helvetica covers Latin-1 only; other characters print as "?".
    return text.encode("latin-1", "replace").decode("latin-1")


def invoice_pdf_render(invoice: Invoice) -> bytes:
    lines = list(invoice.lines.all())
    usage = [line for line in lines if line.kind == InvoiceLine.Kind.USAGE]
    credits = [line for line in lines if line.kind == InvoiceLine.Kind.CREDIT]

    pdf = FPDF(format="A4")
    pdf.set_title(f"Invoice {invoice.number}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(f"M3O invoice {invoice.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for label, value in (
        ("Account", invoice.account.name),
        ("Month", f"{invoice.month:%B %Y} ({invoice.time_zone})"),
        ("Period (UTC)", f"{invoice.starts_at:%Y-%m-%d %H:%M} to {invoice.ends_at:%Y-%m-%d %H:%M}"),
        ("Issued", f"{invoice.issued_at:%Y-%m-%d}"),
    ):
        pdf.cell(35, 6, label)
        pdf.cell(0, 6, _latin1(value), new_x="LMARGIN", new_y="NEXT")

    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(100, 7, "Service / endpoint", border="B")
    pdf.cell(35, 7, "Calls", border="B", align="R")
    pdf.cell(0, 7, "Amount (USD)", border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for line in usage:
        pdf.cell(100, 6, _latin1(line.description))
        pdf.cell(35, 6, f"{line.calls:,}", align="R")
        pdf.cell(0, 6, usd(line.amount_units), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(135, 7, f"Usage, exact: {usd(invoice.usage_units)}. Total, rounded to cents:", border="T")
    pdf.cell(0, 7, f"${invoice.total_cents / 100:,.2f}", border="T", align="R", new_x="LMARGIN", new_y="NEXT")

    if credits:
        pdf.ln(4)
        pdf.cell(0, 7, "Payments and credits in the month (not part of the total)", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        for line in credits:
            when = f"{line.occurred_at:%Y-%m-%d}" if line.occurred_at else ""
            pdf.cell(30, 6, when)
            pdf.cell(105, 6, _latin1(line.description[:70]))
            pdf.cell(0, 6, usd(line.amount_units), align="R", new_x="LMARGIN", new_y="NEXT")

    pdf.ln(6)
    pdf.set_font("Helvetica", size=8)
    pdf.multi_cell(0, 4, "Calls were paid from the prepaid balance when made; this invoice collects no payment. 1 unit = US$0.000001.")
    return bytes(pdf.output())
