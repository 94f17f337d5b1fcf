"""Train the global reply-fit model (``core/drafting/fit.py``) and the evaluation's judge model.

    nice .venv/bin/python bench/train_fit.py [--corpus ../shared/data/ubuntu-irc/messages.jsonl.gz]
        [--vectors ../cache] [--embedder minilm|minilm-torch] [--precision int8|fp32]
        [--exclude-top 16] [--rank 16] [--epochs 6] [--in-batch W] [--only ranker|judge]
        [--out core/drafting/data/fit.npz] [--judge-out ../cache/fit_judge.npz]

Vectors: the encoder's named by ``--embedder``/``--precision`` (default: the int8 ONNX encoder the
bot runs), read from ``bench/corpus_vectors.py``'s cache in ``--vectors`` when it holds them. The
shipped ``fit.npz`` was trained on the torch encoder's vectors (``--embedder minilm-torch``);
retrained on int8 vectors it measures the same (docs/benchmarks.md), so it was kept.

Data: every (message → reply) pair of the corpus's human reply links whose reply writer is neither
a bot nor one of the ``--exclude-top`` most active human senders (the evaluation's owners and the
writers of its authorship judge), and whose message none of those writers answered. The remaining
writers are split by a hash of their name into two disjoint sets: two thirds train the shipped
**ranker**, one third the **judge** fit model that ``bench/draft_eval.py`` uses to check the drafts
(a fit model that never saw the ranker's writers). One tenth of each set's writers is held out for
early stopping and the global calibration.

Each true pair competes with 6 replies to other messages nearby in the same channel (hard
negatives) and 6 random replies of the set; the loss is the softmax cross-entropy of the true reply
among the 13. Torch on one CPU thread. The corpus (#ubuntu IRC disentanglement data, Kummerfeld et
al., ACL 2019) is CC-BY-4.0; only learned weights ship, with attribution in
``core/drafting/data/README.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.corpus_vectors import encode_with_progress, encoder_tag, load_cached  # noqa: E402
from bot.eval_cli import load_messages  # noqa: E402
from core.drafting.fit import FEATURES, FitWeights, pair_features, roc_auc  # noqa: E402
from core.evaluation import KNOWN_BOTS, most_active_senders  # noqa: E402
from core.models import Message  # noqa: E402

HARD = 6
RANDOM = 6
WINDOW = 40


def writer_group(sender: str) -> str:
    """``ranker`` (2/3 of writers) or ``judge`` (1/3), stable across runs; plus a ``/val`` tenth."""
    h = int.from_bytes(hashlib.blake2b(sender.encode(), digest_size=8).digest(), "little")
    group = "judge" if h % 3 == 2 else "ranker"
    return group + ("/val" if (h // 3) % 10 == 0 else "")


def vectors_for(
    texts: list[str], cache: Path, tag: str, embedder: str, precision: str, hashing: bool = False
) -> np.ndarray:
    """Corpus text embeddings of the encoder the bot runs: from ``bench/corpus_vectors.py``'s
    cache for ``tag`` when it holds every text, else computed now (or, to try the pipeline
    quickly, the hashing test embedder)."""
    if hashing:
        from core.engines.embedding import HashingEmbedder

        return HashingEmbedder(dim=384).encode(texts)
    known = load_cached(cache, tag)
    if known and all(t in known for t in texts):
        return np.stack([known[t] for t in texts])
    from bot.bootstrap import default_embedder
    from bot.settings import load_settings

    settings = load_settings(embedder=embedder, embedder_precision=precision)
    return encode_with_progress(default_embedder(settings), texts)


def build_examples(
    messages: list[Message], excluded: set[str], rng: np.random.Generator
) -> dict[str, list[tuple[int, list[int], int]]]:
    """Per writer group: (message index, [true reply, negatives…] indices, hard count)."""
    by_id = {m.id: i for i, m in enumerate(messages)}
    answered_by_excluded = {m.reply_to for m in messages if m.sender in excluded and m.reply_to}
    by_conversation: dict[str, list[int]] = defaultdict(list)
    for i, m in enumerate(messages):
        by_conversation[m.conversation].append(i)
    position = {i: (c, k) for c, rows in by_conversation.items() for k, i in enumerate(rows)}
    pools: dict[str, list[int]] = defaultdict(list)
    positives: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for i, m in enumerate(messages):
        if m.sender in excluded or not m.reply_to or not m.text.strip():
            continue
        parent = by_id.get(m.reply_to)
        if parent is None:
            continue
        p = messages[parent]
        if p.sender == m.sender or not p.text.strip() or p.id in answered_by_excluded:
            continue
        group = writer_group(m.sender)
        pools[group.split("/")[0]].append(i)
        positives[group].append((parent, i))
    out: dict[str, list[tuple[int, list[int], int]]] = defaultdict(list)
    for group, items in positives.items():
        pool = pools[group.split("/")[0]]
        for parent, reply in items:
            conv, k = position[reply]
            rows = by_conversation[conv]
            near = [
                j
                for j in rows[max(0, k - WINDOW) : k + WINDOW]
                if j != reply
                and messages[j].reply_to
                and messages[j].reply_to != messages[parent].id
                and messages[j].sender not in excluded
                and messages[j].text.strip()
                and messages[j].text != messages[reply].text
            ]
            hard = [int(j) for j in rng.permutation(near)[:HARD]] if near else []
            rand = [
                pool[int(j)]
                for j in rng.choice(len(pool), size=RANDOM + 2, replace=False)
                if pool[int(j)] != reply and messages[pool[int(j)]].reply_to != messages[parent].id
            ][: RANDOM + HARD - len(hard)]
            out[group].append((parent, [reply, *hard, *rand], len(hard)))
    return out


def tensors(examples, messages, vectors):  # type: ignore[no-untyped-def]
    width = 1 + HARD + RANDOM
    n = len(examples)
    m_idx = np.array([e[0] for e in examples])
    c_idx = np.array([e[1] + [e[1][-1]] * (width - len(e[1])) for e in examples])
    mask = np.array([[1] * len(e[1]) + [0] * (width - len(e[1])) for e in examples], dtype=bool)
    feats = np.zeros((n, width, len(FEATURES)))
    for row, (parent, cands, _) in enumerate(examples):
        texts = [messages[c].text for c in cands]
        feats[row, : len(cands)] = pair_features(messages[parent].text, texts)
    return m_idx, c_idx, mask, feats


def train(args, messages, vectors, train_ex, val_ex, name):  # type: ignore[no-untyped-def]
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    m_i, c_i, mask, feats = tensors(train_ex, messages, vectors)
    vm_i, vc_i, vmask, vfeats = tensors(val_ex, messages, vectors)
    mean = feats[mask].mean(0)
    scale = feats[mask].std(0) + 1e-6
    V = torch.tensor(vectors)
    d = V.shape[1]

    def prep(mi, ci, mk, ft):  # type: ignore[no-untyped-def]
        return (
            torch.tensor(mi),
            torch.tensor(ci),
            torch.tensor(mk),
            torch.tensor((ft - mean) / scale, dtype=torch.float32),
        )

    tr, va = prep(m_i, c_i, mask, feats), prep(vm_i, vc_i, vmask, vfeats)
    A = torch.nn.Parameter(torch.randn(d, args.rank) * 0.01)
    B = torch.nn.Parameter(torch.randn(d, args.rank) * 0.01)
    alpha = torch.nn.Parameter(torch.tensor(5.0))
    u = torch.nn.Parameter(torch.zeros(d))
    w = torch.nn.Parameter(torch.zeros(len(FEATURES)))
    params = [A, B, alpha, u, w]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)

    def scores(batch):  # type: ignore[no-untyped-def]
        mi, ci, mk, ft = batch
        m = V[mi]  # (n, d)
        r = V[ci]  # (n, c, d)
        bil = ((m @ A).unsqueeze(1) * (r @ B)).sum(-1)
        s = bil + alpha * (r @ m.unsqueeze(-1)).squeeze(-1) + r @ u + ft @ w
        return s.masked_fill(~mk, -1e4)

    def evaluate(batch):  # type: ignore[no-untyped-def]
        with torch.no_grad():
            s = scores(batch)
            rank = 1 + (s[:, 1:] >= s[:, :1]).sum(1)
            return float((1.0 / rank.float()).mean()), s

    n = len(train_ex)
    best, best_state = -1.0, None
    for epoch in range(args.epochs):
        perm = torch.randperm(n)
        total = 0.0
        for start in range(0, n, args.batch):
            idx = perm[start : start + args.batch]
            batch = tuple(t[idx] for t in tr)
            loss = torch.nn.functional.cross_entropy(
                scores(batch), torch.zeros(len(idx), dtype=torch.long)
            )
            if args.in_batch:
                # Every other true reply of the batch is a negative too (embedding part only).
                m, r = V[batch[0]], V[batch[1][:, 0]]
                logits = (m @ A) @ (r @ B).T + alpha * (m @ r.T) + (r @ u).unsqueeze(0)
                loss = loss + args.in_batch * torch.nn.functional.cross_entropy(
                    logits, torch.arange(len(idx))
                )
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        mrr, _ = evaluate(va)
        print(f"  [{name}] epoch {epoch + 1}: loss {total / n:.3f}  val MRR {mrr:.3f}", flush=True)
        if mrr > best:
            best = mrr
            best_state = [p.detach().clone() for p in params]
    for p, saved in zip(params, best_state, strict=True):
        p.data = saved
    mrr, s = evaluate(va)
    # The untrained baseline: cosine of message and reply embeddings alone.
    mi, ci, mk, _ = va
    cos = (V[ci] @ V[mi].unsqueeze(-1)).squeeze(-1).masked_fill(~mk, -1e4)
    cos_mrr = float((1.0 / (1 + (cos[:, 1:] >= cos[:, :1]).sum(1)).float()).mean())
    raw = s.numpy().astype(np.float64)
    pos = raw[:, 0]
    neg = raw[:, 1:][vmask[:, 1:]]
    hard_mask = np.zeros_like(vmask)
    for row, ex in enumerate(val_ex):
        hard_mask[row, 1 : 1 + ex[2]] = True
    hard = raw[hard_mask]
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([pos, neg]).reshape(-1, 1)
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    platt = LogisticRegression(C=100.0, class_weight="balanced").fit(x, y)
    slope, intercept = float(platt.coef_[0][0]), float(platt.intercept_[0])
    prob_neg = 1 / (1 + np.exp(-(slope * neg + intercept)))
    threshold = max(0.5, float(np.quantile(prob_neg, 0.9)))
    metrics = {
        "val_pairs": len(val_ex),
        "train_pairs": len(train_ex),
        "val_mrr_13": round(mrr, 4),
        "val_mrr_13_cosine_only": round(cos_mrr, 4),
        "val_auc_all_negatives": round(roc_auc(pos, neg) or 0, 4),
        "val_auc_hard_negatives": round(roc_auc(pos, hard) or 0, 4),
    }
    print(f"  [{name}] {metrics}", flush=True)
    weights = FitWeights(
        a=A.detach().numpy(),
        b=B.detach().numpy(),
        alpha=float(alpha),
        u=u.detach().numpy(),
        w=w.detach().numpy().astype(np.float64),
        bias=0.0,
        feature_mean=mean,
        feature_scale=scale,
        platt=(slope, intercept),
        threshold=threshold,
        meta={
            "version": 1,
            "model": name,
            "rank": args.rank,
            "embedder": "all-MiniLM-L6-v2",
            "encoder": args.tag,
            "corpus": "Ubuntu IRC disentanglement (Kummerfeld et al. 2019), CC-BY-4.0",
            "excluded_top_writers": args.exclude_top,
            "excluded_writers": sorted(args.excluded),
            **metrics,
        },
    )
    return weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, default=ROOT.parent / "shared/data/ubuntu-irc/messages.jsonl.gz"
    )
    parser.add_argument("--vectors", type=Path, default=ROOT.parent / "cache")
    parser.add_argument("--exclude-top", type=int, default=16)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "core/drafting/data/fit.npz")
    parser.add_argument("--judge-out", type=Path, default=ROOT.parent / "cache/fit_judge.npz")
    parser.add_argument("--only", choices=("ranker", "judge"))
    parser.add_argument("--in-batch", type=float, default=0.0, help="weight of in-batch negatives")
    parser.add_argument("--embedder", choices=("minilm", "minilm-torch"), default="minilm")
    parser.add_argument("--precision", choices=("int8", "fp32"), default="int8")
    parser.add_argument("--hashing", action="store_true", help="dry run on hashed vectors")
    args = parser.parse_args()
    started = time.perf_counter()
    messages = load_messages(args.corpus).messages
    excluded = set(most_active_senders(messages, args.exclude_top)) | set(KNOWN_BOTS)
    args.excluded = excluded
    print(f"excluded reply writers: {sorted(excluded)}")
    args.tag = encoder_tag(args.embedder, args.precision)
    vectors = vectors_for(
        [m.text for m in messages], args.vectors, args.tag, args.embedder, args.precision,
        args.hashing,
    )  # fmt: skip
    rng = np.random.default_rng(args.seed)
    groups = build_examples(messages, excluded, rng)
    for g, ex in sorted(groups.items()):
        print(f"  {g}: {len(ex)} pairs")
    for name, out in (("ranker", args.out), ("judge", args.judge_out)):
        if args.only and args.only != name:
            continue
        weights = train(args, messages, vectors, groups[name], groups[name + "/val"], name)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(weights.to_bytes())
        print(f"{name}: wrote {out} ({out.stat().st_size / 1e3:.0f} kB)")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
