"""Tune the verifier's block weights and regularisation on a development split (never the test split).

    HF_HUB_OFFLINE=1 python bench/verifier_tune.py [--embedder hashing|minilm]

Takes the 10 most active human senders of the Ubuntu IRC corpus, keeps only the *training* part of
the chronological 80/20 split, and splits that again chronologically (80/20 of it) into
dev-train and dev-test. Features are computed once; for each configuration a one-vs-rest linear
model per writer is trained on dev-train and dev-test messages are attributed by the highest
decision value (a fast proxy of the judge, which uses calibrated probabilities). The weights in
``core/verifier.py`` were chosen from this table; the held-out 20% is only used by
``bench/verifier_eval.py``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.eval_cli import load_messages  # noqa: E402
from core import evaluation, verifier  # noqa: E402
from core.engines.embedding import HashingEmbedder, SentenceEmbedder  # noqa: E402

DEFAULT_INPUT = ROOT.parent / "shared" / "data" / "ubuntu-irc" / "messages.jsonl.gz"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--embedder", choices=("hashing", "minilm"), default="hashing")
    parser.add_argument(
        "--grid", help='JSON object of lists overriding the default grid, e.g. {"embed": [0, 0.4]}'
    )
    parser.add_argument(
        "--cache", type=Path, help="keep the dense features in this .npz between runs"
    )
    args = parser.parse_args()
    messages = load_messages(args.input).messages
    authors = evaluation.most_active_senders(messages, 10)
    train, _ = evaluation.chronological_split(messages)  # the test split is never touched here
    dev_train, dev_test = evaluation.chronological_split(train)
    others = [
        m.text
        for m in dev_train
        if m.sender not in authors and m.sender not in evaluation.KNOWN_BOTS
    ]
    others = others[:4000]
    tr = [(m.text, m.sender) for m in dev_train if m.sender in authors and m.text.strip()]
    te = [(m.text, m.sender) for m in dev_test if m.sender in authors and m.text.strip()]
    texts = [t for t, _ in tr] + others
    labels = np.array([s for _, s in tr] + ["<other>"] * len(others))
    test_texts = [t for t, _ in te]
    truth = np.array([s for _, s in te])
    embedder = HashingEmbedder() if args.embedder == "hashing" else SentenceEmbedder()

    t = time.perf_counter()
    char, char_x = verifier._Tfidf.fit_transform(texts, "char_wb", (2, 4), 60000)
    word, word_x = verifier._Tfidf.fit_transform(texts, "word", (1, 2), 20000)
    if args.cache and args.cache.exists():
        with np.load(args.cache) as saved:
            dense = verifier._Dense(saved["fw"], saved["st"], saved["em"])
            dense_t = verifier._Dense(saved["fw_t"], saved["st_t"], saved["em_t"])
    else:
        dense = verifier._dense_features(texts, embedder)
        dense_t = verifier._dense_features(test_texts, embedder)
        if args.cache:
            np.savez(args.cache, fw=dense.function, st=dense.style, em=dense.embed,
                     fw_t=dense_t.function, st_t=dense_t.style, em_t=dense_t.embed)  # fmt: skip
    char_t, word_t = char.transform(test_texts), word.transform(test_texts)
    mean_fw, std_fw = dense.function.mean(0), dense.function.std(0) + 1e-3
    mean_st, std_st = dense.style.mean(0), dense.style.std(0) + 1e-3
    print(
        f"{len(tr)} dev-train + {len(others)} others, {len(te)} dev-test; features {time.perf_counter() - t:.0f} s"
    )

    def block(d: verifier._Dense, w_fw: float, w_st: float, w_em: float) -> np.ndarray:
        fw = (d.function - mean_fw) / std_fw * (w_fw / math.sqrt(d.function.shape[1]))
        st = (d.style - mean_st) / std_st * (w_st / math.sqrt(d.style.shape[1]))
        return np.hstack([fw, st, d.embed * w_em])

    grid = {
        "char": [1.0],
        "word": [0.3, 0.6],
        "fw": [0.0, 0.35],
        "style": [0.5, 1.0],
        "embed": [0.0, 0.2, 0.4],
        "C": [4.0],
    }
    if args.grid:
        grid.update(json.loads(args.grid))
    rows = []
    for values in itertools.product(*grid.values()):
        cfg = dict(zip(grid, values, strict=True))
        x = sparse.hstack([char_x * cfg["char"], word_x * cfg["word"],
                           sparse.csr_matrix(block(dense, cfg["fw"], cfg["style"], cfg["embed"]))], format="csr")  # fmt: skip
        xt = sparse.hstack([char_t * cfg["char"], word_t * cfg["word"],
                            sparse.csr_matrix(block(dense_t, cfg["fw"], cfg["style"], cfg["embed"]))], format="csr")  # fmt: skip
        scores = []
        for author in authors:
            y = (labels == author).astype(float)
            model = LogisticRegression(
                C=cfg["C"], class_weight="balanced", solver="liblinear", dual=True, max_iter=2000
            )
            model.fit(x, y)
            scores.append(model.decision_function(xt))
        predicted = np.array(authors)[np.vstack(scores).argmax(axis=0)]
        accuracy = float((predicted == truth).mean())
        rows.append((accuracy, cfg))
        print(f"{100 * accuracy:5.1f}%  {cfg}", flush=True)
    rows.sort(key=lambda r: -r[0])
    print("\nbest:")
    for accuracy, cfg in rows[:8]:
        print(f"{100 * accuracy:5.1f}%  {cfg}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
