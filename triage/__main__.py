"""``python -m triage`` runs the command-line interface."""

from .cli import main

main()
