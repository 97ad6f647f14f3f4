"""ROIs as standard DICOM: geometric ROIs as TID 1500 measurement reports (SR), masks as
segmentations (SEG), both written with highdicom; plus the tables (CSV, JSON) of ``roi export``.

This package works on plain records (:class:`~.records.RoiRecord`), not on the emulator's objects,
so the embedded OsiriX (its ROI store) and the client side (``roi export``, a task's
``save_segmentation`` against a real OsiriX) share it. It imports neither the client nor the page.
"""
