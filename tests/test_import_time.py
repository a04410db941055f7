"""No module maps or aliases models when it is imported. ``aliased(User)`` or an ORM statement
built at module level makes SQLAlchemy configure every mapper there and then, which fails
unless each model that a relationship names was imported before: which modules happened to be
imported first would decide whether the app starts. Configuring waits for the first query."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = """
import importlib, pkgutil
from sqlalchemy import event
from sqlalchemy.orm import Mapper, configure_mappers
importing = []
configured_while = []
event.listen(Mapper, "before_configured", lambda: configured_while.append(importing[-1]))
count = 0
for area in ("shop", "referrals", "community", "kpis"):
    package = importlib.import_module(area)
    for module in sorted(m.name for m in pkgutil.walk_packages(package.__path__, area + ".")):
        importing.append(module)
        importlib.import_module(module)
        count += 1
importing.append("(after every import)")
configure_mappers()
print(count, *configured_while, sep="\\n")
"""


def test_no_module_configures_the_mappers_when_imported():
    done = subprocess.run([sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    count, *configured_while = done.stdout.split("\n")[:-1]
    assert int(count) > 100  # every module of the app was imported
    assert configured_while == ["(after every import)"]
