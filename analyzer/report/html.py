"""The one escaper for text in the report's page. Imports nothing of ours, so every part of the
report (templates, charts, diagnosis) can use it."""

from __future__ import annotations

import html
import re
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def references(text: str) -> str:
    """`=`, `(` and `@` written as character references (three `replace` cost less than a `translate`)."""
    return text.replace("=", "&#61;").replace("(", "&#40;").replace("@", "&#64;")


def esc(value: Any) -> str:
    """Text for HTML: escaped, with control and bidi-override characters shown as code points."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    s = _CONTROL.sub(lambda m: f"\\u{ord(m.group(0)):04x}", str(value))
    return references(html.escape(s, quote=True))
