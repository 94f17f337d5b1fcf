"""Dialogue acts: what a chat message does (thanks, asks, requests, invites, informs, jokes…).

The act of an incoming message decides which answers make sense (:func:`slots_for`) and whether a
draft is worth offering unasked (:func:`needs_reply_by_act`); the act of a candidate reply is a
fit feature ("thanks" does not answer "what is the command to see disk usage?").

The acts (one per message, the one that most asks something of the reader):

=================== ===================================================================
``thanks``          thanks or appreciation ("thanks for your help yesterday 🙏")
``greeting``        hello or goodbye ("morning all", "cya")
``yes_no_question`` a question answered by yes or no ("is the server down?")
``open_question``   a question asking for content ("what is the command to see disk usage?")
``request``         asks the reader to do something ("can you review my PR today?")
``invitation``      invites the reader or offers something ("lunch at 12?", "want me to look?")
``information``     a statement, an answer, a fact, an fyi
``acknowledgement`` a backchannel: "ok", "got it", "np", "will do", "one sec"
``opinion``         an opinion, a joke or a reaction ("lol that meeting was wild today", "wow")
``apology``         an apology ("sorry, my bad")
``problem``         reports a problem or complains ("my wifi keeps dropping since the update")
=================== ===================================================================

Two ways to tell them apart:

* :func:`rule_act`: ordered rules over the text (question marks of any script — ``?``, full-width
  ``？``, ``¿``, ``؟`` — openers, cue words). Used where no sentence embedding is available (tests,
  the hashing embedder) and for text the learned model cannot read (non-Latin scripts: MiniLM is an
  English model).
* :class:`ActModel`: a multinomial logistic regression over the MiniLM embedding of the message and
  a few surface features (:func:`surface_features`), trained offline by ``bench/train_acts.py`` on
  weakly and hand-labelled real chat and shipped as weights only (``core/drafting/data/acts.npz``, see
  ``ACTS_LICENSE.txt`` beside it). Loaded lazily, once.

:func:`classify_acts` keeps the rules where a clear cue makes them nearly certain
(:func:`confident_rule_act`) and asks the learned model for the rest, when the caller passes
vectors of the model's dimension; the rules alone otherwise.

Use in drafting (the drafter already holds the message's embedding and the candidates')::

    act = classify_act(text, query_vector)             # the incoming message
    if not needs_reply_by_act(act) and not asked: ...  # thanks, fyi, jokes: no unsolicited draft
    reply_acts = classify_acts(candidates, candidate_vectors)
    for slot in slots_for(act, text):                  # the kinds of answer to offer, in order
        ...  # a retrieved reply whose intent is in slot.intents / act in slot.acts fills it,
        ...  # else phrasebook.for_slot(slot): the owner's own phrase, or None (leave it out)
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Final, Literal, get_args

import numpy as np

from core.drafting.personal import about_you
from core.memo import memo_text
from core.ports import Vector
from core.profiling.intents import Intent

Act = Literal[
    "thanks",
    "greeting",
    "yes_no_question",
    "open_question",
    "request",
    "invitation",
    "information",
    "acknowledgement",
    "opinion",
    "apology",
    "problem",
]
ACTS: Final[tuple[Act, ...]] = get_args(Act)
QUESTIONS: Final[frozenset[Act]] = frozenset({"yes_no_question", "open_question"})
ASKS: Final[frozenset[Act]] = frozenset(
    {"yes_no_question", "open_question", "request", "invitation", "problem"}
)
"""Acts that ask something of the reader: a draft is worth offering unasked."""

QUESTION_MARKS: Final[str] = "?\uff1f\u00bf\u061f\u2e2e\u055e\u1367\ufe56"
"""Question marks of many scripts: ASCII, full-width (CJK), Spanish opening, Arabic, reversed,
Armenian, Ethiopic, small form. (Not the Greek question mark: it normalises to a semicolon.)"""

_APOS = re.compile(r"[\u2018\u2019`´]")
_Q_END = re.compile(f"[{QUESTION_MARKS}][\\s{QUESTION_MARKS}!.)\\]\"'\U0001f000-\U0001ffff]*$")
_Q_ANY = re.compile(f"[{QUESTION_MARKS}]")
_ADDRESSED = re.compile(r"^\s*(?:@[\w.\-\[\]^`|{}]+\s*[:,]?|[\w.\-\[\]^`|{}]+\s*[:,])\s+")

_WH_EN = (
    r"(?:what|what's|whats|when|where|where's|which|who|who's|whom|whose|how|how's|why|wat|wut)"
)
# Question words of other languages (at the start of a clause): a question without a mark still
# asks for content when it opens with one of them.
_WH_OTHER = (
    r"(?:qu[eé]|c[oó]mo|d[oó]nde|cu[aá]ndo|qui[eé]n|por ?qu[eé]|cu[aá]l|quoi|comment|o[uù]|quand|"
    r"qui|pourquoi|quel(?:le)?s?|was|wie|wo|wann|wer|warum|welche[rsmn]?|cosa|come|dove|quando|"
    r"chi|perch[eé]|что|как|где|когда|кто|почему|зачем|какой|какая|какие)"
)
_WH_CJK = re.compile(
    r"(何|なに|なん|どこ|いつ|誰|だれ|どう|なぜ|どれ|どの|什么|怎么|怎样|哪|谁|为什么|几|多少|어디|언제|누구|무엇|뭐|어떻게|왜)"
)
_WH = re.compile(rf"^\W*(?:{_WH_EN}|{_WH_OTHER})\b", re.I)
_WH_INNER = re.compile(
    rf"\b(?:know|tell me|wondering|idea|ask(?:ing)?|sure|explain|show me|figure out)\s+(?:{_WH_EN}|if|whether)\b",
    re.I,
)
_AUX = re.compile(
    r"^\W*(?:(?:and|so|but|ok|okay|also|btw|hey|hi|um|oh)\W+)?(?:is|isn't|are|aren't|am|was|were|do|"
    r"does|doesn't|did|didn't|don't|can|can't|could|would|will|won't|should|shall|have|has|hasn't|"
    r"haven't|had|may|might|must|any ?one|anybody|someone|somebody|u|r|ya)\b",
    re.I,
)
# A question without its mark: "is there a help channel", "will 13.10 be upgraded once it's out"
_AUX_STATEMENT = re.compile(
    r"^\W*(?:is|are|was|were|does|did|can|could|would|will|should|shall)\s+"
    r"(?:there|it|this|that|the|a|an|any|ubuntu|you|u|he|she|they|we|i|my|your)\b",
    re.I,
)
_REQUEST = re.compile(
    r"^\W*(?:please|pls|plz|kindly)\b|\b(?:please|pls|plz)\s*[.!]*$|"
    r"\b(?:can|could|would|will|cud|can't|couldn't|won't)\s+(?:you|u|ya|someone|somebody|any ?one|anybody)"
    r"\s+(?:please\s+|pls\s+|plz\s+|just\s+|quickly\s+|maybe\s+|possibly\s+|also\s+)*"
    r"(?:send|review|check|look|have a look|take a look|help|fix|share|call|ping|email|forward|"
    r"update|sign|approve|book|schedule|remind|do|make|bring|give|add|remove|move|merge|deploy|"
    r"write|draft|prepare|cover|handle|pick|grab|get|put|set|run|test|confirm|explain|tell|show|"
    r"point|paste|post|upload|file|open|close|restart|reboot|install|read|proofread|edit|sort|"
    r"organise|organize|arrange|pass|print|submit|finish|ask|let|join|walk|lend|order|call)\b|"
    # "could you pastebin that", "can u resend it": any verb asked of *you*, but for the ones
    # that ask about a state or an ability ("can you see the file?", "can you use a splat?").
    r"\b(?:can|could|would|will|cud)\s+(?:you|u|ya)\s+(?:please\s+|pls\s+|plz\s+|just\s+|quickly\s+)*"
    r"(?!be\b|have\b|has\b|see\b|hear\b|think\b|imagine\b|believe\b|feel\b|understand\b|"
    r"remember\b|recall\b|use\b|access\b|reach\b|connect\b|login\b|log\b|mount\b|boot\b|"
    r"recommend\b|suggest\b|tell (?:if|whether)\b|not\b|also\b|still\b|ever\b|even\b|live\b|"
    r"afford\b|guess\b|do that\b|go\b|get to\b|find\b)[a-z]{3,}\b|"
    r"\b(?:i|we)\s+(?:need|want|would like|'d like|d like)\s+(?:you|u)\s+to\b|"
    r"\b(?:you|u)\s+(?:should|need to|have to|must|might want to|could try|can try|may want to|"
    r"want to try|'?ll (?:need|have) to)\b|"
    r"\b(?:need|needs|needed)\b.{0,80}?\b(?:by|before|asap|until|eod|eow|end of)\b|"
    r"\bmind\s+(?:\w+ing)\b|\bwould you mind\b|\bif you (?:could|can|get a chance)\b|"
    r"\bcan i (?:get|have|borrow|ask you)\b|\bany chance (?:you|u)\b|\bi need (?:help|a hand)\b|"
    r"\b(?:need|want) (?:some )?help\b|\bhelp me\b|\bhelp (?:please|pls|plz)\b|\basap\b",
    re.I,
)
_IMPERATIVE = re.compile(
    r"^\W*(?:(?:ok|okay|so|then|now|just|maybe|yeah|yup|well|hm+|also|and|first|please|pls)\W+)*"
    r"(?:send|review|call|ping|email|forward|share|sign|approve|book|schedule|"
    r"remind|bring|let me know|lmk|tell me|give me|get me|grab me|submit|finish|update|fill|"
    r"don't forget|dont forget|remember to|make sure|try|run|type|use|install|check|read|paste|"
    r"pastebin|open|go to|remove|delete|reboot|restart|press|click|edit|ask|join|do|keep|put|set|"
    r"add|change|look at|ensure|enable|disable|boot|uninstall|purge|reinstall|list|show|head over|"
    r"follow|recompile|compile|figure out|search|google|wait|stop|start|kill|mount|unmount|sudo|cd)\b",
    re.I,
)
_INVITE = re.compile(
    r"\blet'?s\b(?!\s+(?:see|say|assume|suppose|try|check|look|start|first|not))|"
    r"\blets (?:go|do|grab|get|meet|have)\b|(?<!\bi )(?<!\bwe )(?<!\bdont )(?<!\bdo )\b(?:wanna|want to|would you like to|care to|"
    r"feel like|up for)\s+(?:\w+\s+)?(?:join|come|grab|get|go|have|meet|play|watch|hang|catch)\b|"
    r"\b(?:are|r) (?:you|u) (?:free|around|coming|up for|joining|in for|available|down)\b|"
    r"\bhow about\b|\bwhat about (?:lunch|dinner|coffee|drinks|a call|tomorrow|tonight)\b|"
    r"\b(?:join|come to|come over|come along)\b.{0,80}?\b(?:us|me|party|lunch|dinner|drinks)\b|"
    r"\b(?:want|need) me to\b|\bshall i\b|\bshould i (?:come|bring|join|call|send)\b|\bi (?:can|could) (?:help|do|take|cover|look)\b|"
    r"\b(?:happy|glad) to help\b|\bi'?ll (?:help|take care|handle)\b|\binvit(?:e|ing|ation)\b|"
    r"\b(?:lunch|coffee|drinks|dinner|beer|beers)\b.{0,80}?[?？]",
    re.I,
)
_THANKS = re.compile(
    r"\b(?:thanks|thank you|thank u|thankyou|thx|thnx|thnks|tnx|ty|tyvm|tysm|cheers|appreciate(?:d)?|"
    r"grateful|many thanks|kudos|merci|danke|gracias|grazie|obrigad[oa]|спасибо)\b|"
    r"🙏|ありがとう|感谢|谢谢|감사",
    re.I,
)
_GREETING = re.compile(
    r"^\W*(?:hi|hii+|hello|hey|heya|hiya|howdy|yo|sup|morning|good (?:morning|afternoon|evening|night)|"
    r"gm|gn|evening|greetings|bye|byebye|bye bye|cya|see ya|see you|later|laters|goodbye|good bye|"
    r"good ?night|night|nite|ttyl|take care|welcome|welcome back|wb|hola|bonjour|salut|hallo|ciao|"
    r"back|re|o/|asalamualaikum|assalamualaikum|salam|oh hey|oh hi|hello again|"
    r"привет|こんにちは|おはよう|你好)\b",
    re.I,
)
_APOLOGY = re.compile(
    r"\b(?:sorry|sry|soz|apologies|apologise|apologize|my bad|my fault|excuse me|pardon|"
    r"forgive me|desculpe|perd[oó]n|désolé|entschuldigung|извините|すみません|ごめん|对不起)\b",
    re.I,
)
_PROBLEM = re.compile(
    r"\b(?:error|errors|fail|fails|failed|failing|failure|broken|broke|crash|crashes|crashed|"
    r"crashing|stuck|freez\w*|hangs|hung|bug|buggy|issue|issues|problem|problems|problema|not working|"
    r"segmentation fault|unmet dependencies|no luck|nothing helps|"
    r"doesn'?t work|does not work|don'?t work|won'?t (?:work|start|boot|load|open|connect|install)|"
    r"can'?t (?:get|seem|find|connect|install|boot|login|log in|access|open|mount|see)|cannot|"
    r"unable to|no longer|keeps? (?:dropping|crashing|failing|freezing)|segfault|denied|"
    r"annoying|frustrat\w*|sucks|hate|ugh|argh|wtf|nothing happens|blank screen|black screen)\b",
    re.I,
)
_OPINION = re.compile(
    r"\b(?:lol|lmao|lmfao|rofl|haha\w*|hehe\w*|heh|xd|omg|wow|nice|cool|awesome|great|amazing|"
    r"wild|crazy|insane|funny|hilarious|love|loved|lovely|cute|weird|strange|interesting|"
    r"i think|i guess|imo|imho|i feel|i believe|in my opinion|personally|agreed|true|indeed|"
    r"exactly|totally|definitely|sad|ouch|yikes|yay|woo+t?|meh|bah|damn|nice one|good one|random|"
    r"surprising|surprised|probably right|bad idea|good idea|better|worse|best|worst|wonderful|"
    r"terrible|awful|horrible|bizarre|bizzare|odd|ridiculous|stupid|dumb|silly|fun|boring|useful|"
    r"useless|helpful|should really|i'?d rather|good luck|well spent|worth it)\b|"
    r"[:;]-?[)(dp]|\^_\^|[\U0001f600-\U0001f64f\U0001f923\U0001f602\U0001f525\U0001f389]",
    re.I,
)
_ACKNOWLEDGE = re.compile(
    r"^\W*(?:ok|okay|okey|k|kk|alright|allright|aight|i see|ah+ i see|got it|gotcha|ah+|oh+|hm+|mm+|"
    r"right|sure|np|no problem|no prob|no worries|nw|yw|you'?re welcome|your welcome|anytime|"
    r"any time|will do|roger|wilco|noted|understood|fair enough|makes sense|let me see|lemme see|"
    r"one sec(?:ond)?|one moment|brb|sec|cool cool|bingo|standby|stand by|wilco|yes|yep|yup|yeah|ya|"
    r"nope|no|nah)\b",
    re.I,
)
_YES_NO_OPENER = re.compile(r"^\W*(?:yes|yep|yup|yeah|ya|nope|no|nah)\b")
_LAUGH = re.compile(r"\b(?:lol|lmao|lmfao|rofl|haha\w*|hehe\w*|xd)\b|😂|🤣", re.I)
_WORD = re.compile(r"\w+", re.UNICODE)
_URL = re.compile(r"https?://|www\.", re.I)


MAX_CHARS: Final = 1000
"""What a message does shows in its first thousand characters (and its last ones, for a question
mark); longer texts are read that far, so that a pasted log costs no more than a message."""


def bounded(text: str) -> str:
    """``text`` cut to :data:`MAX_CHARS`: its head and its last 200 characters."""
    if len(text) <= MAX_CHARS:
        return text
    return text[: MAX_CHARS - 200] + " … " + text[-200:]


def _clean(text: str) -> str:
    """Lowercase-friendly text without the leading address (``bob: …``, ``@bob …``)."""
    text = _APOS.sub("'", bounded(text).strip())
    match = _ADDRESSED.match(text)
    if match is None or not match.group(0).strip()[:-1].strip():
        return text
    head = match.group(0)
    if head.rstrip().endswith(",") and not head.lstrip().startswith("@") and _is_cue(head):
        return text  # "sorry, can't today" / "ok, will do": an opening word, not a name
    stripped = text[match.end() :]
    return stripped if stripped.strip() else text


_DISCOURSE = re.compile(
    r"^\W*(?:so|well|also|btw|but|and|actually|anyway|anyways|please|pls|unfortunately|sadly|"
    r"honestly|now|then|first|still|wait|look|listen|seriously|really|plus|basically|maybe|"
    r"perhaps|probably|however|though|guys|folks|all|everyone|man|dude)\W*$",
    re.I,
)


def _is_cue(word: str) -> bool:
    """Whether a comma-ended opening word is one the act rules read (a greeting, thanks, an
    apology, an acknowledgement, a reaction) or a discourse marker, rather than a nick."""
    return any(
        rule.search(word)
        for rule in (_THANKS, _GREETING, _APOLOGY, _ACKNOWLEDGE, _OPINION, _LAUGH, _DISCOURSE)
    )


def ends_with_question(text: str) -> bool:
    """Whether the text ends in a question mark of any script (``?``, ``？``, ``؟``…)."""
    return bool(_Q_END.search(text.strip()[-MAX_CHARS:]))


def has_question_mark(text: str) -> bool:
    """Whether the text holds a question mark of any script anywhere (``¿`` opens one)."""
    return bool(_Q_ANY.search(bounded(text)))


def is_question(text: str) -> bool:
    """A question in any script: a question mark, or an opening question word (English and a few
    other languages)."""
    cleaned = _clean(text)
    return has_question_mark(cleaned) or bool(_WH.search(cleaned))


def _latin_share(text: str) -> float:
    if text.isascii():  # the common case, without a Unicode name per letter
        return 1.0
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 1.0
    latin = sum(1 for c in letters if "LATIN" in unicodedata.name(c, ""))
    return latin / len(letters)


def is_latin(text: str) -> bool:
    """Mostly Latin-script letters (the learned model is English; other scripts use the rules)."""
    return _latin_share(text) >= 0.6


SURFACE_FEATURES: Final[tuple[str, ...]] = (
    "ends_question",
    "any_question",
    "wh_opener",
    "wh_inner",
    "aux_opener",
    "request_cue",
    "imperative_opener",
    "invite_cue",
    "thanks_cue",
    "greeting_opener",
    "apology_cue",
    "problem_cue",
    "opinion_cue",
    "acknowledge_opener",
    "laughter",
    "exclamation",
    "log_words",
    "short",
    "url",
    "non_latin",
)


def surface_features(text: str) -> list[float]:
    """The few surface cues the learned model reads beside the embedding (see SURFACE_FEATURES)."""
    return list(_surface(text))


@memo_text()
def _surface(text: str) -> tuple[float, ...]:
    cleaned = _clean(text)
    lowered = cleaned.lower()
    words = _WORD.findall(lowered)
    return (
        float(ends_with_question(cleaned)),
        float(has_question_mark(cleaned)),
        float(bool(_WH.search(lowered) or _WH_CJK.search(cleaned))),
        float(bool(_WH_INNER.search(lowered))),
        float(bool(_AUX.search(lowered))),
        float(bool(_REQUEST.search(lowered))),
        float(bool(_IMPERATIVE.search(lowered))),
        float(bool(_INVITE.search(lowered))),
        float(bool(_THANKS.search(lowered))),
        float(bool(_GREETING.search(lowered))),
        float(bool(_APOLOGY.search(lowered))),
        float(bool(_PROBLEM.search(lowered))),
        float(bool(_OPINION.search(lowered))),
        float(bool(_ACKNOWLEDGE.search(lowered))),
        float(bool(_LAUGH.search(lowered))),
        float("!" in cleaned or "！" in cleaned),
        float(np.log1p(len(words))),
        float(len(words) <= 3),
        float(bool(_URL.search(lowered))),
        float(not is_latin(cleaned)),
    )


@memo_text()
def rule_act(text: str) -> Act:
    """The act by ordered rules: the fallback without embeddings, and the baseline.

    Examples:
        >>> rule_act("can you review my PR today?")
        'request'
        >>> rule_act("明日の会議に参加できますか？")
        'yes_no_question'
        >>> rule_act("lol that meeting was wild today")
        'opinion'
    """
    cleaned = _clean(text)
    lowered = cleaned.lower()
    whole = _APOS.sub("'", bounded(text).lower())
    words = _WORD.findall(lowered)
    if not words:
        return "opinion" if _OPINION.search(cleaned) else "information"
    question = has_question_mark(cleaned)
    wh = bool(_WH.search(lowered) or _WH_INNER.search(lowered) or _WH_CJK.search(cleaned))
    if _THANKS.search(lowered) and len(words) <= 14 and not _REQUEST.search(lowered):
        return "thanks"
    if _GREETING.search(lowered) and len(words) <= 4 and not question:
        return "greeting"
    if _APOLOGY.search(lowered) and not question and len(words) <= 12:
        return "apology"
    # "yes a missing library" answers; "ok" / "got it" / "np" acknowledge.
    if (
        _ACKNOWLEDGE.search(lowered)
        and not question
        and len(words) <= 5
        and (len(words) <= 1 or not _YES_NO_OPENER.search(lowered))
    ):
        return "acknowledgement"
    if _INVITE.search(lowered) and (question or len(words) <= 12):
        return "invitation"
    if _REQUEST.search(lowered) or _IMPERATIVE.search(lowered):
        return "request"
    if question or _WH.search(lowered):
        if wh:
            return "open_question"
        return "yes_no_question"
    if _AUX_STATEMENT.search(lowered) and len(words) >= 3:
        return "yes_no_question"
    if _PROBLEM.search(whole):
        return "problem"
    if _OPINION.search(whole):
        return "opinion"
    return "information"


_FIRST_PERSON = re.compile(r"\b(?:i|my|me|i'm|im|i've|ive|mine)\b")


@memo_text()
def confident_rule_act(text: str) -> Act | None:
    """The rules' act where a clear cue makes it nearly certain, else ``None``.

    The cases where :func:`classify_acts` keeps the rules over the model ("thanks!", "hi all",
    "what is X?", "can you send…"; a subset of those that label the model's training data); the
    model decides the rest (statements, opinions without a laugh, problems described without an
    error word…).
    """
    cleaned = _clean(text)
    lowered = cleaned.lower()
    words = _WORD.findall(lowered)
    if not words or cleaned.startswith("!"):
        return None
    any_q = has_question_mark(cleaned)
    end_q = ends_with_question(cleaned)
    rule = rule_act(text)
    if rule == "thanks" and len(words) <= 6:
        return rule
    if rule in ("greeting", "acknowledgement") and len(words) <= 3:
        return rule
    if rule == "apology" and len(words) <= 6:
        return rule
    if rule == "open_question" and end_q and (_WH.search(lowered) or _WH_CJK.search(cleaned)):
        return rule
    if rule == "yes_no_question" and end_q and (_AUX.search(lowered) or not is_latin(cleaned)):
        return rule
    if rule == "request" and (_REQUEST.search(lowered) or _IMPERATIVE.search(lowered)):
        return rule
    if rule == "invitation":
        return rule
    if rule == "problem" and not any_q and len(words) >= 5 and _FIRST_PERSON.search(lowered):
        return rule
    if rule == "opinion" and not any_q and _LAUGH.search(lowered):
        return rule
    return None


# ---------------------------------------------------------------------------------------------
# The learned model


@dataclass(frozen=True, slots=True, kw_only=True)
class ActModel:
    """Multinomial logistic regression over ``[embedding, standardised surface features]``."""

    labels: tuple[Act, ...]
    coef: Vector
    """(len(labels), dim + len(SURFACE_FEATURES))"""
    intercept: Vector
    mean: Vector
    """Mean of each surface feature in training (standardisation)."""
    scale: Vector
    dim: int
    """The embedding dimension the model reads (384: all-MiniLM-L6-v2)."""
    rules_first: bool = True
    """Keep the rules' act where they are confident (:func:`confident_rule_act`) and ask the
    model only for the rest; ``False``: the model decides every English text."""

    @classmethod
    def from_npz(cls, path: str) -> ActModel:
        """Load weights saved by ``bench/train_acts.py`` (plain arrays, no pickle)."""
        with np.load(path, allow_pickle=False) as data:
            labels = tuple(str(label) for label in data["labels"])
            unknown = [label for label in labels if label not in ACTS]
            if unknown:
                raise ValueError(f"unknown acts in {path}: {unknown}")
            features = tuple(str(name) for name in data["features"])
            if features != SURFACE_FEATURES:
                raise ValueError(f"{path} was trained on other surface features")
            return cls(
                labels=labels,  # type: ignore[arg-type]
                coef=data["coef"].astype(np.float32),
                intercept=data["intercept"].astype(np.float32),
                mean=data["mean"].astype(np.float32),
                scale=data["scale"].astype(np.float32),
                dim=int(data["dim"]),
                rules_first=bool(data["rules_first"]) if "rules_first" in data.files else True,
            )

    def inputs(self, texts: list[str], vectors: Vector) -> Vector:
        """The model's input rows for ``texts`` and their embeddings."""
        surface = np.asarray([surface_features(t) for t in texts], dtype=np.float32)
        surface = (surface - self.mean) / self.scale
        return np.hstack([np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1), surface])

    def probabilities(self, texts: list[str], vectors: Vector) -> Vector:
        """One row of act probabilities per text, columns in ``labels`` order."""
        logits = self.inputs(texts, vectors) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        out: Vector = exp / exp.sum(axis=1, keepdims=True)
        return out


