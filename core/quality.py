"""How close the clone is to its owner: one measurement behind ``quality`` and ``minime eval``.

:func:`measure` takes the owner's messages (theirs and their contacts', as imported) and reports,
on a chronological split (learn only from before the cut-off, score what came after; DESIGN.md
"How quality is measured"):

* **Data**: how many messages, replies with a known parent and other writers there are — the
  figures every other number depends on.
* **Style verifier**: how often the owner's verifier recognises their held-out messages, and how
  often it accepts other writers' (:func:`core.evaluation.verifier_report`).
* **Attribution**: an authorship judge over the owner and the most active other writers (the
  owner's contacts, and the shipped synthetic background writers when the owner has few) —
  accuracy next to a character-trigram baseline (:func:`core.evaluation.attribution_eval`).
* **Drafts**: the drafting evaluation of :mod:`core.drafting.evaluation` on the owner's held-out
  replies — MRR of the true reply vs a generic-reply baseline, the style fidelity of the drafts
  against the ceiling of the owner's own held-out replies, and (when the drafting evaluation
  measures them) reply fit, the gate and the meters' ROC-AUCs.
* **Triage**: ROC-AUC of "did the owner reply" on held-out messages addressed to them
  (:mod:`core.prioritising.evaluation`).
* **Advice**: the one thing that would most improve it (:func:`advice`).

Each figure is reported with its baseline and a 95% interval where one is defined. With too
little data the report says so (``enough`` is false) and what to import, instead of numbers.
:func:`summary` is the text both front ends print; :func:`picture` is the small chart.
"""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.evaluation import (
    KNOWN_BOTS,
    CachingEmbedder,
    attribution_eval,
    candidate_authors,
    train_judge,
    verifier_report,
)
from core.models import Message
from core.ports import Embedder

MIN_OWNER_MESSAGES = 30
"""Below this the owner's history is too short to split and measure anything."""
MIN_REPLY_PAIRS = 20
"""Replies with a known parent needed to measure drafts (some are held out)."""
FEW_REPLY_PAIRS = 100
"""Below this the drafts have little to draw on: importing more replies is the advice."""
MIN_OTHER_MESSAGES = 50
"""Messages by contacts needed for the verifier's false-accept rate and the triage."""
MIN_UNANSWERED = 10
"""Held-out messages the owner did not answer needed for a triage AUC worth the name."""
Z95 = 1.959964

ProgressLine = Callable[[str], None]
"""Told each step as it starts (``"style verifier for sam"``), for a progress line."""


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityOptions:
    """How to split and what to measure."""

    cutoff: datetime | None = None
    """Learn only from messages before it (default: the oldest ``train_share`` per sender)."""
    train_share: float = 0.8
    authors: int = 5
    """Writers in the attribution test, the owner included."""
    drafts: bool = True
    triage: bool = True
    max_items: int = 200
    """Held-out replies drafted at most (a seeded sample)."""
    seed: int = 0
    min_owner_messages: int = MIN_OWNER_MESSAGES
    """Below this nothing is measured and the report says what to import."""


def wilson(share: float | None, n: int) -> list[float] | None:
    """95% Wilson score interval of a proportion observed on ``n`` items."""
    if share is None or n <= 0 or math.isnan(share):
        return None
    denominator = 1 + Z95**2 / n
    centre = (share + Z95**2 / (2 * n)) / denominator
    half = Z95 * math.sqrt(share * (1 - share) / n + Z95**2 / (4 * n * n)) / denominator
    return [max(0.0, centre - half), min(1.0, centre + half)]


def data_counts(messages: Sequence[Message], owner: str) -> dict[str, Any]:
    """What the owner's history holds: the figures every measurement depends on."""
    by_id = {m.id: m for m in messages}
    own = [m for m in messages if m.sender == owner and m.text.strip()]
    replies = [
        m
        for m in own
        if m.reply_to is not None
        and m.reply_to in by_id
        and by_id[m.reply_to].sender != owner
        and by_id[m.reply_to].text.strip()
    ]
    others = Counter(
        m.sender
        for m in messages
        if m.sender != owner and m.text.strip() and m.sender not in KNOWN_BOTS
    )
    times = sorted(m.sent_at for m in own)
    return {
        "messages": len(messages),
        "owner_messages": len(own),
        "owner_replies": len(replies),
        "other_messages": sum(others.values()),
        "other_writers": len(others),
        "first": times[0].isoformat() if times else None,
        "last": times[-1].isoformat() if times else None,
    }


