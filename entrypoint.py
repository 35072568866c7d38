"""The image's entrypoint: the runner starts this with the inputs in INPUT_* variables."""

import sys

from ampaction.main import main

if __name__ == "__main__":
    sys.exit(main())
