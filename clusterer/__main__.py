"""Run the command line interface: ``python -m clusterer``."""

from .cli import main

main()
