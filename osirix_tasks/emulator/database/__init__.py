"""The emulator's DICOM database: reading headers within bounds, the SQLite index, imports, demo data."""
