"""How the kit's commands answer a usage error: the message first, then where the help is.

argparse prints its whole usage block before the message (18 lines for `a2v-mock`, so the line that
says what was wrong scrolls past); `UsageParser` prints only::

    a2v-mock: error: unrecognized arguments: --prot
    Run 'a2v-mock --help' to see every option.

and exits with status 2, as argparse does. `a2v-mock`, `a2v-mock worker`, `a2v-contract` and
`a2v-contract proxy` use it (`a2v-render`, which imports nothing from the spec, has the same rule in
`reference_renderer.cli`).
"""

from __future__ import annotations

import argparse
from typing import NoReturn

__all__ = ["UsageParser", "usage_error"]


def usage_error(prog: str, message: str) -> str:
    """The two lines a usage error prints."""
    return f"{prog}: error: {message}\nRun '{prog} --help' to see every option.\n"


class UsageParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, usage_error(self.prog, message))
