"""`python -m ollama_nb` is `make lab` without make."""

import sys

from .lab import main

sys.exit(main())
