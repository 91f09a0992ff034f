"""Sections that a higher layer adds to a lower layer's page.

A home page belongs to `providers`, but its flags come from `audits`, which providers may not
import. So a page names a slot (`{{ panels("home", home=home) }}`) and higher layers fill it
when the app is built (`panels.add(app, "home", render_flags)`).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app
from markupsafe import Markup


def add(app: Flask, slot: str, contributor: Callable[..., str]) -> None:
    app.extensions.setdefault("panels", {}).setdefault(slot, []).append(contributor)


def render(slot: str, **context) -> Markup:
    contributors = current_app.extensions.get("panels", {}).get(slot, [])
    return Markup("").join(Markup(contributor(**context)) for contributor in contributors)
