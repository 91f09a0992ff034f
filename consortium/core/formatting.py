"""How numbers and dates are shown: money as £1,234.56 from integer pence, dates as 1 Apr 2024."""

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape


def money(pence: int | None) -> str:
    if pence is None:
        return ""
    sign = "-" if pence < 0 else ""
    pounds, pennies = divmod(abs(int(pence)), 100)
    return f"{sign}£{pounds:,}.{pennies:02d}"


def number(value) -> str:
    """A measured value without trailing zeros: 78, 70.5."""
    if value is None:
        return ""
    return f"{Decimal(value).normalize():f}"


def day(value: date | None) -> str:
    return f"{value.day} {value:%b %Y}" if value else ""


def long_day(value: date | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else ""


UK = ZoneInfo("Europe/London")
_QUARTER_MONTHS = {"1": ("Apr", "Jun", 0), "2": ("Jul", "Sep", 0), "3": ("Oct", "Dec", 0), "4": ("Jan", "Mar", 1)}


def quarter(label: str | None) -> str:
    """A financial-year quarter with its months, as a person reads it: 2026-Q2 (Jul to Sep 2026)."""
    if not label or len(label) != 7 or label[4:6] != "-Q" or label[6] not in _QUARTER_MONTHS or not label[:4].isdigit():
        return label or ""
    first, last, later = _QUARTER_MONTHS[label[6]]
    return f"{label} ({first} to {last} {int(label[:4]) + later})"


def uk_time(value: datetime | None) -> str:
    """A moment as people in England read it: UK local time (GMT or BST), to the second."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return aware.astimezone(UK).strftime("%-d %b %Y %H:%M:%S")


def uk_minute(value: datetime | None) -> str:
    """A deadline as people in England read it: UK local time, to the minute."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return aware.astimezone(UK).strftime("%-d %b %Y %H:%M")


def summary_row(pair: tuple[str, str]) -> dict:
    """A (key, value) pair as a GOV.UK summary list's row."""
    return {"key": {"text": pair[0]}, "value": {"text": pair[1]}}


FILTERS = {
    "summary_row": summary_row,
    "money": money,
    "day": day,
    "long_day": long_day,
    "number": number,
    "uk_time": uk_time,
    "uk_minute": uk_minute,
    "quarter": quarter,
}


def link(href: str, text, hidden: str = "") -> Markup:
    """A GOV.UK link for table cells and summary lists; `hidden` is read out by screen readers only."""
    suffix = Markup('<span class="govuk-visually-hidden"> {}</span>').format(hidden) if hidden else ""
    return Markup('<a class="govuk-link" href="{}">{}{}</a>').format(href, text, suffix)


def _cell(tag: str, item: dict, base: str, extra: str = "") -> str:
    classes = (
        base
        + (f" {base}--{item['format']}" if item.get("format") else "")
        + (f" {item['classes']}" if item.get("classes") else "")
    )
    spans = "".join(f' {key}="{int(item[key])}"' for key in ("colspan", "rowspan") if item.get(key))
    content = Markup(item["html"]) if item.get("html") else escape(item.get("text", ""))
    return f'<{tag}{extra} class="{escape(classes)}"{spans}>{content}</{tag}>'


def table(params: dict) -> Markup:
    """The GOV.UK table's markup for govukTable's parameters (caption, captionClasses, classes,
    firstCellIsHeader, head and rows of text/html/format/classes/colspan/rowspan), built in Python:
    the Jinja macro calls another macro for every cell, which dominates long lists."""
    parts = [f'<table class="govuk-table{" " + escape(params["classes"]) if params.get("classes") else ""}">']
    if params.get("caption"):
        caption_classes = f" {escape(params['captionClasses'])}" if params.get("captionClasses") else ""
        parts.append(f'<caption class="govuk-table__caption{caption_classes}">{escape(params["caption"])}</caption>')
    if params.get("head"):
        parts.append('<thead class="govuk-table__head"><tr class="govuk-table__row">')
        parts += [_cell("th", item, "govuk-table__header", ' scope="col"') for item in params["head"]]
        parts.append("</tr></thead>")
    parts.append('<tbody class="govuk-table__body">')
    for row in params.get("rows") or []:
        if row:
            cells = [
                _cell("th", cell, "govuk-table__header", ' scope="row"')
                if n == 0 and params.get("firstCellIsHeader")
                else _cell("td", cell, "govuk-table__cell")
                for n, cell in enumerate(row)
            ]
            parts.append('<tr class="govuk-table__row">' + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    return Markup("".join(parts))


def figures_table(caption: str, header: list[str], rows: list[list]) -> Markup:
    """A compact table of figures: labels in the first columns, numbers right-aligned after
    them (the second column too when there are only two, or when it holds only counts)."""
    counts = [bool(rows) and all(isinstance(row[n], int) for row in rows) for n in range(len(header))]
    numeric = [n > 1 or (n == 1 and (len(header) == 2 or counts[n])) for n in range(len(header))]
    # The same rows are exported with pounds as plain numbers ("Spend (£)": 278500.00); shown, they read as money.
    pounds = [h.endswith(" (£)") for h in header]
    head = [{"text": h.removesuffix(" (£)"), "format": "numeric" if numeric[n] else ""} for n, h in enumerate(header)]
    body = [
        [
            {
                "text": f"£{Decimal(cell):,.2f}"
                if pounds[n] and cell not in ("", None)
                else (f"{cell:,}" if isinstance(cell, int) else cell),
                "format": head[n]["format"],
            }
            for n, cell in enumerate(row)
        ]
        for row in rows
    ]
    return table(
        {
            "caption": caption,
            "captionClasses": "govuk-table__caption--m",
            "head": head,
            "rows": body,
            "classes": "app-table--compact",
        }
    )


GLOBALS = {"link": link, "table": table, "figures_table": figures_table}
