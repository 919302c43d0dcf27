"""The opt-out matcher: precision and recall on the labelled corpus, and texts classified per second.

    python -m benchmarks.bench_intent [--seconds 2]

Reads tests/data/opt_out_corpus.csv (hand-written texts labelled opt-out, not, unclear) and
classifies each with ``sms.messaging.intent`` (the shipped data/opt_out.yaml and the demand
catalogue's keywords as the cause) and with the baseline measured in the same run: the plain
whole-message STOP-word lookup (``keyword_key(text) in compliance.STOP_WORDS``), which is what
the service did before. Precision and recall are for the opt-out class: a missed opt-out is
an opt-out-labelled text not classified opt-out, a false opt-out a "not"-labelled text
classified opt-out (unclear-labelled texts count for neither). Speed: both classifiers cycle
through the whole corpus for about ``--seconds`` each, after a warm-up. No database is used.
Printed: the confusion of labels and outcomes, a table of both classifiers, and a line of
ratios of the matcher to the baseline.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from benchmarks.support import table
from sms.messaging import catalogue, compliance, intent

USES_DATABASE = False
CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "opt_out_corpus.csv"
HOSTILE = [(t * 1600)[:1600] for t in ("stop", "stoptexting", "no", "stop the ", "we stop madness ")]
"""Long repetitive texts that would expose catastrophic backtracking (the test only bounds them by 15 s)."""


def load() -> list[tuple[str, str]]:
    with CORPUS.open(encoding="utf-8", newline="") as handle:
        return [(row["label"], row["text"]) for row in csv.DictReader(handle)]


def rate(fn: Callable[[str], object], texts: list[str], seconds: float) -> float:
    """Texts per second of ``fn`` cycling through ``texts`` for about ``seconds``."""
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for text in texts:
            fn(text)
        count += len(texts)
    return count / elapsed


def scores(outcomes: list[tuple[str, str]]) -> dict[str, float]:
    """Precision, recall, missed and false opt-outs of (label, outcome) pairs."""
    true = sum(label == intent.OPT_OUT and got == intent.OPT_OUT for label, got in outcomes)
    said = sum(got == intent.OPT_OUT for _label, got in outcomes if _label != intent.UNCLEAR)
    labelled = sum(label == intent.OPT_OUT for label, _got in outcomes)
    nots = sum(label == intent.NOT for label, _got in outcomes)
    false = sum(label == intent.NOT and got == intent.OPT_OUT for label, got in outcomes)
    return {"precision": true / said if said else 0.0, "recall": true / labelled, "missed": labelled - true,
            "false": false, "false_rate": false / nots}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    args, _names = parser.parse_known_args()  # `python -m benchmarks intent` passes names
    rows = load()
    texts = [text for _label, text in rows]
    causes = catalogue.from_data(catalogue.load_yaml()).causes
    rules = intent.rules()

    def matcher(text: str) -> str:
        return rules.classify(text, causes).outcome

    def baseline(text: str) -> str:
        return intent.OPT_OUT if catalogue.keyword_key(text) in compliance.STOP_WORDS else intent.NOT

    results = {}
    for name, fn in (("STOP-word lookup (baseline)", baseline), ("sms.messaging.intent", matcher)):
        outcomes = [(label, fn(text)) for label, text in rows]
        rate(fn, texts, 0.2)  # warm-up: regex caches, branch predictors
        results[name] = (scores(outcomes), rate(fn, texts, args.seconds), Counter(outcomes))
    labels = Counter(label for label, _text in rows)
    print(f"corpus: {len(rows)} texts ({', '.join(f'{labels[k]} {k}' for k in intent.OUTCOMES)}); "
          f"{args.seconds:.1f}s of classifying each")
    confusion = results["sms.messaging.intent"][2]
    print(table(("label \\ matcher said", *intent.OUTCOMES),
                [(label, *(confusion[(label, got)] for got in intent.OUTCOMES)) for label in intent.OUTCOMES]))
    print()
    print(table(("classifier", "precision", "recall", "missed opt-outs", "false opt-outs", "texts/s"),
                [(name, f"{s['precision']:.3f}", f"{s['recall']:.3f}", s["missed"],
                  f"{s['false']} ({s['false_rate']:.1%})", f"{per_second:,.0f}")
                 for name, (s, per_second, _c) in results.items()]))
    hostile = rate(matcher, HOSTILE, args.seconds / 4)
    print(f"\nhostile 1,600-character texts: {hostile:,.0f}/s through the matcher "
          f"({1000 / hostile:.1f} ms each; Twilio waits 15 s)")
    ours, base = results["sms.messaging.intent"], results["STOP-word lookup (baseline)"]
    print(f"ratios: matcher speed {ours[1] / base[1]:.3f}x the STOP-word lookup; recall {ours[0]['recall']:.3f} "
          f"vs {base[0]['recall']:.3f}; precision {ours[0]['precision']:.3f} vs {base[0]['precision']:.3f}")


if __name__ == "__main__":
    main()
