"""Tasks that ship with osirix-tasks: one real task per OsiriX task type."""
