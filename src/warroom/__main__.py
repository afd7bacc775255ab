"""`python -m warroom` runs the same command line as `warroom`."""

import sys

from warroom.cli import main

sys.exit(main())
