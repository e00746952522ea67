"""The plugin host: finds plugins (entry-point group ``mtdnn``), loads the selected ones and the
built-ins, and fills the registries by calling the registration hooks.

Selection (nothing is imported at module import time):

* ``--plugin NAME`` (repeatable) and ``MTDNN_PLUGINS=a,b`` load those entry points;
  ``MTDNN_PLUGINS=all`` loads every installed one;
* ``MTDNN_DISABLE_PLUGINS=a,b`` blocks entry points even if selected;
* ``--plugin package.module`` (a dotted name that is no entry point) imports that module as a
  plugin, for trying a plugin before packaging it.

Registries are filled built-ins first, then plugins in name order, so a third-party plugin can
never take a built-in name; a clashing or invalid entry is refused alone (named with both
plugins) while everything else of both plugins registers.

A plugin the user asked for by name (``--plugin``, ``MTDNN_PLUGINS=name``) that fails to import,
to register (a hook implementation with a wrong signature, a registration hook that raises, a
component it registers that is invalid) is an error naming the plugin and why, always: a run
must not go on without something it asked for. A plugin loaded only because ``all`` were
selected is reported (name, distribution, version, error) and skipped, unless strict mode
(``--strict-plugins`` or ``MTDNN_STRICT_PLUGINS=1``) makes that an error too. Hook
implementations whose names match no hook spec are errors.

A plugin states the plugin API it was written for in its entry-point module, as a PEP 440
range: ``MTDNN_API = ">=1.0,<2"`` (see :mod:`mtdnn_core.api`). A range that excludes this
core's ``API_VERSION`` fails the plugin like an import error, naming the plugin, its range and
the installed API; a plugin that states none is loaded with a warning (once per plugin).
"""
from __future__ import annotations

import importlib
import importlib.metadata as md
import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import pluggy

from mtdnn_core import hookspecs
from mtdnn_core.builtin import MODULES as BUILTIN_MODULES
from mtdnn_core.errors import MtdnnError, ObserverError, PluginError
from mtdnn_core.observers import LogRecord, Payload, RunStart, StepState, TrainSummary
from mtdnn_core.registry import KINDS, Origin, Registries

ENTRY_POINT_GROUP = "mtdnn"
ENV_SELECT = "MTDNN_PLUGINS"
ENV_BLOCK = "MTDNN_DISABLE_PLUGINS"
ENV_STRICT = "MTDNN_STRICT_PLUGINS"
API_ATTRIBUTE = "MTDNN_API"
_unstated_warned: set[str] = set()


def _env_list(name: str) -> list[str]:
    return [x.strip() for x in os.environ.get(name, "").split(",") if x.strip()]


def strict_from_env() -> bool:
    return os.environ.get(ENV_STRICT, "").lower() in ("1", "true", "yes", "on")


