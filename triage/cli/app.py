"""The ``triage`` command group, its global options and the helpers commands share."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from pathlib import Path

import click

from ..errors import OutputError, TriageError, WorkerError

# Engines by knowledge base (where it is, its content digest and packs): a process that runs
# several commands (a script or a test suite calling ``main``, click's CliRunner) builds each
# knowledge base's Rete networks once, not once a command. An engine is safe to share between
# threads and keeps no state from one case to the next; any edit changes the digest.
_ENGINES_KEPT = 8
_engines: dict[tuple, object] = {}
_engines_lock = threading.Lock()


class State:
    """What the global options chose; the knowledge base and engine are loaded on first use."""

    def __init__(self, rules_dir: Path | None, packs: tuple[str, ...]):
        self.rules_dir = rules_dir
        self.packs = list(packs) or None
        self._engine = None

    @property
    def engine(self):
        """The engine for the chosen knowledge base and packs."""
        if self._engine is None:
            from ..checked import load_checked_knowledge_base
            from ..engine import Engine

            # Fail closed: a knowledge base that fails `triage rules check` is refused.
            kb = load_checked_knowledge_base(self.rules_dir, self.packs)
            warn_about_packs(kb)
            key = (str(kb.path), kb.sha256, tuple(kb.packs))
            with _engines_lock:
                self._engine = _engines.pop(key, None) or Engine(kb)
                _engines[key] = self._engine  # the most recently used last
                while len(_engines) > _ENGINES_KEPT:
                    _engines.pop(next(iter(_engines)))
        return self._engine

    @property
    def knowledge_base(self):
        return self.engine.knowledge_base


def warn_about_packs(kb) -> None:
    """Warn on stderr when the safety pack is known but not in use (``KnowledgeBase.safety_off``)."""
    if kb.safety_off:
        click.echo(
            "warning: the safety pack is not selected: red flags such as blood clots, "
            "pre-eclampsia and preterm labour will NOT be checked.",
            err=True,
        )


class Terminated(SystemExit):
    """Raised in the main thread when SIGTERM or SIGHUP arrives; its code is 128 + the signal number."""


@contextlib.contextmanager
def stop_cleanly_on_termination():
    """Unwind on SIGTERM or SIGHUP as on an error, then exit with 128 + the signal number.

    Python's default for those signals is to die on the spot, which would leave a
    half-written temporary output file and worker processes behind. Raising
    :class:`Terminated` (a SystemExit) instead runs every ``finally``: the
    temporary file is removed and the worker pool is shut down.
    """
    if threading.current_thread() is not threading.main_thread():  # signals go to the main thread only
        yield
        return
    postponed: dict[int, int] = {}

    def stop(signum, frame):
        # Never stop in the middle of starting a worker process: its start-up data
        # would reach it cut short, and it would die printing a traceback. Instead
        # the signal is sent again a moment later (for at most 2 s).
        if postponed.get(signum, 0) < 40 and starting_a_process(frame):
            postponed[signum] = postponed.get(signum, 0) + 1
            again = threading.Timer(0.05, os.kill, (os.getpid(), signum))
            again.daemon = True
            again.start()
            return
        raise Terminated(128 + signum)

    handled = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {number: signal.signal(number, stop) for number in handled}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def starting_a_process(frame) -> bool:
    """Whether ``frame`` (the code a signal interrupted) is inside multiprocessing, e.g. starting a worker."""
    import multiprocessing

    package = os.path.dirname(multiprocessing.__file__) + os.sep
    while frame is not None:
        if frame.f_code.co_filename.startswith(package):
            return True
        frame = frame.f_back
    return False


def _version(ctx: click.Context, _param, value: bool) -> None:
    # Looked up only when asked for: reading package metadata slows every start-up.
    # --rules is eager, so the knowledge base named by --rules or TRIAGE_RULES is known here.
    if value and not ctx.resilient_parsing:
        from .. import __version__
        from ..provenance import describe_knowledge_base

        click.echo(f"triage {__version__}")
        try:
            click.echo(describe_knowledge_base(ctx.params.get("rules_dir")))
        except TriageError as error:
            raise click.ClickException(str(error)) from None
        ctx.exit()


def use_colour(stream=None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set to a non-empty value (no-color.org)."""
    stream = stream or sys.stdout
    return not os.environ.get("NO_COLOR") and hasattr(stream, "isatty") and stream.isatty()


