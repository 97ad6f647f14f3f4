"""ROIs kept with their study, as OsiriX keeps them (Horos ``ViewerController.m`` ``saveROI:`` /
``loadROI:``, ``DicomStudy.m`` ``roiSRSeries``), as standard DICOM (:mod:`osirix_tasks.roidicom`).

- :mod:`.layout`: where the files are and the UIDs of a study's ROI series;
- :mod:`.catalog`: the ROI series and their objects in the SQLite index;
- :mod:`.snapshot`: an ROI of a viewer as a record and back;
- :mod:`.planes`: one image plane's stored ROIs: an SR, plus a SEG for its brush ROIs;
- :mod:`.foreign`: SR and SEG objects made elsewhere, shown as ROIs on the images they reference;
- :mod:`.store`: the store of a database: load a viewer's ROIs, save changed planes;
- :mod:`.saver`: the background thread that saves within a second of a change;
- :mod:`.watch`: which protocol calls change (or close) which viewer.
"""
