"""Run the ``pusher-channels`` command line as ``python -m pusher_transports``."""

import sys

from pusher_transports.cli import main

sys.exit(main())
