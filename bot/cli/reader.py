"""`bulletin-bot reader install | collect | curve`: the local reader's model file and its measurements."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.engine import Engine
from bot.reader.model_file import install
from bot.reader.probe import ReaderProbe
from bot.settings import Settings
from index.types import BulletinError

FOLDER = Path("samples/eval/reader")


def add_reader_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("reader", help="the local reader: install its model, collect and measure")
    commands = parser.add_subparsers(dest="reader_command", required=True)
    commands.add_parser("install", help="assemble the model and derive the reader's file in DATA_DIR/reader/ (2.1 GB)")
    collect = commands.add_parser(
        "collect", help="read a labelled set's lead quotes on the current index (examples and vectors)"
    )
    collect.add_argument("file", type=Path, help="a questions.jsonl file")
    collect.add_argument("--set", dest="set_name", required=True, help="the set's name in the examples file")
    collect.add_argument("--folder", type=Path, default=FOLDER, help=f"where examples and vectors are kept ({FOLDER})")
    curve = commands.add_parser(
        "curve", help="offline against reader at the same out-of-scope rate, per set and pooled"
    )
    curve.add_argument("--folder", type=Path, default=FOLDER)
    curve.add_argument(
        "--oos", type=float, nargs="+", default=[0.05, 0.10, 0.20], help="out-of-scope shares answered (0.05 0.10 0.20)"
    )


def run_reader_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.reader_command == "install":
        install(settings.data_dir)
        return 0
    if args.reader_command == "collect":
        return _collect(args, settings)
    return _curve(args, settings)


def model_vector(settings: Settings):
    """The installed model's vector function and sha256, loaded in this process (for collecting)."""
    from bot.reader.hidden_state import HiddenState
    from bot.reader.model_file import verify
    from bot.reader.reader import model_path

    path = model_path(settings)
    sha = verify(path)
    state = HiddenState(path, settings.reader_threads)
    state.warm_up()
    return state.vector, sha


def _collect(args: argparse.Namespace, settings: Settings) -> int:
    from bot.evaluation.evaluate import load_questions
    from bot.evaluation.reader_data import VECTORS, collect, fill_vectors, save_examples
    from bot.reader.cache import VectorCache

    questions = load_questions(args.file)
    vector, sha = model_vector(settings)
    engine = Engine(settings)
    engine.reload_index()
    examples = collect(engine, questions, args.set_name, sha)
    cache = VectorCache(args.folder / VECTORS)
    computed = fill_vectors(examples, cache, vector)
    save_examples(args.folder, examples)
    quoted = sum(1 for e in examples if e.key)
    print(
        f"{args.set_name}: {len(examples)} questions, {quoted} with a quote; {computed} prompts read, "
        f"written to {args.folder}"
    )
    return 0


def _curve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.evaluation.reader_data import VECTORS, load_examples
    from bot.evaluation.reader_fit import operating_point
    from bot.reader.cache import VectorCache

    probe = ReaderProbe.load(settings.reader_probe_path)
    examples = load_examples(args.folder)
    cache = VectorCache(args.folder / VECTORS)
    fitted = set(probe.fitted_on.get("sets", []))  # "bundled", or "trust:tune" for one split of a set
    held = [e for e in examples if e.set not in fitted and f"{e.set}:{e.split}" not in fitted]
    if not held:
        raise BulletinError(f"reader curve: {args.folder} has no examples of sets the probe was not fitted on")
    head = " | ".join(f"right at ≤{o:.0%} oos: offline → reader" for o in args.oos)
    served = "as served: oos → answer, offline → reader | right answer, offline → reader"
    print(f"| set | questions (out of scope) | {head} | AUC offline → reader | {served} |")
    print("|---" * (5 + len(args.oos)) + "|")
    for name in sorted({e.set for e in held}) + ["pooled (never fitted on)"]:
        part = held if name.startswith("pooled") else [e for e in held if e.set == name]
        points = [operating_point(part, cache, probe, o) for o in args.oos]
        cells = " | ".join(f"{p.right_offline:.3f} → {p.right_reader:.3f}" for p in points)
        first = points[0]
        print(
            f"| {name} | {first.questions} ({first.out_of_scope}) | {cells} "
            f"| {first.auc_offline:.3f} → {first.auc_reader:.3f} "
            f"| {first.served_oos[0]:.3f} → {first.served_oos[1]:.3f} "
            f"| {first.served_right[0]:.3f} → {first.served_right[1]:.3f} |"
        )
    return 0
