"""Train and evaluate the dialogue-act model (``core/drafting/data/acts.npz``).

Data: the Ubuntu IRC dev corpus (Kummerfeld et al. 2019, CC-BY-4.0), real multi-writer chat with
reply links. Chronological split at the 80th percentile of dates:

* training (before the cut-off, writers of the evaluation set excluded): weak labels from
  high-precision rules on the text (``weak_label``) and from the reply structure (a message answered
  by "np" / "you're welcome" thanked; a question answered by "yes"/"no" was a yes/no question; a
  message answered by "lol" joked; a thanked statement informed), capped at 2000 per act; and 600
  messages labelled by hand (``bench/data/acts_train_labels.jsonl``, weighted up);
* evaluation (after the cut-off): ``bench/data/acts_gold.jsonl``, 360 messages sampled at random and
  labelled by hand (ids and labels only; the text stays in the corpus), split into ``dev`` (120,
  used to choose the regularisation, the weight of the hand labels, a prior shift and whether the
  rules keep their confident cases) and ``test`` (240, reported with bootstrap CIs, paired against
  the rules).

Labelling guide (both sets): the act that most asks something of the reader; an imperative or a
suggestion addressed to the reader ("try X", "you should…", "pastebin the output") is a request;
an explicit question wins over a description of a problem; "ok"/"hmm"/"got it"/"np" acknowledge;
opinions, jokes and reactions ("lol", "wow", "that's random") are opinion.

The model is a multinomial logistic regression over the MiniLM embedding and the surface features
of :mod:`core.drafting.acts`; only its weights ship. Embeddings come from the shared cache
(``--cache``, ``ubuntu_minilm_texts.{json,npy}``) when present, otherwise they are computed.

    nice .venv/bin/python bench/train_acts.py            # train, evaluate, write the weights
    nice .venv/bin/python bench/train_acts.py --eval-only  # evaluate the shipped weights
    nice .venv/bin/python bench/train_acts.py --c 0.3 --hand-weight 10  # one setting only
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.drafting import acts as A  # noqa: E402

CORPUS = ROOT.parent / "shared/data/ubuntu-irc/messages.jsonl.gz"
CACHE = ROOT.parent / "cache"
GOLD = ROOT / "bench/data/acts_gold.jsonl"
HAND = ROOT / "bench/data/acts_train_labels.jsonl"
"""600 messages from before the cut-off (writers of the evaluation set excluded), labelled by hand:
training data beside the weak labels (ids and labels only)."""
OUT = ROOT / "core/drafting/data/acts.npz"
BOTS = {"ubottu", "ubotu"}
PER_CLASS = 2000
OWN_CACHE = Path("/tmp/minime_acts_embeddings.npz")
"""Vectors this script computed itself (the shared cache may not hold every text yet)."""
_THANKED = re.compile(
    r"^\W*(?:np|no problem|no prob|no probs|you'?re welcome|your welcome|yw|anytime|any time|"
    r"no worries|glad (?:i could|to) help|my pleasure|welcome)\b"
)
_LAUGHED = re.compile(r"^\W*(?:lol|lmao|lmfao|rofl|haha\w*|hehe\w*|heh|xd|:d|:p|😂|🤣)\W*$")
_THANKS_REPLY = re.compile(r"^\W*(?:thanks|thank you|thx|ty|tnx|thanx|cheers)\b")
_YES_NO = re.compile(r"^\W*(?:yes|yeah|yep|yup|ya|no|nope|nah|sure|correct)\b")
_FIRST_PERSON = re.compile(r"\b(?:i|my|me|i'm|im|i've|ive|mine)\b")


def load(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def weak_label(text: str, parent: str | None, children: list[str]) -> A.Act | None:
    """A label only where rules or the reply structure are nearly certain, else ``None``."""
    cleaned = A._clean(text)
    lowered = cleaned.lower()
    words = A._WORD.findall(lowered)
    if not words or cleaned.startswith("!"):
        return None
    any_q = A.has_question_mark(cleaned)
    end_q = A.ends_with_question(cleaned)
    replies = [A._clean(c).lower() for c in children]
    if not any_q and len(words) <= 15 and any(_THANKED.match(r) for r in replies):
        return "thanks"
    if end_q and not A._WH.search(lowered) and any(_YES_NO.match(r) for r in replies):
        return "yes_no_question"
    if not any_q and len(words) >= 3 and any(_LAUGHED.match(r) for r in replies):
        return "opinion"
    rule = A.rule_act(text)
    if (
        not any_q
        and len(words) >= 3
        and rule not in ("thanks", "apology", "greeting")
        and any(_THANKS_REPLY.match(r) for r in replies)
    ):
        # Thanked: the message helped, by telling something or by saying what to do.
        return "request" if A._IMPERATIVE.search(lowered) else "information"
    if rule == "thanks" and len(words) <= 6:
        return rule
    if rule in ("greeting", "acknowledgement") and len(words) <= 3:
        return rule
    if rule == "apology" and len(words) <= 6:
        return rule
    if rule == "open_question" and end_q and A._WH.search(lowered):
        return rule
    if rule == "yes_no_question" and end_q and A._AUX.search(lowered):
        return rule
    if rule == "request" and (A._REQUEST.search(lowered) or A._IMPERATIVE.search(lowered)):
        return rule
    if rule == "invitation":
        return rule
    if rule == "problem" and not any_q and len(words) >= 5 and _FIRST_PERSON.search(lowered):
        return rule
    if rule == "opinion" and not any_q and A._OPINION.search(cleaned):
        return rule
    if (
        rule == "information"
        and parent is not None
        and A.has_question_mark(parent)
        and len(words) >= 4
        and not any_q
    ):
        return rule
    return None


class Embeddings:
    """MiniLM vectors of corpus texts from the shared cache, computing any that are missing."""

    def __init__(self, cache: Path) -> None:
        self.rows: dict[str, int] = {}
        self.matrix = np.zeros((0, 384), dtype=np.float32)
        texts_file, vectors_file = (
            cache / "ubuntu_minilm_texts.json",
            cache / "ubuntu_minilm_texts.npy",
        )
        if texts_file.exists() and vectors_file.exists():
            texts = json.loads(texts_file.read_text())
            self.rows = {t: i for i, t in enumerate(texts)}
            self.matrix = np.load(vectors_file).astype(np.float32)
            print(f"embeddings: {len(texts)} cached texts from {cache}", file=sys.stderr)
        self._shared = len(self.matrix)
        if OWN_CACHE.exists():
            with np.load(OWN_CACHE, allow_pickle=False) as data:
                own = [str(t) for t in data["texts"]]
                start = len(self.matrix)
                self.matrix = np.vstack([self.matrix, data["vectors"].astype(np.float32)])
                for i, t in enumerate(own):
                    self.rows.setdefault(t, start + i)
        self._embedder: Any = None

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.rows))
        if missing:
            if self._embedder is None:
                import torch

                from core.engines.embedding import SentenceEmbedder

                torch.set_num_threads(1)
                self._embedder = SentenceEmbedder(threads=1)
            print(f"embeddings: computing {len(missing)}", file=sys.stderr)
            start = len(self.matrix)
            self.matrix = np.vstack([self.matrix, self._embedder.encode(missing)])
            for i, t in enumerate(missing):
                self.rows[t] = start + i
            own = [t for t in self.rows if self.rows[t] >= self._shared]
            np.savez(
                OWN_CACHE,
                texts=np.array(own),
                vectors=self.matrix[[self.rows[t] for t in own]].astype(np.float16),
            )
        return self.matrix[[self.rows[t] for t in texts]]


def f1(label: str, gold: list[str], pred: list[str]) -> float:
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == p == label)
    fp = sum(1 for g, p in zip(gold, pred, strict=True) if p == label and g != label)
    fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p != label)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def macro_f1(gold: list[str], pred: list[str]) -> float:
    """Mean F1 over the acts present in ``gold``."""
    return float(np.mean([f1(label, gold, pred) for label in sorted(set(gold))]))


def accuracy(gold: list[str], pred: list[str]) -> float:
    return float(np.mean([g == p for g, p in zip(gold, pred, strict=True)]))


def bootstrap(
    gold: list[str], base: list[str], new: list[str], *, rounds: int = 2000, seed: int = 0
) -> dict[str, Any]:
    """Point values and 95% CIs of accuracy and macro-F1 for both, and of the paired difference."""
    rng = np.random.default_rng(seed)
    n = len(gold)
    draws: dict[str, list[float]] = defaultdict(list)
    for _ in range(rounds):
        idx = rng.integers(0, n, n)
        g = [gold[i] for i in idx]
        b = [base[i] for i in idx]
        m = [new[i] for i in idx]
        for name, fn in (("accuracy", accuracy), ("macro_f1", macro_f1)):
            vb, vm = fn(g, b), fn(g, m)
            draws[f"rules_{name}"].append(vb)
            draws[f"model_{name}"].append(vm)
            draws[f"diff_{name}"].append(vm - vb)
    out: dict[str, Any] = {"n": n}
    for name, fn in (("accuracy", accuracy), ("macro_f1", macro_f1)):
        out[f"rules_{name}"] = fn(gold, base)
        out[f"model_{name}"] = fn(gold, new)
        out[f"diff_{name}"] = out[f"model_{name}"] - out[f"rules_{name}"]
    for key, values in draws.items():
        lo, hi = np.percentile(values, [2.5, 97.5])
        out[f"{key}_ci"] = [round(float(lo), 3), round(float(hi), 3)]
    return out


def train(
    texts: list[str],
    labels: list[str],
    vectors: np.ndarray,
    weights: np.ndarray,
    *,
    c: float,
) -> A.ActModel:
    """Multinomial logistic regression over ``[embedding, standardised surface features]``."""
    from sklearn.linear_model import LogisticRegression

    surface = np.asarray([A.surface_features(t) for t in texts], dtype=np.float32)
    mean = surface.mean(axis=0)
    scale = surface.std(axis=0)
    scale[scale < 1e-6] = 1.0
    x = np.hstack([vectors.astype(np.float32), (surface - mean) / scale])
    clf = LogisticRegression(C=c, max_iter=2000)
    clf.fit(x, labels, sample_weight=weights)
    return A.ActModel(
        labels=tuple(str(label) for label in clf.classes_),  # type: ignore[arg-type]
        coef=clf.coef_.astype(np.float32),
        intercept=clf.intercept_.astype(np.float32),
        mean=mean.astype(np.float32),
        scale=scale.astype(np.float32),
        dim=vectors.shape[1],
    )


def with_prior(model: A.ActModel, trained: Counter[str], wanted: Counter[str]) -> A.ActModel:
    """Shift the intercepts from the (capped, near-uniform) training prior of the acts to the
    prior of hand-labelled real messages (add-one smoothed)."""
    t_total = sum(trained.values()) + len(model.labels)
    w_total = sum(wanted.values()) + len(model.labels)
    shift = np.array(
        [
            np.log((wanted[label] + 1) / w_total) - np.log((trained[label] + 1) / t_total)
            for label in model.labels
        ],
        dtype=np.float32,
    )
    return dataclasses.replace(model, intercept=model.intercept + shift)


def save(model: A.ActModel, path: Path, meta: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        labels=np.array(model.labels),
        features=np.array(A.SURFACE_FEATURES),
        coef=model.coef.astype(np.float16).astype(np.float32),
        intercept=model.intercept,
        mean=model.mean,
        scale=model.scale,
        dim=np.array(model.dim),
        rules_first=np.array(model.rules_first),
        meta=np.array(json.dumps(meta)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--hand", type=Path, default=HAND)
    parser.add_argument("--c", type=float, nargs="*", help="regularisation values to try")
    parser.add_argument(
        "--hand-weight", type=float, nargs="*", help="weights of the hand labels to try"
    )
    parser.add_argument("--eval-only", action="store_true", help="evaluate the shipped weights")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    t0 = time.time()
    messages = load(args.corpus)
    by_id = {m["id"]: m for m in messages}
    children: dict[str, list[str]] = defaultdict(list)
    for m in messages:
        if m["reply_to"]:
            children[m["reply_to"]].append(m["text"])
    dates = sorted(m["sent_at"][:10] for m in messages)
    cutoff = dates[int(len(dates) * 0.8)]
    gold = [json.loads(line) for line in args.gold.read_text().splitlines() if line.strip()]
    gold_senders = {by_id[g["id"]]["sender"] for g in gold}
    embed = Embeddings(args.cache)

    def evaluate(model: A.ActModel, split: str) -> tuple[list[str], list[str], list[str]]:
        rows = [g for g in gold if g["split"] == split]
        texts = [by_id[g["id"]]["text"] for g in rows]
        truth = [g["act"] for g in rows]
        rules = [A.rule_act(t) for t in texts]
        learned = A.classify_acts(texts, embed(texts), model=model)
        return truth, list(rules), list(learned)

    if args.eval_only:
        model = A.shipped_model()
        assert model is not None, "no shipped model"
        meta: dict[str, Any] = {}
    else:
        pool = [
            m
            for m in messages
            if m["sent_at"][:10] <= cutoff
            and m["sender"] not in gold_senders
            and m["sender"] not in BOTS
        ]
        labelled: dict[str, list[str]] = defaultdict(list)
        for m in pool:
            parent = by_id.get(m["reply_to"]) if m["reply_to"] else None
            label = weak_label(m["text"], parent["text"] if parent else None, children[m["id"]])
            if label is not None:
                labelled[label].append(m["text"])
        rng = random.Random(14)
        texts: list[str] = []
        labels: list[str] = []
        for label, items in sorted(labelled.items()):
            items = list(dict.fromkeys(items))
            rng.shuffle(items)
            texts += items[:PER_CLASS]
            labels += [label] * len(items[:PER_CLASS])
        counts = Counter(labels)
        print(f"weak labels: {dict(counts)} (pool {len(pool)}, cut-off {cutoff})", file=sys.stderr)
        hand = [json.loads(line) for line in args.hand.read_text().splitlines() if line.strip()]
        hand_texts = [by_id[h["id"]]["text"] for h in hand]
        hand_labels = [h["act"] for h in hand]
        assert not {by_id[h["id"]]["sender"] for h in hand} & gold_senders
        all_texts = texts + hand_texts
        all_labels = labels + hand_labels
        all_vectors = embed(all_texts)
        trained = Counter(all_labels)
        wanted = Counter(hand_labels)
        best: tuple[float, float, float, bool, bool] | None = None
        for c in args.c or (0.3, 1.0):
            for weight in args.hand_weight or (0.0, 10.0, 30.0):
                w = np.array([1.0] * len(texts) + [weight] * len(hand_texts))
                keep = w > 0
                fitted = train(
                    [t for t, k in zip(all_texts, keep, strict=True) if k],
                    [label for label, k in zip(all_labels, keep, strict=True) if k],
                    all_vectors[keep],
                    w[keep],
                    c=c,
                )
                for prior in (False, True):
                    candidate = with_prior(fitted, trained, wanted) if prior else fitted
                    for rules_first in (True, False):
                        candidate = dataclasses.replace(candidate, rules_first=rules_first)
                        truth, _rules, learned = evaluate(candidate, "dev")
                        score = macro_f1(truth, learned)
                        print(
                            f"  dev C={c} hand-weight={weight} prior={prior} "
                            f"rules-first={rules_first}: macro-F1 {score:.3f} "
                            f"accuracy {accuracy(truth, learned):.3f}",
                            file=sys.stderr,
                        )
                        if best is None or score > best[0]:
                            best = (score, c, weight, prior, rules_first)
        assert best is not None
        _, c, weight, prior, rules_first = best
        w = np.array([1.0] * len(texts) + [weight] * len(hand_texts))
        keep = w > 0
        model = train(
            [t for t, k in zip(all_texts, keep, strict=True) if k],
            [label for label, k in zip(all_labels, keep, strict=True) if k],
            all_vectors[keep],
            w[keep],
            c=c,
        )
        if prior:
            model = with_prior(model, trained, wanted)
        model = dataclasses.replace(model, rules_first=rules_first)
        meta = {
            "trained_on": "Ubuntu IRC (Kummerfeld et al. 2019, CC-BY-4.0): weak labels "
            f"and {len(hand)} hand-labelled messages",
            "cutoff": cutoff,
            "examples": dict(counts),
            "hand_labelled": dict(wanted),
            "C": c,
            "hand_weight": weight,
            "prior_shift": prior,
            "rules_first": rules_first,
        }
        save(model, args.out, meta)
        model = A.ActModel.from_npz(str(args.out))
    truth, rules, learned = evaluate(model, "test")
    report = bootstrap(truth, rules, learned)
    report["support"] = dict(Counter(truth))
    report["per_class_f1"] = {
        label: {
            "rules": round(f1(label, truth, rules), 3),
            "model": round(f1(label, truth, learned), 3),
        }
        for label in sorted(set(truth))
    }
    report["meta"] = meta
    report["seconds"] = round(time.time() - t0, 1)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"held-out hand-labelled test set: {report['n']} real messages after {cutoff}")
    for name in ("accuracy", "macro_f1"):
        print(
            f"  {name:9s} rules {report[f'rules_{name}']:.3f} {report[f'rules_{name}_ci']}"
            f"  model {report[f'model_{name}']:.3f} {report[f'model_{name}_ci']}"
            f"  difference {report[f'diff_{name}']:+.3f} {report[f'diff_{name}_ci']}"
        )
    print(f"  support {report['support']}")
    for label, scores in report["per_class_f1"].items():
        print(f"  F1 {label:16s} rules {scores['rules']:.2f}  model {scores['model']:.2f}")


if __name__ == "__main__":
    main()
