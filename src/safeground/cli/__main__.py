"""``python -m safeground.cli``: the same command as ``safeground`` and ``python -m safeground``."""

from safeground.cli import main

if __name__ == "__main__":
    main()
