"""Questions about the reader's own life: "how was your weekend?", "how are you?", "did you have fun?".

Only the owner can answer these, from their own experience or feelings. A holding reply ("let me
check and get back to you") fits a question about facts or tasks; to one of these it is absurd, so
the card offers the owner's real answer when one fits, or nothing (:func:`core.drafting.acts.slots_for`).

Rules, not the learned act model: its acts do not tell what a question is *about*, and the cue is
a handful of phrasings — a greeting-like "how are you", a "how was your <time off or event>", a
"did you have fun / enjoy", a "do you like" — in English and a few other languages. A question
about the reader's work ("how do you deploy it?", "how's the migration going?", "are you ok if we
ship on wednesday?") is not one of them.
"""

from __future__ import annotations

import re
from typing import Final

MAX_CHARS: Final = 1000
"""Read this far (what a question asks shows early)."""
_YOU = r"(?:you|u|ya|y'all)"
_OCCASIONS = (
    r"weekend|week|day|morning|evening|night|trip|holidays?|vacation|break|time off|leave|"
    r"flight|birthday|party|wedding|family|kids|interview|move|hike|run|concert|first day|"
    r"new job|new place|summer|christmas|new year|honeymoon|travels?|visit|recovery|race"
)
_ABOUT_YOU: Final = re.compile(
    # "how are you (doing)?", "how have you been", "how's it going", "how are things"
    rf"\bhow (?:are|r) {_YOU}(?: (?:doing|feeling|holding up|keeping|getting on|finding (?:it|things)))?"
    rf"(?: (?:today|now|lately|these days|tho|though|all|guys|doing))?\s*(?:[^\w\s]|$)|"
    rf"\bhow (?:have|'ve) {_YOU} been\b|\bhow(?:'s| is| has) (?:it|everything|life|things) "
    rf"(?:going|been)\b|\bhow are things\b|"
    # "how was your weekend?", "how did the interview go?", "how's your week going?"
    rf"\bhow(?:'s| is| was| were| did| has)? (?:your|ur|yr|the) (?:{_OCCASIONS})\b|"
    # "did you have fun?", "do you like the new office?", "are you feeling better?", "you ok?"
    rf"\b(?:did|do|are|r|were) {_YOU} (?:have (?:a |an )?(?:fun|good|great|nice|lovely|"
    rf"relaxing|wonderful|blast)|enjoy|like|love|feel|feeling|doing (?:ok|okay|well|alright|"
    rf"better)|ok|okay|alright|all right|well|better)\b(?! (?:with|if|to)\b)|"
    rf"\bhow (?:do|did) {_YOU} (?:feel|like|find|enjoy)\b|^\W*{_YOU} (?:ok|okay|alright|good)\W*$|"
    rf"\bwhat did {_YOU} (?:do|get up to)\b.{{0,20}}\b(?:weekend|holiday|vacation|break|night)\b|"
    # Spanish, Portuguese, French, German, Italian, Russian, Japanese, Chinese
    r"\bqu[eé] tal\b|\bc[oó]mo (?:est[aá]s|est[aá]is|te (?:fue|va|ha ido)|lo pasaste|vai|foi)\b|"
    r"\btudo bem\b|\b[cç]a va\b|\bcomment (?:vas-tu|allez-vous|[cç]a va|s'est pass[eé]e?)\b|"
    r"\btu vas bien\b|\bwie geht'?s\b|\bwie geht es (?:dir|ihnen|euch)\b|"
    r"\bwie war (?:dein|deine|ihr|euer)\b|\bcome stai\b|\bcome va\b|\bcom'[eè] andat[oa]\b|"
    r"как дела|как ты|как (?:прошл[иаио]|выходные|отпуск)|元気|どうだった|楽しかった|"
    r"你好吗|还好吗|过得怎么样|玩得开心",
    re.I,
)


def about_you(text: str) -> bool:
    """Whether a question asks about the reader's own life or feelings (only they can answer).

    Examples:
        >>> about_you("how was your weekend?"), about_you("did you have fun at the offsite?")
        (True, True)
        >>> about_you("how do you deploy to staging?"), about_you("where is the offsite?")
        (False, False)
    """
    lowered = text[:MAX_CHARS].replace("\u2019", "'").lower()
    return bool(_ABOUT_YOU.search(lowered))
