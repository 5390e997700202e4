"""`bulletin-bot ask | chat | eval`: questions from the terminal, over the same engine as the bot."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

from bot.answering.answer import Answer
from bot.answering.answerability import AnswerModel
from bot.engine import Engine
from bot.replies.templates import html_to_text
from bot.settings import Settings
from index.types import BulletinError


def add_ask_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ask, chat and eval."""
    ask = subparsers.add_parser("ask", help="answer one question (or a file of them)")
    ask.add_argument("question", nargs="?", help="the question, e.g. 医保能在网上办吗")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--batch", type=Path, help="questions file: one per line, or JSONL with 'question'")
    ask.add_argument("--output", type=Path, help="with --batch: write JSONL here instead of stdout")
    subparsers.add_parser("chat", help="a question-and-answer conversation in the terminal")
    evaluate = subparsers.add_parser("eval", help="measure answer quality on a questions.jsonl file")
    evaluate.add_argument("file", type=Path)
    evaluate.add_argument("--json", action="store_true")
    fit = subparsers.add_parser("fit", help="fit the answerability model on the tune split of labelled questions")
    fit.add_argument(
        "files",
        type=Path,
        nargs="+",
        help="questions.jsonl files; only lines whose split is 'tune' are used, unless --all",
    )
    fit.add_argument(
        "--all",
        dest="whole",
        type=Path,
        action="append",
        default=[],
        help="a questions file used whole (no split), e.g. the bundled questions.jsonl",
    )
    fit.add_argument("--output", type=Path, required=True, help="where to write the model (JSON)")
    fit.add_argument(
        "--reader",
        type=Path,
        help="also fit the local reader's probe and write it here (bot/reader_probe.json), from the examples "
        "`reader collect` wrote beside --vectors for the reader's tune sets (bot/tuning.py: READER.tune_sets)",
    )
    fit.add_argument(
        "--reader-only",
        action="store_true",
        help="with --reader: fit only the probe (on the examples collected with the answer model in --output)",
    )
    fit.add_argument(
        "--vectors",
        type=Path,
        default=Path("samples/eval/reader/vectors.npz"),
        help="the vector cache; the examples are beside it",
    )
    fit.add_argument(
        "--supersede-only",
        action="store_true",
        help="refit only the supersede model (which newer article wins) in the --output file, keeping its "
        "sentence and answer models and thresholds",
    )
    rerank = subparsers.add_parser(
        "fit-reranker", help="fit the reranker's answer threshold (per model) on the tune split of labelled questions"
    )
    rerank.add_argument("files", type=Path, nargs="+", help="questions.jsonl files; lines whose split is 'tune'")
    rerank.add_argument(
        "--model",
        type=Path,
        help="the CrossEncoder folder (default: BULLETIN_RERANKER_MODEL); the fit is written there",
    )


def answer_json(engine: Engine, answer: Answer) -> dict:
    """The machine-readable form of an answer."""
    sources = answer.parts or answer.related
    return {
        "question": answer.question,
        "answered": answer.answered,
        "outcome": answer.outcome,
        "reason": answer.reason,
        "confidence": answer.confidence,
        "path": answer.path,
        "answer": html_to_text(engine.render(answer)),
        "sources": [
            {
                "issue": p.issue_id,
                "title": p.title,
                "date": p.issue_date.isoformat(),
                "source": p.source,
                "score": p.score,
                "probability": p.probability,
                "quote": p.text,
            }
            for p in sources
        ],
    }


