"""Text the style card's font can draw: no empty boxes, no "Glyph missing" warnings.

The card is drawn with matplotlib's default font (DejaVu Sans, shipped with matplotlib), which
has no emoji. Rather than a box and a warning on stderr for each one, a character the font
lacks is written as its Unicode name in brackets (🙏 → ``[folded hands]``); joiners, variation
selectors and skin-tone modifiers, which only shape a neighbouring emoji, are dropped.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_SHAPING = frozenset({0x200D, 0xFE0E, 0xFE0F, *range(0x1F3FB, 0x1F400)})
"""Zero-width joiner, text/emoji variation selectors, skin-tone modifiers."""


@lru_cache(maxsize=1)
def _drawable_codepoints() -> frozenset[int]:
    from matplotlib import font_manager, ft2font

    path = font_manager.findfont(font_manager.FontProperties(), fallback_to_default=True)
    return frozenset(ft2font.FT2Font(path).get_charmap())


def drawable(text: str) -> str:
    """``text`` with every character the card's font lacks named in brackets instead."""
    known = _drawable_codepoints()
    if all((ord(ch) in known and ord(ch) not in _SHAPING) or ch in "\n\t" for ch in text):
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if code in _SHAPING:
            continue
        if code in known or ch in "\n\t":
            out.append(ch)
        else:
            name = unicodedata.name(ch, f"U+{code:04X}").lower()
            out.append(f"[{name}]")
    return "".join(out)
