"""`printstash backup …` and `printstash maintenance …` (filled in by the operations issue)."""

import argparse


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the backup and maintenance subcommands to the `printstash` parser."""
