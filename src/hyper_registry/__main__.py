"""``python -m hyper_registry`` runs the command-line interface."""

from hyper_registry.cli.main import main

main()
