"""The embedded OsiriX: a gRPC host speaking the OsiriXgrpc protocol over a real DICOM database."""
