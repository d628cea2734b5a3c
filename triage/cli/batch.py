"""``triage batch INPUT...``: assess many case files, in parallel, one record per case."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

import click

from ..text import printable
from .app import State, Terminated, main, stop_cleanly_on_termination

MAX_ERRORS_SHOWN = 100
EXIT_INTERRUPTED = 130  # the shell's convention for Ctrl-C
EXIT_BROKEN_PIPE = 141  # the shell's status for a command stopped by SIGPIPE


class ByteSize(click.ParamType):
    """A number of bytes: 1000000, 64K, 16M, 1G (powers of 1024)."""

    name = "size"
    UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}
    LARGEST = 1024**4

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        text = str(value).strip().upper().removesuffix("B")
        unit = text[-1:] if text[-1:] in ("K", "M", "G") else ""
        digits = text[: len(text) - len(unit)]
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 15 or int(digits) < 1:
            self.fail(f"{value!r} is not a size such as 1000000, 64K, 16M or 1G", param, ctx)
        size = int(digits) * self.UNITS[unit]
        if size > self.LARGEST:  # past what a read or the csv module can take: an error, not a crash
            self.fail(f"{value!r} is more than the largest size, 1024G", param, ctx)
        return size


def _output_among_inputs(output: str, inputs: tuple[str, ...]) -> str | None:
    """Why ``output`` may not be written (it is an input, or inside an input directory), or None."""
    from ..inputs import SUFFIXES  # what a directory input reads; here: keeps `triage --help` fast

    target = Path(output).resolve()
    for name in inputs:
        if name == "-":
            continue
        given = Path(name)
        with contextlib.suppress(OSError):
            if target.exists() and given.is_file() and os.path.samefile(target, given):
                return f"the input {name}"
        with contextlib.suppress(OSError):
            # a case file there would be read as input by this run or the next
            if given.is_dir() and target.suffix.lower() in SUFFIXES and target.is_relative_to(given.resolve()):
                return f"inside the input directory {name}"
    return None


@main.command()
@click.argument("inputs", nargs=-1, metavar="INPUT...")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="Write the records to FILE (atomically: complete or not at all). Default: standard output.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "json"]), default="jsonl", show_default=True,
              help="jsonl: a JSON record per line; csv: a row per case; json: one JSON list.")
@click.option("--full", is_flag=True, help="Add the whole assessment to each record (jsonl and json only).")
@click.option("--workers", type=click.IntRange(min=1), metavar="N",
              help="Assess in N processes (default: one per CPU). Results are the same for any N.")
@click.option("--dask", "dask_address", metavar="ADDRESS",
              help='Assess on the Dask cluster whose scheduler is at ADDRESS (needs "triage[dask]").')
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary on standard error.")
@click.option("--max-input-size", "max_input", type=ByteSize(), metavar="SIZE",
              help="The largest JSON or YAML file, JSONL line or CSV row read (default 16M; K, M and G suffixes).")
@click.option("--clean", is_flag=True,
              help="Only remove the temporary files of -o FILE left by runs that were killed, then exit.")
@click.pass_obj
def batch(state: State, inputs: tuple[str, ...], output: str | None, fmt: str, full: bool,
          workers: int | None, dask_address: str | None, quiet: bool, max_input: int | None, clean: bool) -> None:
    """Assess every case in the INPUTs and write one record per case, in input order.

    An INPUT is a .json file (one case or a list), .yaml/.yml (the same), .jsonl
    (a case per line), .csv (a header of field names; an empty cell is unknown;
    yes/no, y/n, true/false, 1/0 for yes-or-no questions), a directory (searched
    recursively, in sorted order) or '-' (standard input, once: JSONL, or one
    pretty-printed JSON document, a case or a list).

    Each record has case_id (the case's id, else its source), source (the file,
    and :N for its line, CSV row or list item), urgency, causes, red_flags,
    advice, and error: null, or what is wrong, naming the field. A summary goes
    to standard error.

    Exit status: 0 when every case was assessed; 1 when any case was invalid or
    unreadable (every other case is still assessed and written); 2 for usage
    errors; 3 when the output file cannot be written; 4 when a worker process
    died or Dask failed (the cases may be fine: run again); 130 when stopped by
    Ctrl-C (143 by SIGTERM), after removing the unfinished output file and
    stopping the worker processes; 141 when the reader of standard output stops
    reading (as with | head).
    """
    from ..casefiles import atomic_output
    from ..errors import OutputError
    from ..inputs import input_size, read_inputs
    from ..parallel import Totals, batch_records, dask_client
    from ..reading import max_input_bytes, set_max_input_bytes
    from ..records import write_records
    from ..streams import stdout_closed

    if clean:
        clean_partials(output, inputs)
        return
    if not inputs:
        raise click.UsageError("Missing argument 'INPUT...'.")
    if inputs.count("-") > 1:
        # standard input can be read once: a second '-' would be a spurious "empty" error record
        raise click.UsageError("'-' (standard input) is given more than once: it can be read only once")
    if full and fmt == "csv":
        raise click.UsageError("--full writes whole assessments, which need --format jsonl or json")
    if workers is not None and dask_address:
        raise click.UsageError("--workers and --dask exclude each other: the Dask cluster decides")
    if output == "":
        raise click.UsageError("-o needs a file name (leave it out to write to standard output)")
    if output is not None and (clash := _output_among_inputs(output, inputs)):
        raise click.UsageError(f"-o {output} is {clash}: writing it would replace the cases being read")
    if output is None and stdout_closed():
        raise OutputError("standard output is closed: give -o FILE, or do not close it (>&-)")
    if max_input is not None:
        set_max_input_bytes(max_input)
    max_input_bytes()  # a bad TRIAGE_MAX_INPUT_BYTES stops here, before any case is read
    restore_ctrl_c()
    progress = Progress(input_size(inputs), enabled=not quiet and sys.stderr.isatty())
    totals = Totals()
    client = None
    started = time.perf_counter()
    # From here on Ctrl-C and SIGTERM stop the batch the same way at any moment,
    # loading the rules included: a message, no output file, the workers stopped.
    try:
        with stop_cleanly_on_termination():
            engine = state.engine
            client = dask_client(dask_address) if dask_address else None
            with atomic_output(output) if output is not None else contextlib.nullcontext(sys.stdout) as out:
                chunks = batch_records(read_inputs(inputs, progress=progress.read), engine, fmt, full, workers, client, totals)
                write_records(reported(chunks, progress, totals), out, fmt)
                out.flush()  # here, not at exit: a full disk must be this command's error
    except BrokenPipeError:
        # The reader of standard output stopped (`| head`): stop quietly, as a
        # command killed by SIGPIPE would, without Python's complaint at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_BROKEN_PIPE)
    except (KeyboardInterrupt, Terminated) as stop:
        progress.clear()
        how = "Stopped" if isinstance(stop, KeyboardInterrupt) else "Terminated"
        click.echo(f"\n{how}: " + ("no output file was written." if output else "the records above are incomplete."), err=True)
        sys.exit(EXIT_INTERRUPTED if isinstance(stop, KeyboardInterrupt) else stop.code)
    finally:
        progress.clear()
        if client is not None:
            client.close()
    elapsed = time.perf_counter() - started
    if not quiet:
        from ..knowledge import RED_FLAGS_NOT_CHECKED

        unchecked = f"; {RED_FLAGS_NOT_CHECKED} (safety pack not selected)" if state.knowledge_base.safety_off else ""
        click.echo(summary_text(totals, elapsed) + unchecked, err=True)
    if totals.errors:
        sys.exit(1)


def clean_partials(output: str | None, inputs: tuple[str, ...]) -> None:
    """``--clean``: remove the temporary files of ``-o FILE`` whose writer no longer runs, and say how many."""
    from pathlib import Path

    from ..casefiles import remove_stale_partials
    from ..text import printable

    if not output or inputs:
        raise click.UsageError("--clean takes -o FILE and no INPUT: it removes FILE's leftover temporary files")
    removed = remove_stale_partials(Path(os.path.realpath(output)))
    for path in removed:
        click.echo(f"removed {printable(str(path))}", err=True)
    click.echo(f"{len(removed)} leftover temporary file{'s' if len(removed) != 1 else ''} of {printable(output)} removed",
               err=True)


def restore_ctrl_c() -> None:
    """Let Ctrl-C stop the batch even when it was started with SIGINT ignored (a non-interactive shell's ``&``).

    A batch can run for hours; ``kill -INT`` must still stop it cleanly.
    """
    import signal

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def reported(chunks, progress: "Progress", totals):
    """Pass chunks through, showing progress and each error (up to MAX_ERRORS_SHOWN) on stderr."""
    for chunk in chunks:
        shown = totals.errors - len(chunk.errors)
        for line in chunk.errors[: max(0, MAX_ERRORS_SHOWN - shown)]:
            progress.clear()
            click.echo(f"error: {printable(line)}", err=True)  # file names and ids may hold ESC, U+202E, ...
        progress.show(totals.cases)
        yield chunk


def summary_text(totals, elapsed: float) -> str:
    """The summary line: cases, per urgency, errors, time and cases per second."""
    from ..urgency import Urgency

    levels = ", ".join(f"{totals.urgencies.get(u.value, 0):,} {u.value}" for u in Urgency)
    more = totals.errors - MAX_ERRORS_SHOWN
    errors = f"{totals.errors:,} error{'s' if totals.errors != 1 else ''}" + (
        f" ({more:,} not shown above; see each record's error)" if more > 0 else ""
    )
    rate = totals.cases / elapsed if elapsed > 0 else 0.0
    cases = f"{totals.cases:,} case{'s' if totals.cases != 1 else ''}"
    return f"{cases}: {levels}; {errors}; {elapsed:.2f} s, {rate:,.0f} cases/s"


class Progress:
    """A progress bar on standard error for runs longer than a second; nothing when disabled."""

    DELAY = 1.0  # seconds before the bar appears: short runs stay quiet
    EVERY = 0.2  # seconds between redraws

    def __init__(self, total_bytes: int | None, enabled: bool, stream=None):
        self.total = total_bytes
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.started = time.perf_counter()
        self.drawn = 0.0
        self.visible = False

    def read(self, count: int) -> None:
        self.done += count

    def show(self, cases: int) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.started < self.DELAY or now - self.drawn < self.EVERY:
            return
        self.drawn = now
        rate = cases / (now - self.started)
        line = f"{cases:,} cases, {rate:,.0f}/s"
        if self.total:
            share = min(1.0, self.done / self.total)
            filled = int(share * 30)
            line = f"[{'#' * filled}{'.' * (30 - filled)}] {share:4.0%}  " + line
        self.stream.write("\r" + line + "\033[K")
        self.stream.flush()
        self.visible = True

    def clear(self) -> None:
        if self.visible:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.visible = False
