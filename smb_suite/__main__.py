"""`python -m smb_suite` is the `smb-suite` command."""

import sys

from smb_suite.cli import main

sys.exit(main())
