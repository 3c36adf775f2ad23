#!/usr/bin/env python3
"""Scores `face_recognition_embeddings.py` output with the protocol of `rollcall_models::eval`
(a numpy re-implementation, which agreed with `tune_alignment` to every printed digit on
Rollcall's own descriptors), and also on the fixed pairs of `pairs.tsv`.

    python3 score_embeddings.py fr.jsonl [first|primary] [--unit] [FACES_DIR]

`first`: the first face `face_recognition` returns (as its examples use it); `primary`: the
face Rollcall's rule picks (largest, discounted by its distance from the centre). `--unit`
scales every encoding to unit length first. Paths in the file are relative to FACES_DIR
(default ../shared/faces).
"""
import collections
import json
import sys

import numpy as np


def pick_face(row, rule):
    if not row["encodings"]:
        return None
    if rule == "first":
        return np.array(row["encodings"][0])
    cx, cy = row["width"] / 2, row["height"] / 2
    diagonal = np.hypot(row["width"], row["height"])

    def weight(box):
        top, right, bottom, left = box
        off = np.hypot((left + right) / 2 - cx, (top + bottom) / 2 - cy) / diagonal
        return min(right - left, bottom - top) * max(0.0, 1 - off)

    best = max(range(len(row["boxes"])), key=lambda i: weight(row["boxes"][i]))
    return np.array(row["encodings"][best])


def threshold_at(negatives, rate):
    negatives = np.sort(negatives)
    k = int(np.floor(rate * len(negatives)))
    return negatives[k - 1] if k else np.nextafter(negatives[0], -1)


def tar(genuine, impostor, far):
    return float(np.mean(np.asarray(genuine) <= threshold_at(impostor, far)))


def all_pairs(by_person):
    flat = [(p, e) for p, es in by_person.items() for e in es if e is not None]
    who = np.array([p for p, _ in flat])
    x = np.stack([e for _, e in flat])
    sq = (x ** 2).sum(1)
    d = np.sqrt(np.maximum(sq[:, None] + sq[None] - 2 * x @ x.T, 0))
    iu = np.triu_indices(len(flat), 1)
    same = (who[:, None] == who[None])[iu]
    return d[iu][same], d[iu][~same]


def fixed_pairs(embeddings, faces_dir):
    genuine, impostor = [], []
    with open(f"{faces_dir}/pairs.tsv") as f:
        rows = [line.rstrip("\n").split("\t") for line in f if not line.startswith("#")][1:]
    for left, right, same in rows:
        a, b = embeddings.get(left), embeddings.get(right)
        if a is not None and b is not None:
            (genuine if same == "1" else impostor).append(np.linalg.norm(a - b))
    return genuine, impostor


def split(es, g):
    ok = [e for e in es if e is not None]
    n = max(1, min(g, len(ok) - 1)) if ok else 0
    return (np.mean(ok[:n], 0) if n else None), ok[n:]


def rank1(by_person, g):
    names, templates, probes = [], [], []
    for p, es in by_person.items():
        t, rest = split(es, g)
        if t is not None:
            names.append(p)
            templates.append(t)
        probes += [(p, e) for e in rest]
    m = np.stack(templates)
    hits = [names[int(np.argmin(np.linalg.norm(m - e, axis=1)))] == p for p, e in probes]
    return float(np.mean(hits))


def open_set(by_person, fpir):
    names, templates, mated, strangers = [], [], [], []
    for i, (p, es) in enumerate(by_person.items()):
        if i % 2:
            strangers += [e for e in es if e is not None]
            continue
        t, rest = split(es, 3)
        if t is not None:
            names.append(p)
            templates.append(t)
        mated += [(p, e) for e in rest]
    m = np.stack(templates)

    def nearest(e):
        d = np.linalg.norm(m - e, axis=1)
        j = int(np.argmin(d))
        return names[j], d[j]

    t = threshold_at([nearest(e)[1] for e in strangers], fpir)
    return float(np.mean([w == p and d <= t for p, e in mated for w, d in [nearest(e)]]))


def main(args):
    path = args[0]
    rule = "primary" if "primary" in args else "first"
    unit = "--unit" in args
    rest = [a for a in args[1:] if a not in ("first", "primary", "--unit")]
    faces_dir = rest[0] if rest else "../shared/faces"
    embeddings = {}
    with open(path) as f:
        for line in f:
            row = json.loads(line)
            e = pick_face(row, rule)
            if e is not None and unit:
                e = e / np.linalg.norm(e)
            embeddings[row["path"]] = e
    by_person = collections.OrderedDict()
    for key in sorted(embeddings):
        by_person.setdefault(key.split("/")[-2], []).append(embeddings[key])
    failures = sum(e is None for e in embeddings.values())
    g, i = all_pairs(by_person)
    fg, fi = fixed_pairs(embeddings, faces_dir)
    print(f"photos {len(embeddings)}, failure to extract {failures / len(embeddings):.4f}")
    print(f"all pairs ({len(g)} + {len(i)}): TAR {tar(g, i, 1e-3):.4f} at FAR 1e-3, {tar(g, i, 1e-4):.4f} at 1e-4")
    print(f"pairs.tsv ({len(fg)} + {len(fi)}): TAR {tar(fg, fi, 1e-3):.4f} at FAR 1e-3, {tar(fg, fi, 1e-4):.4f} at 1e-4")
    print(f"rank-1 {rank1(by_person, 1):.4f} (one photo), {rank1(by_person, 3):.4f} (three)")
    print(f"open set {open_set(by_person, 1e-2):.4f} at FPIR 1e-2, {open_set(by_person, 1e-3):.4f} at 1e-3")


if __name__ == "__main__":
    main(sys.argv[1:])
