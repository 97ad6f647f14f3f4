"""Small helpers every room uses: atomic file writes and locks, where files live, lazy exports,
process liveness. Nothing here knows about tasks or OsiriX."""
