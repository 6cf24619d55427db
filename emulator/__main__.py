"""``python -m emulator --host 127.0.0.1 --port N``: the server of ``emulator.server``."""

import sys

from emulator.server import main

if __name__ == "__main__":
    sys.exit(main())
