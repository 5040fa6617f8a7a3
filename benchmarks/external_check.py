"""The external check: Wikipedia articles and questions the reading model never trained on.

The last 24 of SQuADShifts new_wiki's 48 articles (training reads only the first 24) are
written as Markdown files (title as heading, paragraphs as text) and 300 of their questions
(one per paragraph, in file order, until 300) as a test set in the project's format: `facts`
are the crowd's answers (any one counts), `reference_contexts` the sentence holding the first.
Then `passage ingest` and `passage eval --split test` run on them in a fresh data dir.

    .venv/bin/python benchmarks/external_check.py [--out runs/external] [--questions 300]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHIFTS = ROOT.parent / "shared" / "datasets" / "squadshifts-new-wiki" / "new_wiki_v1.0.json.gz"


def build(out: Path, questions: int, shifts: Path = SHIFTS, first_held_out: int = 24) -> tuple[Path, Path]:
    from ingest.sentences import sentence_spans
    from training.squad import articles

    corpus, rows = out / "corpus", []
    corpus.mkdir(parents=True, exist_ok=True)
    for n, article in enumerate(articles(shifts)[first_held_out:]):
        title = article["title"].replace("_", " ")
        stem = f"{n:02d}-" + "".join(ch if ch.isalnum() else "-" for ch in title.lower()).strip("-")
        texts = [p["context"].strip() for p in article["paragraphs"]]
        (corpus / f"{stem}.md").write_text(f"# {title}\n\n" + "\n\n".join(texts) + "\n", encoding="utf-8")
        for p, para in enumerate(article["paragraphs"]):
            qa = next((q for q in para["qas"] if q.get("answers")), None)
            if qa is None:
                continue
            context = para["context"].strip()
            first = qa["answers"][0]
            start = context.find(first["text"])
            sentence = next((context[a:b] for a, b in sentence_spans(context) if a <= start < b), context)
            rows.append({"id": f"x{len(rows):03d}", "split": "test", "user_input": qa["question"].strip(),
                         "reference": first["text"], "reference_contexts": [sentence],
                         "facts": sorted({a["text"] for a in qa["answers"]}), "source": stem, "section": title,
                         "answerable": True, "history": [], "qtype": "squad"})
    rows = rows[:: max(1, len(rows) // questions)][:questions]
    testset = out / "testset.jsonl"
    testset.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return corpus, testset


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "external")
    parser.add_argument("--questions", type=int, default=300)
    args = parser.parse_args()
    corpus, testset = build(args.out, args.questions)
    passage = [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())"]
    data = args.out / "data"
    subprocess.run([*passage, "ingest", str(corpus), "--data-dir", str(data)], check=True, cwd=ROOT)
    subprocess.run([*passage, "eval", str(testset), "--split", "test", "--data-dir", str(data), "--out", str(args.out / "run")],
                   check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