@dataclass
class PluginInfo:
    name: str
    distribution: str = ""
    version: str = ""
    builtin: bool = False
    requested: bool = False  # named by the user: failing to load it is an error, not a warning
    error: str | None = None
    registered: dict[str, list[str]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    provides: dict[str, set] = field(default_factory=dict)  # kind -> names and aliases


def check_api(plugin: Any, name: str, origin: str = "", required: bool = True) -> None:
    """Check the plugin API range a plugin states (``MTDNN_API``) against this core's
    ``API_VERSION``: a mismatch or a malformed range is a :class:`PluginError`; no range at all
    warns once (``required``) and the plugin loads."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from mtdnn_core.api import API_VERSION

    who = f"plugin '{name}'" + (f" ({origin})" if origin else "")
    stated = getattr(plugin, API_ATTRIBUTE, None)
    if stated is None:
        if required and name not in _unstated_warned:
            _unstated_warned.add(name)
            major = int(API_VERSION.split(".")[0])
            warnings.warn(f"mtdnn: {who} does not state the plugin API it needs; loading it anyway (its "
                          f"entry-point module should say e.g. {API_ATTRIBUTE} = \">={major}.0,<{major + 1}\")",
                          RuntimeWarning, stacklevel=3)
        return
    try:
        wanted = SpecifierSet(str(stated))
    except InvalidSpecifier:
        raise PluginError(f"{who}: {API_ATTRIBUTE} = {stated!r} is not a version range "
                          f"(write e.g. \">=1.0,<2\")") from None
    if API_VERSION not in wanted:
        raise PluginError(f"{who} needs mtdnn plugin API {stated}, but the installed mtdnn-core provides API "
                          f"{API_VERSION}; install a release of the plugin made for API {API_VERSION} "
                          f"or an mtdnn-core whose API matches {stated}")


def installed_entry_points() -> dict[str, md.EntryPoint]:
    return {ep.name: ep for ep in md.entry_points(group=ENTRY_POINT_GROUP)}


class PluginHost:
    """Plugin manager plus registries. Create one per run (tests create one per test).

    ``survey``: a host that loads plugins only to list them (``mtdnn plugins``, ``--help``): a
    failing plugin is listed as failed, an error only in strict mode, even if named.
    """

    def __init__(self, plugins: list[str] | tuple[str, ...] = (), strict: bool | None = None,
                 load_all: bool = False, builtins: bool = True, survey: bool = False):
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.strict = strict_from_env() if strict is None else strict
        self.requested = list(dict.fromkeys([*plugins, *_env_list(ENV_SELECT)]))
        self.load_all = load_all or "all" in self.requested
        self.blocked = set(_env_list(ENV_BLOCK))
        self.builtins = builtins
        self.survey = survey
        self.info: dict[str, PluginInfo] = {}
        self._extra: list[tuple[str, Any]] = []
        self._registries: Registries | None = None
        self._loaded = False

    # -- loading -------------------------------------------------------------------------
    def add_plugin(self, plugin: Any, name: str, version: str = "") -> None:
        """Register a plugin object directly (tests, embedding). Call before :attr:`registries`."""
        if self._registries is not None:
            raise PluginError("add plugins before the registries are built")
        self._extra.append((name, plugin, version))

    def _fail(self, info: PluginInfo, exc: BaseException) -> None:
        info.error = f"{type(exc).__name__}: {exc}"
        if self.strict and isinstance(exc, PluginError) and not info.requested:
            raise exc
        if self.strict or info.requested:
            origin = " ".join(x for x in (info.distribution, info.version) if x)
            origin = f" ({origin})" if origin else ""
            advice = f"; fix or uninstall it, or leave out --plugin {info.name}" if info.requested else ""
            raise PluginError(f"plugin '{info.name}'{origin} failed: {info.error}{advice}") from exc
        warnings.warn(
            f"mtdnn: skipping plugin '{info.name}' ({info.distribution} {info.version}): {info.error}",
            RuntimeWarning,
            stacklevel=2,
        )

    def _register(self, plugin: Any, info: PluginInfo) -> bool:
        try:
            self.pm.register(plugin, name=info.name)
            unknown = [
                caller.name
                for caller in self.pm.get_hookcallers(plugin) or []
                if caller.spec is None
            ]
            if unknown:
                self.pm.unregister(plugin)
                known = [n for n in dir(hookspecs) if n.startswith(("register_", "on_", "resolve_"))]
                from mtdnn_core.errors import did_you_mean

                raise PluginError(
                    "; ".join(f"hook implementation '{u}' matches no hook spec{did_you_mean(u, known)}" for u in unknown)
                )
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not take the host down
            self.info[info.name] = info  # listed as FAILED, with the reason
            self._fail(info, exc)
            return False
        self.info[info.name] = info
        return True

    def load(self) -> None:
        """Load the selected entry points, the extra plugins and the built-ins, once."""
        if self._loaded:
            return
        self._loaded = True
        available = installed_entry_points()
        named = [n for n in self.requested if n != "all"] if not self.survey else []
        selected = [n for n in self.requested if n != "all"]
        wanted = list(dict.fromkeys([*selected, *available])) if self.load_all else selected
        for name in wanted:
            if name in self.blocked:
                continue
            ep = available.get(name)
            if ep is None and "." in name:  # a module path: load it without an entry point
                info = PluginInfo(name, "", "", requested=name in named)
                try:
                    plugin = importlib.import_module(name)
                    check_api(plugin, name)
                except Exception as exc:  # noqa: BLE001
                    self.info[name] = info
                    self._fail(info, exc)
                    continue
                self._register(plugin, info)
                continue
            if ep is None:
                from mtdnn_core.errors import did_you_mean

                msg = f"no plugin '{name}' is installed{did_you_mean(name, available)}; installed: {', '.join(sorted(available)) or '(none)'}"
                if self.strict:
                    raise PluginError(msg)
                raise MtdnnError(msg)
            dist = ep.dist
            info = PluginInfo(name, dist.name if dist else "", dist.version if dist else "", requested=name in named)
            try:
                plugin = ep.load()
                check_api(plugin, name, " ".join(x for x in (info.distribution, info.version) if x))
            except Exception as exc:  # noqa: BLE001
                self.info[name] = info
                self._fail(info, exc)
                continue
            self._register(plugin, info)
        for name, plugin, version in self._extra:  # objects given in code: checked when they state a range
            info = PluginInfo(name, version=version)
            try:
                check_api(plugin, name, required=False)
            except PluginError as exc:
                self.info[name] = info
                self._fail(info, exc)
                continue
            self._register(plugin, info)
        if self.builtins:
            from mtdnn_core import __version__

            for module_name in BUILTIN_MODULES:
                short = "core." + module_name.rsplit(".", 1)[-1]
                self._register(importlib.import_module(module_name), PluginInfo(short, "mtdnn-core", __version__, builtin=True))

    # -- registries ----------------------------------------------------------------------
    @property
    def registries(self) -> Registries:
        """Registries filled by every loaded plugin (built lazily, once)."""
        if self._registries is None:
            self.load()
            regs = Registries()
            for _, registry in regs:
                registry.strict = self.strict
                registry.missing_hint = self._missing_hint(registry.kind)
            for kind in KINDS:
                self._call_registration(f"register_{kind}", regs, kind)
            for _, registry in regs:
                for refusal in registry.refused:
                    info = self.info.get(refusal.plugin.plugin)
                    if info is not None:
                        info.refused.append(str(refusal))
            self._registries = regs
        return self._registries

    def _missing_hint(self, kind: str):
        """For an unknown name: which installed but unloaded plugin provides it, if any."""

        def hint(name: str) -> str:
            not_loaded = sorted(set(installed_entry_points()) - set(self.info) - self.blocked)
            if not not_loaded:
                return ""
            providers = [info.name for info in describe_installed(not_loaded) if name in info.provides.get(kind, ())]
            if providers:
                return f"provided by plugin {', '.join(providers)}: add --plugin {providers[0]}"
            return f"none of the installed plugins that are not loaded ({', '.join(not_loaded)}) provides it"

        return hint

    def _call_registration(self, hook_name: str, regs: Registries, kind: str) -> None:
        registry = getattr(regs, kind)
        caller = getattr(self.pm.hook, hook_name)
        # built-ins first, so their names are stable; then plugins in name order (deterministic)
        impls = sorted(caller.get_hookimpls(),
                       key=lambda impl: (not self.info[impl.plugin_name].builtin, impl.plugin_name))
        for impl in impls:
            info = self.info[impl.plugin_name]
            registry.current_origin = Origin(info.name, info.version)
            before = set(registry.names())
            refused_before = len(registry.refused)
            try:
                impl.function(*[{"registry": registry}[arg] for arg in impl.argnames])
            except Exception as exc:  # noqa: BLE001
                self._fail(info, exc)
            invalid = [r for r in registry.refused[refused_before:] if not r.clash]
            if invalid and info.requested:  # a broken entry of a plugin the user asked for
                self._fail(info, PluginError("; ".join(map(str, invalid))))
            added = sorted(set(registry.names()) - before)
            if added:
                info.registered.setdefault(kind, []).extend(added)
                names = info.provides.setdefault(registry.kind, set())
                for name in added:
                    names.update((name, *registry.get(name).aliases))

    def add_commands(self, cli: Any) -> None:
        self.load()
        for impl in self.pm.hook.register_commands.get_hookimpls():
            info = self.info[impl.plugin_name]
            before = set(getattr(cli, "commands", {}))
            try:
                impl.function(*[{"cli": cli}[arg] for arg in impl.argnames])
            except Exception as exc:  # noqa: BLE001
                self._fail(info, exc)
            added = sorted(set(getattr(cli, "commands", {})) - before)
            if added:
                info.registered["commands"] = added

    def resolve_data_dir(self, value: str) -> str:
        self.load()
        answer = self.pm.hook.resolve_data_dir(name=value)
        return str(answer) if answer is not None else value

    def has_observers(self, hook_name: str) -> bool:
        self.load()
        return bool(getattr(self.pm.hook, hook_name).get_hookimpls())

    # -- observer hooks (typed; each a no-op without implementations) -------------------------
    def _notify(self, hook_name: str, **kwargs: Any) -> Any:
        """Call an observer hook; an implementation that raises becomes an :class:`ObserverError`
        naming it (the run saves its state and stops; see the trainer)."""
        self.load()
        caller = getattr(self.pm.hook, hook_name)
        try:
            return caller(**kwargs)
        except Exception as exc:  # noqa: BLE001 - any observer's failure is reported, named
            raise ObserverError(self._culprit(caller, exc), hook_name, exc) from exc

    @staticmethod
    def _culprit(caller: Any, exc: BaseException) -> str:
        """The plugin or reporter whose implementation raised: the outermost traceback frame
        that runs one of the hook's implementations."""
        codes = {getattr(impl.function, "__code__", None): impl.plugin_name for impl in caller.get_hookimpls()}
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code in codes:
                return codes[tb.tb_frame.f_code]
            tb = tb.tb_next
        return f"an implementation of {caller.name}"

    def _payload(self, hook_name: str, kind: type[Payload], value: Payload | dict) -> Payload | None:
        """The typed payload of an observer hook (a dict is converted; ``None``: nobody observes)."""
        if isinstance(value, dict):
            if not self.has_observers(hook_name):
                return None
            return kind.of(value)
        return value

    def on_step_end(self, state: StepState | dict) -> None:
        """After an optimizer update: step, epoch, task, loss, lr, grad_norm."""
        payload = self._payload("on_step_end", StepState, state)
        if payload is not None:
            self._notify("on_step_end", state=payload)

    def on_evaluate(self, dataset: str, epoch: int, step: int, metrics: dict) -> None:
        self._notify("on_evaluate", dataset=dataset, epoch=epoch, step=step, metrics=metrics)

    def on_train_begin(self, run: RunStart | dict) -> None:
        payload = self._payload("on_train_begin", RunStart, run)
        if payload is not None:
            self._notify("on_train_begin", run=payload)

    def on_log(self, record: LogRecord | dict) -> None:
        payload = self._payload("on_log", LogRecord, record)
        if payload is not None:
            self._notify("on_log", record=payload)

    def on_train_end(self, summary: TrainSummary | dict) -> None:
        payload = self._payload("on_train_end", TrainSummary, summary)
        if payload is not None:
            self._notify("on_train_end", summary=payload)

    def attach(self, observer: Any, name: str) -> None:
        """Register an object's ``@hookimpl`` methods for a while (a run's reporters); hooks that
        match no spec are an error naming the object."""
        self.load()
        try:
            self.pm.register(observer, name=name)
        except pluggy.PluginValidationError as exc:  # e.g. a hook method with a wrong argument name
            raise PluginError(f"{name}: {exc}") from None
        unknown = [c.name for c in self.pm.get_hookcallers(observer) or [] if c.spec is None]
        if unknown:
            self.pm.unregister(observer)
            from mtdnn_core.errors import did_you_mean

            known = [n for n in dir(hookspecs) if n.startswith("on_")]
            raise PluginError("; ".join(f"{name}: hook implementation '{u}' matches no hook spec{did_you_mean(u, known)}"
                                        for u in unknown))

    def detach(self, observer: Any) -> None:
        if self.pm.is_registered(observer):
            self.pm.unregister(observer)

    def write_predictions(self, dataset: Any, output: dict, prefix: Any) -> None:
        self._notify("write_predictions", dataset=dataset, output=output, prefix=prefix)

    def failures(self) -> list[PluginInfo]:
        return [i for i in self.info.values() if i.error]


def describe_installed(names: list[str] | None = None) -> list[PluginInfo]:
    """Installed plugins (all, or ``names``), loaded in a scratch host, with what each registers
    and what was refused (``mtdnn plugins``)."""
    host = PluginHost(names or [], load_all=names is None, strict=False, survey=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            host.registries  # noqa: B018 - fills PluginInfo.registered
            import click

            host.add_commands(click.Group())  # and the commands each plugin adds
        except MtdnnError:  # pragma: no cover - a name that vanished between listing and loading
            pass
    return list(host.info.values())

