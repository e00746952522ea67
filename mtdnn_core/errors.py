"""Error types that tell the user where the problem is and how to fix it."""
from __future__ import annotations

import difflib
from collections.abc import Iterable


class MtdnnError(Exception):
    """Base class: an error the CLI prints as a message, not as a traceback."""


class ConfigError(MtdnnError):
    """One or more problems in a configuration or task-definition file.

    ``problems`` holds every problem found, each already carrying its location, so that a user
    fixes a file in one pass instead of one error per run.
    """

    def __init__(self, problems: Iterable[str], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        head = f"{len(self.problems)} problem(s) in {source}:" if source else "invalid configuration:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))


class DataError(MtdnnError):
    """Malformed input data; the message names file, row and column."""


class PluginError(MtdnnError):
    """A plugin could not be loaded or registered something invalid."""


class ObserverError(MtdnnError):
    """A reporter or observer hook raised; ``observer`` names it, ``original`` is its exception.
    ``checkpoint`` is set once the run has saved its state (the trainer does), for resuming."""

    def __init__(self, observer: str, hook: str, original: BaseException, checkpoint: str | None = None):
        self.observer, self.hook, self.original, self.checkpoint = observer, hook, original, checkpoint
        super().__init__(f"{observer} failed in {hook}: {type(original).__name__}: {original}")


class TrainingDiverged(MtdnnError):
    """Too many consecutive non-finite losses."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or an empty string. A choice that
    differs only in case comes first (``MAE`` -> ``mae``), then the closest ignoring case."""
    choices = list(choices)
    lowered: dict[str, str] = {}
    for choice in choices:
        lowered.setdefault(choice.lower(), choice)
    if name.lower() in lowered and lowered[name.lower()] != name:
        return f"; did you mean '{lowered[name.lower()]}'?"
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
    return f"; did you mean '{lowered[close[0]]}'?" if close else ""


class UnknownNameError(MtdnnError, KeyError):
    """A component name that no loaded plugin registered."""

    def __init__(self, kind: str, name: str, choices: Iterable[str], hint: str = ""):
        choices = sorted(choices)
        self.kind, self.name, self.choices = kind, name, choices
        message = f"no {kind} '{name}'{did_you_mean(name, choices)} installed: {', '.join(choices) or '(none)'}"
        if hint:
            message += f"; {hint}"
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


def colon_hint(key: object) -> str:
    """For a key like ``name:smart`` (YAML reads ``{name:smart}`` as one key): how to write it."""
    name, _, value = str(key).partition(":")
    return f" (YAML needs a space after a key's colon: write '{name}: {value}')" if value and name else ""
