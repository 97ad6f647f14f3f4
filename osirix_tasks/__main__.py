"""``python -m osirix_tasks``."""

from .cli import main

main()
