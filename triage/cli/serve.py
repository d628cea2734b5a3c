"""``triage serve``: the engine as an HTTP service, with the web questionnaire at ``/``."""

from __future__ import annotations

import ipaddress

import click

from .app import State, main


def reachable_from_other_machines(host: str) -> bool:
    """Whether listening on ``host`` takes connections from other machines (not loopback only)."""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to any address
        return True


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (the default takes connections from this machine only).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes; each builds its own engines.")
@click.option("--cors", "cors", multiple=True, metavar="ORIGIN",
              help="Let web pages from ORIGIN call the API (repeatable). Default: no CORS.")
@click.option("--max-body", default=None, type=click.IntRange(1024, None), metavar="BYTES",
              help="Largest request body accepted; larger ones get 413. Default: 256 KiB.")
@click.pass_obj
def serve(state: State, host: str, port: int, workers: int, cors: tuple[str, ...], max_body: int | None) -> None:
    """Serve the JSON API, FHIR ($next-question), CDS Hooks and the web questionnaire.

    Stateless: nothing a person answers is stored or logged; the access log holds
    method, path (no query string), status and time. Needs `pip install "triage[serve]"`.
    """
    try:
        from ..serve import workers as serving
        from ..serve.config import DEFAULT_MAX_BODY, ServeConfig
    except ImportError as error:
        raise click.ClickException(
            f'triage serve needs the serve extra: pip install "triage[serve]" ({error.name} is missing)') from None
    kb = state.knowledge_base  # loaded and checked here: a broken one is one clear error (exit 1), before any worker
    config = ServeConfig(
        rules_dir=str(state.rules_dir) if state.rules_dir else None,
        packs=state.packs,
        cors_origins=list(cors),
        max_body=max_body or DEFAULT_MAX_BODY,
    )
    config.to_environment()
    try:
        port = serving.check_port(host, port)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror}") from None
    if reachable_from_other_machines(host):
        # There is no authentication and no TLS: answers about a pregnancy would cross the
        # network in clear text, and anyone who can reach the port can use the service.
        click.echo(f"warning: listening on {host}: other machines can reach this server, which has no "
                   "authentication and no TLS; put it behind a reverse proxy that adds both", err=True)
    click.echo(f"triage serving on http://{host}:{port}/ ({workers} worker{'s' if workers > 1 else ''}, "
               f"knowledge base {kb.name} {kb.version}); Ctrl-C stops it", err=True)
    status = serving.run(
        host, port, workers,
        access_log=False,  # uvicorn's access log has query strings; triage.serve.access logs without them
        server_header=False, proxy_headers=False, log_config=_log_config(), timeout_graceful_shutdown=10,
    )
    raise SystemExit(status)


def _log_config() -> dict:
    fmt = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": fmt},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "triage.serve": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }
