"""The ``k8smodel`` command line."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
from pathlib import Path

from k8smodel import __version__

# Modules that register subcommands: each has ``add_commands(commands)``, whose parsers set
# ``handler`` (a function of the parsed args). A new family adds its ``k8smodel.<family>.cli``.
_COMMAND_MODULES = (
    "k8smodel.autoscale.cli",
    "k8smodel.federation.cli",
    "k8smodel.lb.cli",
    "k8smodel.netpol.cli",
    "k8smodel.rollout.cli",
    "k8smodel.service.cli",
    "k8smodel.storage.cli",
    "k8smodel.studies.cli",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="k8smodel", description="Quantitative models of Kubernetes mechanisms."
    )
    parser.add_argument("--version", action="version", version=f"k8smodel {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    rep = commands.add_parser(
        "reproduce", help="execute every notebook and write pages and figures under --out"
    )
    rep.add_argument(
        "--quick", action="store_true", help="quick mode (K8SMODEL_QUICK=1): small runs"
    )
    rep.add_argument("--only", metavar="NAME", help="only notebooks whose name contains NAME")
    rep.add_argument(
        "--out", metavar="DIR", type=Path, help="output folder (default: build/ in the checkout)"
    )
    rep.add_argument(
        "--notebooks",
        metavar="DIR",
        type=Path,
        help="notebook folder (default: notebooks/ of the checkout holding the working directory)",
    )
    rep.add_argument(
        "--site-only",
        action="store_true",
        help="rebuild the site from the notebooks already executed into --out (make docs)",
    )
    val = commands.add_parser(
        "validate",
        help="measure real nginx and HAProxy on 127.0.0.1 and compare with k8smodel.lb",
    )
    val.add_argument("--quick", action="store_true", help="a short run (about a minute)")
    val.add_argument(
        "--out",
        metavar="CSV",
        type=Path,
        help="where to write the results (with --ewma-only: the EWMA results)",
    )
    val.add_argument("--seed", type=int, default=20261127, help="root seed")
    val.add_argument(
        "--ingress-nginx",
        metavar="PATH",
        type=Path,
        help="a kubernetes/ingress-nginx checkout (or its rootfs/etc/nginx/lua): also run its "
        "real balancer/ewma.lua (writes data/lab_validation_ewma.csv); without it the EWMA "
        "cases are skipped",
    )
    val.add_argument(
        "--ingress-nginx-commit",
        metavar="SHA",
        help="the ingress-nginx commit to record when PATH is an extracted tree, not a checkout",
    )
    val.add_argument(
        "--ewma-only", action="store_true", help="run only the EWMA cases (needs --ingress-nginx)"
    )
    for module in _COMMAND_MODULES:
        importlib.import_module(module).add_commands(commands)
    return parser


def _validate(args) -> int:
    from k8smodel.lab.cli import validate

    return validate(
        quick=args.quick,
        out=args.out,
        seed=args.seed,
        ingress_nginx=args.ingress_nginx,
        ewma_only=args.ewma_only,
        ingress_nginx_commit=args.ingress_nginx_commit,
    )


def _reproduce(args) -> int:
    from k8smodel._notebooks import build_site_logged, find_checkout, reproduce

    checkout = find_checkout()
    notebooks = args.notebooks or (checkout / "notebooks" if checkout else None)
    if notebooks is None:
        print(
            "k8smodel reproduce: no k8smodel checkout holds this folder "
            f"({Path.cwd()}); run it inside a checkout, or pass --notebooks DIR "
            "(the folder of NN_*.ipynb notebooks, e.g. path/to/k8smodel/notebooks)",
            file=sys.stderr,
        )
        return 2
    if not notebooks.is_dir():
        print(
            f"k8smodel reproduce: --notebooks must be a folder of notebooks; got {notebooks}",
            file=sys.stderr,
        )
        return 2
    out = args.out or (checkout / "build" if checkout else Path("build"))
    stop: dict[str, int] = {}
    try:
        with _stopped_by_signals(stop):
            if args.site_only:
                return 0 if build_site_logged(notebooks, out, {}) else 1
            failed = reproduce(notebooks, out, quick=args.quick, only=args.only)
    except ValueError as exc:
        if not stop:
            print(f"k8smodel reproduce: {exc}", file=sys.stderr)
            return 2
    except KeyboardInterrupt as exc:  # our handler, or _notebooks.Stopped from nbclient's loop
        stop.setdefault("signal", getattr(exc, "signum", signal.SIGINT))
    except BaseException:
        # an interrupted kernel client can end in any exception (AssertionError from
        # nbclient's cleanup): when a signal caused it, say so in one line instead
        if not stop:
            raise
    if stop:
        name = signal.Signals(stop["signal"]).name
        print(f"k8smodel reproduce: stopped by {name}; the notebooks done so far are in {out}",
              file=sys.stderr)  # fmt: skip
        return 128 + stop["signal"]
    if failed:
        print(f"k8smodel reproduce: {failed} notebook(s) failed", file=sys.stderr)
        return 1
    return 0


@contextlib.contextmanager
def _stopped_by_signals(stop: dict[str, int]):
    """SIGINT and SIGTERM raise KeyboardInterrupt here and are remembered in ``stop``."""

    def handler(signum, frame):
        stop.setdefault("signal", signum)
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def _run_handler(args: argparse.Namespace) -> int:
    """Run a family subcommand; bad input is reported on stderr with status 2."""
    try:
        status = args.handler(args)
    except (ValueError, TypeError, KeyError) as exc:
        print(f"k8smodel {args.command}: {exc}", file=sys.stderr)
        return 2
    return int(status or 0)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "reproduce":
        return _reproduce(args)
    if args.command == "validate":
        return _validate(args)
    if args.command is not None:
        return _run_handler(args)
    _parser().print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
