"""The OsiriX emulator: the OsiriXgrpc protocol over a real DICOM database, with viewers, DCMPix,
ROIs, ROI volumes and 3D windows, behaving like OsiriX (``../shared/reference``). It never imports the
client or the page."""
