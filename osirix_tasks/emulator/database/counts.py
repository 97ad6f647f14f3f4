"""Which series OsiriX counts as a study's images (``noFiles``), and which it counts as none.

Horos ``DicomStudy.m`` ``noFiles`` sums the ``noFiles`` of the study's series, leaving out series whose
SOP class is a structured report, a presentation state or one of OsiriX's "supported private
classes" (``DCMAbstractSyntaxUID isStructuredReport:`` / ``isPresentationState:`` /
``isSupportedPrivateClasses:``); ``DicomSeries.m`` ``noFiles`` counts one per DicomImage (one per
frame) and answers 0 for a series of those classes. Any other series counts, image or not. The
private classes are matched as prefixes (``hasPrefix:``), and Raw Data Storage's UID is a prefix of
Segmentation Storage's: OsiriX counts a SEG series as no images.
"""

from __future__ import annotations

__all__ = ["counts_as_images", "STRUCTURED_REPORTS", "PRESENTATION_STATES", "PRIVATE_CLASS_PREFIXES"]

#: ``DCMAbstractSyntaxUID structuredReportSyntaxes``: basic text, enhanced, comprehensive, mammography
#: CAD, procedure log, chest CAD and X-ray radiation dose SR (Comprehensive 3D SR is not among them).
STRUCTURED_REPORTS = frozenset("1.2.840.10008.5.1.4.1.1.88." + n for n in ("11", "22", "33", "50", "40", "65", "67"))
#: ``presentationStateSyntaxes``: grayscale, colour, pseudo-colour and blending softcopy presentation states.
PRESENTATION_STATES = frozenset("1.2.840.10008.5.1.4.1.1.11." + n for n in ("1", "2", "3", "4"))
#: ``supportedPrivateClasses`` (matched as prefixes): MR spectroscopy, raw data, Philips private,
#: Siemens CSA non-image, GE 3D model, GE collage, GE eNTEGRA protocol, GE PET raw data.
PRIVATE_CLASS_PREFIXES = (
    "1.2.840.10008.5.1.4.1.1.4.2",
    "1.2.840.10008.5.1.4.1.1.66",
    "1.3.46.670589",
    "1.3.12.2.1107.5.9.1",
    "1.2.840.113619.4.26",
    "1.2.528.1.1001.5.1.1.1",
    "1.2.840.113619.4.27",
    "1.2.840.113619.4.30",
)


def counts_as_images(sop_class_uid: str) -> bool:
    """Whether OsiriX counts a series of this SOP class in its study's ``noFiles`` (and gives it a
    ``numberOfImages``)."""
    uid = sop_class_uid or ""
    if uid in STRUCTURED_REPORTS or uid in PRESENTATION_STATES:
        return False
    # OsiriX matches its private classes as prefixes: Raw Data Storage (...1.66) is a prefix of
    # Segmentation Storage (...1.66.4) and the other ...1.66.n classes, so OsiriX counts a SEG as none.
    return not uid.startswith(PRIVATE_CLASS_PREFIXES)
