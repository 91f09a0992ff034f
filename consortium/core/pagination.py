"""Pages of a query's results, for lists of any shape (one model or several columns)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Select, func, inspect, select

from consortium.core.extensions import db

MAX_PAGE = 1_000_000  # a page number past this is read as this one (never an offset no database takes)


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1

    def numbers(self) -> list[int | None]:
        """The page numbers to offer: the first, the last and those beside this one, with None
        where others are left out (shown as an ellipsis)."""
        shown = sorted({1, self.pages, *range(max(1, self.page - 1), min(self.pages, self.page + 1) + 1)})
        numbers: list[int | None] = []
        for n in shown:
            if numbers and n - numbers[-1] > 1:
                numbers.append(None)
            numbers.append(n)
        return numbers


def page_of_list(items: list, page: int | None) -> Page:
    """A page of a list already worked out (one that filters in Python after its queries)."""
    per_page = current_app.config["PAGE_SIZE"]
    page = min(max(1, page or 1), MAX_PAGE)
    return Page(items[(page - 1) * per_page : page * per_page], page, per_page, len(items))


def paginate(query: Select, page: int | None, scalars: bool = False) -> Page:
    per_page = current_app.config["PAGE_SIZE"]
    page = min(max(1, page or 1), MAX_PAGE)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    if scalars:
        # A page of one model's rows: the keys are sorted and counted off first (from an index,
        # where one covers the order), then only that page's rows are read.
        key = inspect(query.column_descriptions[0]["entity"]).primary_key[0]
        keys = query.with_only_columns(key).limit(per_page).offset((page - 1) * per_page)
        result = db.session.execute(query.where(key.in_(keys.scalar_subquery())))
    else:
        result = db.session.execute(query.limit(per_page).offset((page - 1) * per_page))
    return Page(items=list(result.scalars() if scalars else result), page=page, per_page=per_page, total=total)


def paginate_list(items: list, page: int | None) -> Page:
    """A page of a list already worked out in Python (a schedule of returns owed)."""
    per_page = current_app.config["PAGE_SIZE"]
    page = min(max(1, page or 1), MAX_PAGE)
    return Page(items=items[(page - 1) * per_page : page * per_page], page=page, per_page=per_page, total=len(items))
