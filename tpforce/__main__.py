"""`python -m tpforce` runs the command line."""

import sys

from tpforce.cli import main

sys.exit(main())