def measure(
    messages: Sequence[Message],
    owner: str,
    *,
    embedder: Embedder,
    background: Sequence[str] = (),
    extra_writers: Sequence[Message] = (),
    options: QualityOptions | None = None,
    progress: ProgressLine | None = None,
) -> dict[str, Any]:
    """Measure how close drafts, style and triage are to the owner, on their held-out messages.

    Args:
        messages: The owner's history: their messages and their contacts', with ``reply_to``.
        owner: The owner's sender name in ``messages``.
        embedder: Sentence embeddings (wrapped here so each text is encoded once).
        background: Texts by other writers added to every verifier's background.
        extra_writers: Messages of other writers (the shipped background) that join the
            attribution test when the owner has fewer than ``options.authors - 1`` contacts.
        options: Split and scope (:class:`QualityOptions`).
        progress: Told each step as it starts.

    Returns:
        A plain dict: ``owner``, ``data`` (:func:`data_counts`), ``split``, ``enough``; when there
        is enough data ``verifier``, ``attribution``, ``drafting`` and ``triage`` (each ``None``
        or ``{"error": ...}`` when it could not be measured); and ``advice`` (always).
    """
    opts = options or QualityOptions()
    step = progress or (lambda _: None)
    counts = data_counts(messages, owner)
    report: dict[str, Any] = {
        "owner": owner,
        "data": counts,
        "split": {
            "cutoff": opts.cutoff.isoformat() if opts.cutoff else None,
            "train_share": None if opts.cutoff else opts.train_share,
        },
        "enough": counts["owner_messages"] >= opts.min_owner_messages,
        "verifier": None,
        "attribution": None,
        "drafting": None,
        "triage": None,
    }
    if not report["enough"]:
        report["advice"] = advice(report)
        return report
    cached = embedder if isinstance(embedder, CachingEmbedder) else CachingEmbedder(embedder)
    step(f"style verifier for {owner}")
    report["verifier"] = _guarded(
        lambda: verifier_report(
            messages,
            owner,
            embedder=cached,
            cutoff=opts.cutoff,
            train_share=opts.train_share,
            background=background,
            seed=opts.seed,
        )
    )
    corpus = list(messages)
    writers = {m.sender for m in messages if m.sender not in KNOWN_BOTS} - {owner}
    if len(writers) < opts.authors - 1 and extra_writers:
        corpus += list(extra_writers)
    judge = None
    authors = candidate_authors(corpus, opts.authors, include=[owner])
    step(f"authorship among {len(authors)} writers")
    if len(authors) >= 2:
        try:
            judge = train_judge(
                corpus, authors, embedder=cached, cutoff=opts.cutoff,
                train_share=opts.train_share, background=background, seed=opts.seed,
            )  # fmt: skip
            report["attribution"] = attribution_eval(
                corpus, opts.authors, embedder=cached, cutoff=opts.cutoff,
                train_share=opts.train_share, background=background, seed=opts.seed, judge=judge,
            )  # fmt: skip
            _with_interval(report["attribution"], "verifier_accuracy", "held_out")
        except ValueError as error:
            report["attribution"] = {"error": str(error)}
    if opts.drafts:
        step(f"drafts for {owner}")
        report["drafting"] = _drafting(messages, owner, cached, judge, opts)
    if opts.triage:
        step(f"triage for {owner}")
        report["triage"] = _guarded(lambda: triage_report(messages, owner, opts))
    report["advice"] = advice(report)
    return report


