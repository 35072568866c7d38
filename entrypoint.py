"""The image's entrypoint: the runner starts this with the inputs in INPUT_* variables.

In the container this process is PID 1, which ignores every signal it has no
handler for: the runner's SIGTERM during the imports would be lost. So the
handler comes first, from a module of the standard library only.
"""

import sys

from ampaction.cancellation import Cancellation

if __name__ == "__main__":
    cancellation = Cancellation()
    cancellation.install()
    from ampaction.main import main  # after the signal handler, on purpose

    sys.exit(main(cancellation=cancellation))