_MODEL_FILE = "acts.npz"
_model_lock = threading.Lock()
_model_cache: dict[str, ActModel | None] = {}


def shipped_model() -> ActModel | None:
    """The model shipped in the package, loaded once on first use (``None`` if absent)."""
    with _model_lock:
        if "shipped" not in _model_cache:
            ref = resources.files("core.drafting").joinpath("data", _MODEL_FILE)
            model = None
            if ref.is_file():
                with resources.as_file(ref) as path:
                    model = ActModel.from_npz(str(path))
            _model_cache["shipped"] = model
        return _model_cache["shipped"]


def classify_acts(
    texts: list[str], vectors: Vector | None = None, *, model: ActModel | None = None
) -> list[Act]:
    """The act of each text.

    Args:
        texts: Messages (incoming messages or candidate replies).
        vectors: Their sentence embeddings, one row each, when the caller has them. The learned
            model reads them when their dimension is its own (MiniLM) for the texts the rules
            cannot tell with confidence; otherwise, or without vectors, the rules decide.
        model: Weights to use instead of the shipped ones (tests, benchmarks).

    Returns:
        One act per text, in order.
    """
    if not texts:
        return []
    acts: list[Act] = [rule_act(t) for t in texts]
    if vectors is None:
        return acts
    matrix = np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
    model = model or shipped_model()
    if model is None or matrix.shape[1] != model.dim:
        return acts
    rows = [
        i
        for i, t in enumerate(texts)
        if _WORD.search(t)
        and is_latin(_clean(t))
        and not (model.rules_first and confident_rule_act(t) is not None)
    ]
    if rows:
        probs = model.probabilities([texts[i] for i in rows], matrix[rows])
        for i, best in zip(rows, probs.argmax(axis=1).tolist(), strict=True):
            acts[i] = model.labels[best]
    return acts