def _guarded(run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A measurement, or why it could not be made (too little data on one side of the split)."""
    try:
        return run()
    except ValueError as error:
        return {"error": str(error)}


def _with_interval(entry: dict[str, Any], share: str, count: str) -> None:
    entry[f"{share}_ci"] = wilson(entry.get(share), int(entry.get(count) or 0))


def _drafting(
    messages: Sequence[Message],
    owner: str,
    embedder: Embedder,
    judge: Any,
    opts: QualityOptions,
) -> dict[str, Any]:
    """The drafting evaluation with reply fit and the meters.

    The referee of fit is the shipped global model: trained on other writers than any user, but
    also the base the owner's ranker is adapted from, so its acceptance of the shown options
    flatters them; the summary says so.
    """
    from core.drafting.evaluation import draft_report
    from core.drafting.fit import global_weights

    try:
        report: dict[str, Any] = draft_report(
            messages, owner, embedder=embedder, judge=judge, fit_judge=global_weights(),
            meters=True, cutoff=opts.cutoff, train_share=opts.train_share,
            max_items=opts.max_items, seed=opts.seed,
        )  # fmt: skip
    except ValueError as error:
        return {"error": str(error)}
    for name in ("retrieval", "fitted", "baseline"):
        entry = report.get(name)
        if isinstance(entry, dict) and "mrr" in entry:
            se = entry.get("mrr_stderr")
            if se is None and entry.get("reciprocal_ranks"):
                rr = entry["reciprocal_ranks"]
                mean = sum(rr) / len(rr)
                se = math.sqrt(sum((x - mean) ** 2 for x in rr) / len(rr)) / math.sqrt(len(rr))
            if se is not None:
                entry["mrr_ci"] = [entry["mrr"] - Z95 * se, entry["mrr"] + Z95 * se]
            if "fidelity" in entry:
                entry["fidelity_ci"] = wilson(entry["fidelity"], int(report.get("items", 0)))
            entry.pop("reciprocal_ranks", None)
    report.pop("examples", None)
    return report


def triage_report(
    messages: Sequence[Message], owner: str, opts: QualityOptions | None = None
) -> dict[str, Any]:
    """ROC-AUC of the triage ("did the owner reply") on the owner's held-out received messages:
    the learned model (the global prior adapted to the owner) next to the rule-based heuristic,
    with bootstrap 95% intervals (:func:`core.prioritising.evaluation.owner_quality`).

    Raises:
        ValueError: Too few replies (or no unanswered message) on one side of the split.
    """
    from core.prioritising.evaluation import owner_quality

    opts = opts or QualityOptions()
    ordered = sorted(messages, key=lambda m: (m.sent_at, m.id))
    result = owner_quality(ordered, owner, exclude=sorted(KNOWN_BOTS), train_share=opts.train_share)
    auc = {k: _finite(v) for k, v in result.auc.items()}
    if auc.get("model") is None:
        raise ValueError("the held-out messages to you give nothing to rank")
    ci = {k: [float(x) for x in v] for k, v in result.auc_ci.items() if _finite(v[0]) is not None}
    return {
        "held_out": result.test_rows,
        "answered": result.test_replies,
        "auc": auc["model"],
        "auc_ci": ci.get("model"),
        "baseline": "heuristic",
        "baseline_auc": auc.get("heuristic"),
        "all": {"auc": auc, "auc_ci": ci},
    }


def _finite(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


def _failed(entry: Any) -> bool:
    return not isinstance(entry, Mapping) or "error" in entry


def advice(report: Mapping[str, Any]) -> str:
    """The one thing that would most improve the clone, read from a :func:`measure` report."""
    data = report["data"]
    if not report.get("enough", True) or data["owner_messages"] < MIN_OWNER_MESSAGES:
        return (
            f"History too short: I have {data['owner_messages']} messages of yours and need at "
            f"least {MIN_OWNER_MESSAGES} to measure anything (a few hundred to draft well). "
            "Import an export of your chats or mail (`train <export>`)."
        )
    if data["owner_replies"] < MIN_REPLY_PAIRS or _failed(report.get("drafting")):
        return (
            f"Few replies with a known parent ({data['owner_replies']}): import direct messages or "
            "threads, where each of your replies points at the message it answers."
        )
    if data["other_messages"] < MIN_OTHER_MESSAGES or _failed(report.get("triage")):
        return (
            "Import whole conversations (direct messages, with what others wrote to you): the "
            "triage learns from which messages you answered, and your contacts' messages."
        )
    drafting = report["drafting"]
    ours = drafting.get("fitted") or drafting.get("retrieval") or {}
    generic = drafting.get("baseline") or {}
    if data["owner_replies"] < FEW_REPLY_PAIRS or (
        ours.get("mrr_ci") and generic.get("mrr") is not None
        and ours["mrr_ci"][0] <= generic["mrr"]
    ):  # fmt: skip
        return (
            f"Import more direct messages: the drafts draw on {data['owner_replies']} of your "
            "replies and are not yet clearly more relevant than a generic reply."
        )
    ceiling = drafting.get("ceiling")
    fidelity = ours.get("fidelity")
    if ceiling and fidelity is not None and fidelity < ceiling - 0.15:
        return (
            "Drafts sound less like you than your own messages do: more of your replies (or "
            "`train on`, learning from what you send) give the drafts more of your own wording."
        )
    triage = report["triage"]
    unanswered = int(triage.get("held_out") or 0) - int(triage.get("answered") or 0)
    if unanswered < MIN_UNANSWERED:
        return (
            f"Import whole conversations, with the messages you did not answer: the triage has "
            f"only {unanswered} unanswered held-out messages to tell apart from the ones you did."
        )
    return (
        "Keep it learning: `train on` lets it learn from the messages you send, and editing or "
        "sending drafts teaches it what fits."
    )


# ---------------------------------------------------------------------------------- text


def _pct(x: float | None) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.0f}%"


def _ci(ci: Sequence[float] | None, *, percent: bool = True) -> str:
    if not ci:
        return ""
    if percent:
        return f" (95% CI {100 * ci[0]:.0f}–{100 * ci[1]:.0f}%)"
    return f" (95% CI {ci[0]:.2f}–{ci[1]:.2f})"


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def summary(report: Mapping[str, Any]) -> str:
    """The report as a few lines for people (chat and the CLI print the same)."""
    data = report["data"]
    lines = [
        f"Quality of your clone, measured on your own held-out messages "
        f"({data['owner_messages']:,} of yours, {data['owner_replies']:,} replies with a known "
        f"parent, {data['other_messages']:,} by {data['other_writers']:,} others).",
    ]
    if not report["enough"]:
        lines.append(f"Not enough data to measure yet. {report['advice']}")
        return "\n".join(lines)
    split = report["split"]
    if split["cutoff"]:
        lines.append(f"Learned from messages before {split['cutoff']}; scored on the rest.")
    else:
        lines.append(
            f"Learned from the oldest {100 * split['train_share']:.0f}% of each writer's "
            "messages; scored on the newest."
        )
    lines += drafting_lines(report.get("drafting"))
    lines += style_lines(report.get("verifier"), report.get("attribution"))
    lines += triage_lines(report.get("triage"))
    lines.append(f"What would help most: {report['advice']}")
    return "\n".join(lines)


def drafting_lines(d: Any) -> list[str]:
    if d is None:
        return []
    if "error" in d:
        return [f"• Drafts: not measured ({d['error']})."]
    ours_name = "fitted" if "fitted" in d else "retrieval"
    ours, generic = d[ours_name], d["baseline"]
    lines = [
        f"• Reply relevance on {d['items']:,} held-out replies (true reply ranked among "
        f"{d['candidates']}): MRR {_num(ours['mrr'])}{_ci(ours.get('mrr_ci'), percent=False)} "
        f"vs a generic reply {_num(generic['mrr'])}, chance {_num(d['chance']['mrr'])}.",
    ]
    if ours_name == "fitted" and "retrieval" in d:
        lines[-1] += f" Naive retrieval: {_num(d['retrieval']['mrr'])}."
        paired = d.get("fitted_vs_naive") or {}
        if paired.get("mean") is not None:
            lines[-1] += (
                f" Fit-first minus naive: {paired['mean']:+.2f}"
                f"{_ci([paired['low'], paired['high']], percent=False)}."
            )
    gate = d.get("gate") or {}
    if gate.get("no_draft_rate") is not None:
        lines.append(
            f"• Offered: no draft (nothing fits) for {_pct(gate['no_draft_rate'])} of the held-out "
            "messages; the others get the options that pass the fit gate."
        )
    acceptance = d.get("acceptance")
    if acceptance:
        shown = acceptance.get("shown_options", {}).get("share")
        true = acceptance.get("true_replies", {}).get("share")
        lines.append(
            f"• Reply fit: the shipped fit model (trained on other writers; the drafts' ranker "
            f"is adapted from it, so this flatters them) accepts {_pct(shown)} of the options "
            f"shown, and {_pct(true)} of your real replies (the ceiling)."
        )
    if "fidelity" in ours:
        lines.append(
            f"• Style: {_pct(ours['fidelity'])}{_ci(ours.get('fidelity_ci'))} of drafts are "
            f"attributed to you, vs {_pct(d.get('ceiling'))} of your own real replies (the "
            f"ceiling) and {_pct(generic.get('fidelity'))} of generic replies."
        )
    meters = d.get("meters") or {}
    if meters:
        parts = [
            f"{label} {_num(meters[key])}"
            for key, label in (("fit_meter_auc", "fits"), ("style_meter_auc", "sounds like you"))
            if meters.get(key) is not None
        ]
        if parts:
            lines.append(f"• Meters' ROC-AUC on held-out data: {', '.join(parts)} (chance 0.50).")
    return lines


def style_lines(v: Any, a: Any) -> list[str]:
    lines = []
    if v and "error" not in v:
        lines.append(
            f"• Style verifier: recognises {_pct(v['recognition_rate'])} of your held-out "
            f"messages; accepts {_pct(v['false_accept_rate'])} of other writers'."
        )
    if a and "error" not in a:
        lines.append(
            f"• Attribution among {len(a['authors'])} writers: "
            f"{_pct(a['verifier_accuracy'])}{_ci(a.get('verifier_accuracy_ci'))} correct vs "
            f"{_pct(a['baseline_accuracy'])} for a character-trigram baseline (chance "
            f"{_pct(a['chance'])})."
        )
    return lines


def triage_lines(t: Any) -> list[str]:
    if t is None:
        return []
    if "error" in t:
        return [f"• Triage: not measured ({t['error']})."]
    return [
        f"• Triage: ROC-AUC {_num(t['auc'])}{_ci(t.get('auc_ci'), percent=False)} for "
        f'"did you reply" on {t["held_out"]:,} held-out messages ({t["answered"]:,} answered); '
        f"{t['baseline']} {_num(t['baseline_auc'])}, chance 0.50.",
    ]


# ------------------------------------------------------------------------------- picture


def picture(report: Mapping[str, Any]) -> bytes | None:
    """A small bar chart of the figures next to their baselines and ceilings (PNG), or ``None``
    when nothing was measured."""
    rows = _picture_rows(report)
    if not rows:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 0.5 * len(rows) + 1.0), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ys = list(range(len(rows)))[::-1]
    ax.barh(ys, [r[1] for r in rows], color="#3b7dd8", height=0.55)
    for y, (_, value, reference, kind) in zip(ys, rows, strict=True):
        if reference is not None:
            ax.plot([reference, reference], [y - 0.38, y + 0.38], color="#d8573b", lw=2)
        note = f"{value:.2f}" + ("" if reference is None else f"  ({kind} {reference:.2f})")
        ax.text(1.03, y, note, va="center", fontsize=8)
    ax.set_yticks(ys, [r[0] for r in rows], fontsize=8)
    ax.set_xlim(0, 1)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title(
        f"How close the clone is to {report['owner']} (red: baseline or ceiling)", fontsize=9
    )
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _picture_rows(report: Mapping[str, Any]) -> list[tuple[str, float, float | None, str]]:
    rows: list[tuple[str, float, float | None, str]] = []
    d = report.get("drafting")
    if d and "error" not in d:
        ours = d.get("fitted") or d["retrieval"]
        rows.append(("reply relevance (MRR)", ours["mrr"], d["baseline"]["mrr"], "generic"))
        if ours.get("fidelity") is not None and d.get("ceiling") is not None:
            rows.append(("drafts sound like you", ours["fidelity"], d["ceiling"], "ceiling"))
        acceptance = d.get("acceptance") or {}
        shown = acceptance.get("shown_options", {}).get("share")
        true = acceptance.get("true_replies", {}).get("share")
        if shown is not None:
            rows.append(("options that fit", shown, true, "ceiling"))
    a = report.get("attribution")
    if a and "error" not in a:
        rows.append(
            ("attribution accuracy", a["verifier_accuracy"], a["baseline_accuracy"], "trigram")
        )
    t = report.get("triage")
    if t and "error" not in t and t.get("auc") is not None:
        rows.append(
            ("triage ROC-AUC", t["auc"], t.get("baseline_auc"), t.get("baseline") or "baseline")
        )
    return rows
