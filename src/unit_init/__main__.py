"""``python -m unit_init``: the ``unit-init`` command line."""

from __future__ import annotations

from unit_init.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
