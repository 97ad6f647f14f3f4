"""File templates shipped with osirix-tasks (package data): ``pack/`` is what ``osirix-tasks new-pack`` copies."""
