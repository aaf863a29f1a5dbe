"""``python -m safeground``: the ``safeground`` command, for a machine where the script is not on the PATH
(a virtual environment not activated, a server's service unit that names the interpreter)."""

from safeground.cli import main

if __name__ == "__main__":
    main()
