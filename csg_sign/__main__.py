import sys

from csg_sign.cli import main

sys.exit(main())