# The exit status of each kind of error, most specific first. Every command runs
# inside _Commands.invoke, which applies this table: no command handles errors itself.
EXIT_INVALID = 1  # a case, answer or knowledge base is invalid (TriageError and the rest of its tree)
EXIT_USAGE = 2  # click's own status for a bad command line
EXIT_OUTPUT = 3  # an output file cannot be written: nothing complete was written
EXIT_WORKER = 4  # a worker process died or Dask failed: the cases may be fine, run again
EXIT_INTERRUPTED = 130  # Ctrl-C, the shell's convention
EXIT_STATUS: tuple[tuple[type[TriageError], int], ...] = (
    (OutputError, EXIT_OUTPUT),
    (WorkerError, EXIT_WORKER),
    (TriageError, EXIT_INVALID),
)


def exit_status(error: TriageError) -> int:
    """The exit status of the ``triage`` command for one of triage's errors."""
    return next(status for kind, status in EXIT_STATUS if isinstance(error, kind))


class _Commands(click.Group):
    """The command group; every command's errors become an exit status here, and only here.

    - triage's own errors (:class:`~triage.TriageError` and its tree) print their
      message, never a traceback, and exit with the status :data:`EXIT_STATUS` gives;
    - Ctrl-C anywhere exits 130, the shell's convention. click itself would print
      "Aborted!" and exit 1, the status that means "a case was invalid"; commands
      with more to say on Ctrl-C (batch, ask) catch it first.
    """

    def main(self, *args, **kwargs):
        # --help and --version print before any command runs: a closed or full standard
        # output there is the same OutputError, with the same message and status.
        try:
            return super().main(*args, **kwargs)
        except OutputError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(exit_status(error))

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except TriageError as error:
            click.echo(f"Error: {error}", err=True)
            ctx.exit(exit_status(error))
        except KeyboardInterrupt:
            click.echo("\nStopped.", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            # The reader of standard output stopped (`triage rules list | head`): the shell's
            # status for SIGPIPE, quietly, as `triage batch` does; not 1, "a case was invalid".
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(141)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, callback=lambda *a: _version(*a),
              help="Show the version, and the knowledge base's name, version and sha256 digest, and exit.")
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    envvar="TRIAGE_RULES",
    is_eager=True,  # read before --version, which names the knowledge base in use
    help="Use the knowledge base in DIR instead of the shipped one (env: TRIAGE_RULES).",
)
@click.option(
    "--pack",
    "packs",
    multiple=True,
    metavar="NAME",
    help="Use only these rule packs (repeatable). Default: every default pack, safety included.",
)
@click.pass_context
def main(ctx: click.Context, rules_dir: Path | None, packs: tuple[str, ...]) -> None:
    """Triage back pain, leg pain and leg cramps in pregnancy.

    Rules written from published sources say how urgently to seek care, the
    likely causes, what to do, and why. This is not a diagnosis: if you are
    worried, contact your midwife, maternity unit or doctor.

    \b
    Exit status:
      0    success
      1    an invalid case, answer or knowledge base
      2    a usage error
      3    an output file cannot be written (nothing complete was written)
      4    a worker process died or Dask failed (the cases may be fine: retry)
      130  stopped by Ctrl-C (batch: 143 by SIGTERM)
      141  the reader of standard output stopped (| head), quietly
    """
    ctx.obj = State(rules_dir, packs)
