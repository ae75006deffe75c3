"""Demo data, app by app: `cocotte seed_demo` runs each installed app's `demo` module in dependency order.

An app that has demo data gives a `demo.py` (or a `demo` package) with:

- `seed(context)`: create its part, idempotently (run it again and nothing is duplicated); what later apps
  need goes into `context.shared` (spaces puts its sites there, accounts its people);
- optionally `add_arguments(parser)`: the command-line options it reads from `context.options`;
- optionally `check(context)`: refuse bad options with `CommandError` before any app writes anything;
- optionally `report(context)`: what to print once every app has seeded (accounts prints the demo logins).

Apps are taken in INSTALLED_APPS order, which is the order of the layers (core < accounts < spaces < …): an
app finds in `context.shared` what the apps below it made. The engine never names the apps above it.
"""

import random
from dataclasses import dataclass, field
from importlib import import_module
from types import ModuleType
from typing import Any

from django.apps import apps
from django.utils.module_loading import module_has_submodule


@dataclass
class DemoContext:
    options: dict[str, Any]
    rng: random.Random
    stdout: Any  # the command's output (write(), and style for its colours)
    style: Any = None
    shared: dict[str, Any] = field(default_factory=dict)

    def write(self, text: str) -> None:
        self.stdout.write(text)


def demo_modules() -> list[ModuleType]:
    """The `demo` module of every installed app that has one, lowest layer first."""
    found = []
    for app in apps.get_app_configs():
        if module_has_submodule(app.module, "demo"):
            found.append(import_module(f"{app.name}.demo"))
    return found


def seed(context: DemoContext, modules: list[ModuleType] | None = None) -> None:
    modules = demo_modules() if modules is None else modules
    for module in modules:
        if hasattr(module, "check"):
            module.check(context)
    for module in modules:
        module.seed(context)
    for module in modules:
        if hasattr(module, "report"):
            module.report(context)
