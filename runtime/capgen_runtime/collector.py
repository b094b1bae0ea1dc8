"""The cyclic garbage collector while a service starts.

Start-up allocates what lives as long as the process (modules, the package's descriptors,
the applications): a few hundred thousand objects for a large package, over which each pass
of the collector costs tens of milliseconds. So the collector is held while they are made,
and settled once they are: they are moved out of its sight (`gc.freeze`) and it runs again
for what requests allocate.

It is held from the moment a package is imported to be run (`python -m package`: `require`
holds it, since the package imports everything it serves before its command line runs) or,
otherwise, once serving builds its applications (`serve.run.process_app`). Every command of
the command line settles it: `serve` once its applications are built, the others at once.
"""

from __future__ import annotations

import gc
import sys

# container objects allocated (net) between two young collections once settled: a request's
# objects are freed by reference counting as it ends, and a young collection on nearly every
# request (the default is 700) cost about a tenth of a proxied request's CPU
YOUNG_OBJECTS = 50_000

_state = {"held": False}  # whether `hold_collector` stopped the collector, to start it again


def hold_collector() -> None:
    """Stop the collector until `settle_collector` (unless the program has stopped it
    itself: then it is left as it is)."""
    if gc.isenabled():
        gc.disable()
        _state["held"] = True


def settle_collector(freeze: bool = True) -> None:
    """Start the collector held by `hold_collector` again, with what exists until now moved
    out of its sight (`freeze`: what start-up built) and young collections spaced out."""
    if _state["held"]:
        if freeze:
            gc.freeze()
            gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])
        _state["held"] = False
        gc.enable()


def run_as_main(package: str) -> bool:
    """This process was started as `python -m package` (the package is being imported to
    find its `__main__`)."""
    argv: list[str] = getattr(sys, "orig_argv", [])
    skip = False
    for index, arg in enumerate(argv[1:], start=1):
        if skip:
            skip = False
        elif arg in ("-X", "-W"):  # options whose value is the next argument
            skip = True
        elif arg == "-m":
            return argv[index + 1 : index + 2] == [package]
        elif arg.startswith("-m"):
            return arg[2:] == package
        elif arg == "-c" or not arg.startswith("-"):
            return False  # a command or a script
    return False