def classify_act(text: str, vector: Vector | None = None, *, model: ActModel | None = None) -> Act:
    """The act of one message; see :func:`classify_acts`.

    Examples:
        >>> classify_act("thanks for your help yesterday 🙏")
        'thanks'
    """
    row = None if vector is None else np.asarray(vector, dtype=np.float32).reshape(1, -1)
    return classify_acts([text], row, model=model)[0]


def needs_reply_by_act(act: Act) -> bool:
    """Whether a message of this act calls for an unsolicited draft (thanks, fyi, jokes do not)."""
    return act in ASKS


# ---------------------------------------------------------------------------------------------
# Option shaping

SlotKind = Literal[
    "yes", "not_now", "ask_details", "answer", "hold", "acknowledge", "react", "greet"
]
Detail = Literal["time", "place", "which", "what"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Slot:
    """One kind of answer a draft card should offer for a message of some act.

    ``intents`` (from :func:`core.profiling.classify_intent`) and ``acts`` (of the reply) say
    which of the owner's replies fill the slot; ``role`` names the phrasebook entry to fall back
    on (``None``: only a retrieved reply that fits can fill it); ``details`` (for ``ask_details``)
    says what the message leaves open, so only a phrase asking for one of those is used.
    """

    kind: SlotKind
    label: str
    intents: tuple[Intent, ...] = ()
    acts: tuple[Act, ...] = ()
    role: str | None = None
    details: frozenset[Detail] = frozenset()


_EVENT = re.compile(
    r"\b(?:meet|meeting|lunch|dinner|coffee|drinks?|beers?|party|join|come|hang ?out|catch up|"
    r"game|movie|gym|run|walk|standup|stand-up|sync|1:1|one on one|interview|demo|workshop)\b",
    re.I,
)
_TASK = re.compile(
    r"\b(?:send|review|check|look|fix|share|update|sign|approve|write|draft|prepare|cover|handle|"
    r"finish|submit|deploy|merge|test|call|email|forward|book|schedule|do)\b",
    re.I,
)
_TIME = re.compile(
    r"\b(?:today|tonight|tomorrow|tmrw|tmr|yesterday|now|asap|eod|eow|soon|later|noon|midnight|"
    r"morning|afternoon|evening|weekend|this week|next week|this month|next month|monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thurs|fri|sat|sun|"
    # months, not the words that start like one ("deck", "market", "octave")
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|"
    r"\d{1,2}(?::\d{2})?\s*(?:am|pm|h)|\d{1,2}:\d{2}|in (?:an? )?(?:hour|minute|min|sec|bit|few)\w*|"
    r"by (?:then|the end)|end of (?:day|week|month)|before|until|after|at \d{1,2})\b",
    re.I,
)
_CLOCK = re.compile(
    r"\b(?:\d{1,2}(?::\d{2})?\s*(?:am|pm|h)|\d{1,2}:\d{2}|noon|midday|midnight|morning|"
    r"afternoon|evening|tonight|asap|now|at \d{1,2}|in (?:an? )?(?:hour|minute|min|sec|bit|few)\w*|"
    r"after (?:work|lunch|this)|before (?:lunch|work))\b",
    re.I,
)
"""A time of day: what an event needs beyond its day ("lunch tomorrow?" leaves the hour open)."""
_PLACE = re.compile(
    r"\b(?:at|in|@)\s+(?:the\s+)?[A-Z][\w'-]*|\b(?:downstairs|upstairs|office|room|kitchen|"
    r"cafe|café|canteen|lobby|place|home|online|zoom|meet\.|teams|slack|huddle|bar|pub|"
    r"restaurant|there|here)\b",
)
_VAGUE_OBJECT = re.compile(
    r"\b(?:my|the|that|this|your|our)\s+(?:pr|mr|pull request|merge request|doc|docs|document|file|files|branch|ticket|issue|"
    r"slides|deck|report|email|spreadsheet|sheet|numbers|link|thing|stuff|change|changes|patch|"
    r"draft|proposal|contract|invoice|form|code|script|one)\b(?!\s*(?:#|\d|for|about|on|from|of|"
    r"called|named|\"|'))",
    re.I,
)


def open_details(text: str, *, tasks: bool = True) -> frozenset[Detail]:
    """What a request or invitation leaves open that the owner could sensibly ask about.

    ``place`` only for something that happens somewhere (a meeting, lunch) with no place given;
    ``time`` for an event with no hour given ("lunch tomorrow?") or a task with no time at all; ``which`` when the object is named only
    vaguely ("my PR", "the doc"). Empty when the message says it all: "need the Q3 budget
    numbers by Friday 5pm, can you send them over?" leaves nothing to ask. With ``tasks=False``
    (offers, "want me to look?") a missing time counts only for events.
    """
    cleaned = _clean(text)
    out: set[Detail] = set()
    event = bool(_EVENT.search(cleaned))
    task = bool(_TASK.search(cleaned))
    if event and not _PLACE.search(cleaned):
        out.add("place")
    if (event and not _CLOCK.search(cleaned)) or (task and tasks and not _TIME.search(cleaned)):
        out.add("time")
    if _VAGUE_OBJECT.search(cleaned):
        out.add("which")
    return frozenset(out)


_YES = Slot(kind="yes", label="say yes", intents=("accept",), role="accept")
_NOT_NOW = Slot(kind="not_now", label="not now", intents=("decline", "defer"), role="decline")
_ANSWER = Slot(
    kind="answer",
    label="answer",
    acts=("information", "opinion", "open_question", "yes_no_question", "problem"),
)
_HOLD = Slot(kind="hold", label="let me check", intents=("defer",), role="hold")
_ACK = Slot(
    kind="acknowledge", label="acknowledge", acts=("acknowledgement", "thanks"), role="acknowledge"
)
_REACT = Slot(kind="react", label="react", acts=("opinion",), role="react")
_GREET = Slot(kind="greet", label="greet back", acts=("greeting",), role="greet")
_ASK_PROBLEM = Slot(
    kind="ask_details",
    label="ask for details",
    intents=("ask_details",),
    acts=("open_question", "yes_no_question"),
    role="ask_details",
    details=frozenset({"what"}),
)


def slots_for(act: Act, text: str = "") -> tuple[Slot, ...]:
    """The kinds of answer to offer for a message of ``act``, most useful first.

    * request / invitation → yes, not now, and ask-for-details only when ``text`` leaves
      something open (:func:`open_details`) — never a stock "where?" for a code review;
    * open or yes/no question, problem → the owner's answer if one fits, else a holding reply in
      their words ("let me check") — but for a question about the owner's own life or feelings
      ("how was your weekend?", :func:`~core.drafting.personal.about_you`), only a real answer;
      a problem may also get a question back when details are open;
    * thanks / apology → the owner's own acknowledgement; opinion or joke → a reaction;
      greeting → a greeting; information → an acknowledgement or a reaction.

    Args:
        act: The act of the incoming message.
        text: The message itself (to see what it leaves open).
    """
    if act in ("request", "invitation"):
        details = open_details(text, tasks=act == "request")
        ask = (
            (
                Slot(
                    kind="ask_details",
                    label="ask for details",
                    intents=("ask_details",),
                    role="ask_details",
                    details=details,
                ),
            )
            if details
            else ()
        )
        return (_YES, _NOT_NOW, *ask)
    if act in ("open_question", "yes_no_question"):
        # "how was your weekend?" asks about the reader's own life: no "let me check" for it
        return (_ANSWER,) if about_you(text) else (_ANSWER, _HOLD)
    if act == "problem":
        return (_ANSWER, _HOLD, _ASK_PROBLEM)
    if act in ("thanks", "apology"):
        return (_ACK,)
    if act == "opinion":
        return (_REACT,)
    if act == "greeting":
        return (_GREET,)
    if act == "acknowledgement":
        return (_REACT,)
    return (_ACK, _REACT)
