"""The plugin host: finds plugins (entry-point group ``mtdnn``), loads the selected ones and the
built-ins, and fills the registries by calling the registration hooks.

Selection (nothing is imported at module import time):

* ``--plugin NAME`` (repeatable) and ``MTDNN_PLUGINS=a,b`` load those entry points;
  ``MTDNN_PLUGINS=all`` loads every installed one;
* ``MTDNN_DISABLE_PLUGINS=a,b`` blocks entry points even if selected.

A plugin that fails to import or register is reported (name, distribution, version, error)
and skipped; in strict mode (``--strict-plugins`` or ``MTDNN_STRICT_PLUGINS=1``) the error
is raised. Hook implementations whose names match no hook spec are errors.
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
from mtdnn_core.errors import MtdnnError, PluginError
from mtdnn_core.registry import KINDS, Origin, Registries

ENTRY_POINT_GROUP = "mtdnn"
ENV_SELECT = "MTDNN_PLUGINS"
ENV_BLOCK = "MTDNN_DISABLE_PLUGINS"
ENV_STRICT = "MTDNN_STRICT_PLUGINS"


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
    error: str | None = None
    registered: dict[str, list[str]] = field(default_factory=dict)


def installed_entry_points() -> dict[str, md.EntryPoint]:
    return {ep.name: ep for ep in md.entry_points(group=ENTRY_POINT_GROUP)}


class PluginHost:
    """Plugin manager plus registries. Create one per run (tests create one per test)."""

    def __init__(self, plugins: list[str] | tuple[str, ...] = (), strict: bool | None = None,
                 load_all: bool = False, builtins: bool = True):
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.strict = strict_from_env() if strict is None else strict
        self.requested = list(dict.fromkeys([*plugins, *_env_list(ENV_SELECT)]))
        self.load_all = load_all or "all" in self.requested
        self.blocked = set(_env_list(ENV_BLOCK))
        self.builtins = builtins
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
        if self.strict:
            raise PluginError(f"plugin '{info.name}' ({info.distribution} {info.version}) failed: {info.error}") from exc
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
        wanted = list(available) if self.load_all else [n for n in self.requested if n != "all"]
        for name in wanted:
            if name in self.blocked:
                continue
            ep = available.get(name)
            if ep is None:
                from mtdnn_core.errors import did_you_mean

                msg = f"no plugin '{name}' is installed{did_you_mean(name, available)}; installed: {', '.join(sorted(available)) or '(none)'}"
                if self.strict:
                    raise PluginError(msg)
                raise MtdnnError(msg)
            dist = ep.dist
            info = PluginInfo(name, dist.name if dist else "", dist.version if dist else "")
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001
                self.info[name] = info
                self._fail(info, exc)
                continue
            self._register(plugin, info)
        for name, plugin, version in self._extra:
            self._register(plugin, PluginInfo(name, version=version))
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
            installed = installed_entry_points()
            not_loaded = sorted(set(installed) - set(self.info))
            if not_loaded:
                hint = f"installed plugins not loaded: {', '.join(not_loaded)}; add --plugin NAME"
                for _, registry in regs:
                    registry.missing_hint = lambda _name, hint=hint: hint
            for kind in KINDS:
                self._call_registration(f"register_{kind}", regs, kind)
            self._registries = regs
        return self._registries

    def _call_registration(self, hook_name: str, regs: Registries, kind: str) -> None:
        registry = getattr(regs, kind)
        caller = getattr(self.pm.hook, hook_name)
        # builtins last so third-party names stay stable; attribute each entry to its plugin
        impls = sorted(caller.get_hookimpls(), key=lambda impl: self.info[impl.plugin_name].builtin)
        for impl in impls:
            info = self.info[impl.plugin_name]
            registry.current_origin = Origin(info.name, info.version)
            before = set(registry.names())
            try:
                impl.function(*[{"registry": registry}[arg] for arg in impl.argnames])
            except Exception as exc:  # noqa: BLE001
                if isinstance(exc, PluginError) and "registered twice" in str(exc):
                    if self.strict:
                        raise
                self._fail(info, exc)
                continue
            added = sorted(set(registry.names()) - before)
            if added:
                info.registered.setdefault(kind, []).extend(added)

    def add_commands(self, cli: Any) -> None:
        self.load()
        for impl in self.pm.hook.register_commands.get_hookimpls():
            info = self.info[impl.plugin_name]
            try:
                impl.function(*[{"cli": cli}[arg] for arg in impl.argnames])
            except Exception as exc:  # noqa: BLE001
                self._fail(info, exc)

    def resolve_data_dir(self, value: str) -> str:
        self.load()
        answer = self.pm.hook.resolve_data_dir(name=value)
        return str(answer) if answer is not None else value

    def has_observers(self, hook_name: str) -> bool:
        self.load()
        return bool(getattr(self.pm.hook, hook_name).get_hookimpls())

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        getattr(self.pm.hook, hook_name)(**kwargs)

    def failures(self) -> list[PluginInfo]:
        return [i for i in self.info.values() if i.error]


def describe_installed() -> list[PluginInfo]:
    """Every installed plugin, loaded in a scratch host, with what it registers (``mtdnn plugins``)."""
    host = PluginHost(load_all=True, strict=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        host.registries  # noqa: B018 - fills PluginInfo.registered
    return list(host.info.values())

