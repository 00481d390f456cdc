"""`python -m fincert_local.bench`: the same as `python -m fincert_local bench`."""

import sys

from fincert_local.bench.cli import main

sys.exit(main())
