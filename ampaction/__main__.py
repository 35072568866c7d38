"""`python -m ampaction --app-id … --branch …`: the same run, for any CI system."""

import sys

from ampaction.main import main

sys.exit(main())
