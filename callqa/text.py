"""Text normalisation shared by the stages that compare what was said."""

from __future__ import annotations

import re

__all__ = ["plain_words"]


def plain_words(text: str) -> str:
    """The words of a text, lower case, ё as е, one space apart: for comparing what was said, not how it was written."""
    return " ".join(re.findall(r"\w+", text.lower().replace("ё", "е")))
