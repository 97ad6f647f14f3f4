"""An example task pack for osirix-tasks."""
