# Entry point of Switchyard's gdb helpers: loads the `switchyard` package
# (the folder next to this file) and registers its commands.
#
# From a checkout: `source gdb-scripts/switchyard.py`. The `switchyard`
# binary embeds this file, preceded by the package's modules, in its
# `.debug_gdb_scripts` section; that bundle puts an importer for them on
# `sys.meta_path` first, so the package then comes from the binary.

import os
import sys

if not any(getattr(finder, "switchyard_bundle", False) for finder in sys.meta_path):
    _here = os.path.dirname(os.path.abspath(__file__))
    if _here not in sys.path:
        sys.path.insert(0, _here)
# Loading again (another `source`, or the binary after a checkout) reloads
# the modules rather than reusing stale ones.
for _name in [n for n in sys.modules if n == "switchyard" or n.startswith("switchyard.")]:
    del sys.modules[_name]

import switchyard  # noqa: E402

switchyard.load()