def _batch_questions(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BulletinError(f"{path}: cannot read questions ({exc})") from None
    questions = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                questions.append(str(json.loads(line)["question"]))
            except (ValueError, KeyError, TypeError) as exc:
                raise BulletinError(f"{path}, line {number}: JSON without a 'question' ({exc})") from None
        else:
            questions.append(line.strip())
    return questions


def _chat(engine: Engine) -> int:
    overview = engine.overview()
    print(html_to_text(engine.templates.render("greeting", **overview)))
    print("（输入问题后回车；空行或 Ctrl-D 退出）")
    while True:
        try:
            line = input("\n问> ")
        except EOFError:
            print()
            return 0
        if not line.strip():
            return 0
        print(html_to_text(engine.render(engine.ask(line))))


def _fit(engine: Engine, args: argparse.Namespace, settings: Settings) -> int:
    from bot.evaluation.evaluate import load_questions
    from bot.evaluation.fit import collect, fit_model, fit_sentences

    if args.reader_only:  # the probe is fitted on collected examples: no questions or index are loaded
        if not args.reader:
            raise BulletinError("fit: --reader-only needs --reader FILE (where to write the probe)")
        _fit_reader(args, settings)
        return 0
    questions = [q for path in args.files for q in load_questions(path) if q.split == "tune"]
    questions += [q for path in args.whole for q in load_questions(path)]
    engine.reload_index()
    retriever = engine.loaded.retriever
    sentences = fit_sentences(retriever, questions, settings.answer_max_chars)
    data = collect(retriever, questions, settings.answer_max_chars, sentences)
    sources = {
        "files": [str(p) for p in args.files],
        "split": "tune",
        "whole_files": [str(p) for p in args.whole],
        "questions": len(questions),
        "index_version": engine.loaded.version,
    }
    model = fit_model(data, retriever, sentences, sources)
    if args.supersede_only:
        kept = AnswerModel.load(args.output)
        pairs = model.fitted_on["supersede_pairs"]
        fitted_on = {**kept.fitted_on, "supersede": {**sources, **pairs}}
        model = replace(kept, supersede=model.supersede, fitted_on=fitted_on)
        model.save(args.output)
        print(f"supersede model refitted on {pairs['examples']} pairs; written to {args.output}")
        return 0
    model.save(args.output)
    print(
        f"fitted on {len(questions)} questions ({model.fitted_on['examples']} weighed articles, "
        f"{model.fitted_on['positives']} right): answer ≥ {model.answer_threshold}, "
        f"related ≥ {model.related_threshold}; written to {args.output}"
    )
    if args.reader:  # refused when the refit changed the model: its examples must be collected again
        _fit_reader(args, settings)
    return 0


def _fit_reader(args: argparse.Namespace, settings: Settings) -> None:
    """Fit the probe on the examples `reader collect` wrote for the reader's tune sets (READER.tune_sets),
    each collected on its own index with the answer model in --output."""
    from bot.evaluation.reader_data import VECTORS, file_digest, in_sets, load_examples
    from bot.evaluation.reader_fit import fit_probe
    from bot.reader.cache import VectorCache
    from bot.reader.model_file import EXPECTED_SHA256, verify
    from bot.reader.reader import model_path
    from bot.tuning import READER

    folder = args.vectors.parent
    examples = [e for e in load_examples(folder) if in_sets(e, READER.tune_sets)]
    digest = file_digest(args.output)
    stale = sorted({e.set for e in examples if e.answer_model != digest})
    if stale:
        raise BulletinError(
            f"fit --reader: the examples of {', '.join(stale)} in {folder} were collected with another answer model "
            f"than {args.output}; collect them again (bulletin-bot reader collect FILE --set NAME)"
        )
    missing = sorted(set(READER.tune_sets) - {e.set for e in examples} - {f"{e.set}:{e.split}" for e in examples})
    if missing:
        raise BulletinError(
            f"fit --reader: {folder} has no examples of {', '.join(missing)} (bulletin-bot reader collect)"
        )
    cache = VectorCache(folder / VECTORS)
    unread = [e for e in examples if e.key and cache.get(e.key) is None]
    if unread:
        raise BulletinError(f"fit --reader: {len(unread)} tune prompts have no vector in {cache.path} (reader collect)")
    sha = EXPECTED_SHA256 if settings.reader_model is None else verify(model_path(settings))
    sources = {"sets": list(READER.tune_sets), "answer_model": f"{args.output} ({digest})", "examples": str(folder)}
    probe = fit_probe(examples, cache, sha, sources)
    probe.save(args.reader)
    f = probe.fitted_on
    print(
        f"reader probe fitted on {f['quotes']} quotes ({f['right']} right), C={f['C']}: cross-validated AUC "
        f"{f['cv_auc_offline']} offline → {f['cv_auc_stacked']} stacked; answer ≥ {probe.answer_threshold}, "
        f"related ≥ {probe.related_threshold}; written to {args.reader}"
    )


def _fit_reranker(engine: Engine, args: argparse.Namespace, settings: Settings) -> int:
    from bot.answering.reranker import Reranker, fit_threshold
    from bot.evaluation.evaluate import load_questions
    from bot.tuning import JUDGE

    folder = args.model or settings.reranker_model
    if folder is None or not folder.is_dir():
        raise BulletinError("fit-reranker: give --model FOLDER or set BULLETIN_RERANKER_MODEL to the model's folder")
    questions = [q for path in args.files for q in load_questions(path) if q.split == "tune"]
    engine.reload_index()
    reranker = Reranker(folder, need_threshold=False)
    reranker.warm_up()
    source = ", ".join(str(p) for p in args.files) + " (tune split)"
    fit = fit_threshold(engine.loaded.retriever, reranker, questions, JUDGE.target_oos_answered, source)
    written = fit.save(folder)
    print(
        f"reranker threshold {fit.threshold} on {len(questions)} tune questions "
        f"({fit.fitted_on['out_of_scope']} out of scope; answerable at or above: "
        f"{fit.fitted_on['answerable_at_or_above']}); written to {written}"
    )
    return 0


def run_ask_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run ask, chat or eval; BulletinError propagates to the CLI edge."""
    engine = Engine(settings)
    if args.command == "chat":
        engine.warm_up()
        if engine.judges.reader is not None:
            try:  # a conversation starts once the reader reads; without it, offline (check says why)
                engine.judges.reader.wait_ready()
            except BulletinError as exc:
                print(f"{exc}; answering offline", file=sys.stderr)
        return _chat(engine)
    if args.command == "eval":
        from bot.evaluation.evaluate import format_table, run_eval

        results = run_eval(engine, args.file, date.today())
        if args.json:
            print(json.dumps([r.__dict__ for r in results], ensure_ascii=False, indent=1))
        else:
            print(format_table(results))
        return 0
    if args.command == "fit":
        return _fit(engine, args, settings)
    if args.command == "fit-reranker":
        return _fit_reranker(engine, args, settings)
    if args.batch:
        questions = _batch_questions(args.batch)
        out = args.output.open("w", encoding="utf-8") if args.output else sys.stdout
        try:
            for question in questions:
                out.write(json.dumps(answer_json(engine, engine.ask(question)), ensure_ascii=False) + "\n")
        finally:
            if args.output:
                out.close()
        return 0
    if args.question is None:
        raise BulletinError('give a question, e.g. bulletin-bot ask "医保能在网上办吗", or --batch FILE')
    answer = engine.ask(args.question)
    if args.json:
        print(json.dumps(answer_json(engine, answer), ensure_ascii=False))
    else:
        print(html_to_text(engine.render(answer)))
    return 0
