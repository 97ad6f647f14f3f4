"""What the node negotiates: every storage SOP class in every transfer syntax our decoders read
(pydicom with pylibjpeg), the query/retrieve models, verification.

An association that offers a storage SOP class only in syntaxes we cannot decode gets that
presentation context refused (DICOM result "transfer syntaxes not supported"); one that offers an
uncompressed syntax beside it is accepted in that one (negotiated down). Compressed syntaxes come
first in our list, so a file that arrives compressed is kept as sent.
"""

from __future__ import annotations

import functools
from typing import Any

from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)
from pynetdicom.presentation import AllStoragePresentationContexts, PresentationContext
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

__all__ = [
    "UNCOMPRESSED",
    "FIND_MODELS",
    "GET_MODELS",
    "MOVE_MODELS",
    "decodable_syntaxes",
    "storage_classes",
    "scp_contexts",
]

#: The uncompressed syntaxes, most common first.
UNCOMPRESSED = (ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian)
FIND_MODELS = (PatientRootQueryRetrieveInformationModelFind, StudyRootQueryRetrieveInformationModelFind)
MOVE_MODELS = (PatientRootQueryRetrieveInformationModelMove, StudyRootQueryRetrieveInformationModelMove)
GET_MODELS = (PatientRootQueryRetrieveInformationModelGet, StudyRootQueryRetrieveInformationModelGet)


@functools.cache
def decodable_syntaxes() -> tuple[UID, ...]:
    """Every transfer syntax whose pixel data this installation decodes: compressed ones first
    (kept as they arrive), then the uncompressed ones."""
    from pydicom.pixels import get_decoder
    from pydicom.pixels.decoders.base import _PIXEL_DATA_DECODERS

    compressed = []
    for uid in _PIXEL_DATA_DECODERS:
        syntax = UID(uid)
        if syntax in UNCOMPRESSED or not syntax.is_compressed:
            continue
        try:
            if get_decoder(syntax).is_available:
                compressed.append(syntax)
        except NotImplementedError:
            continue
    return (*compressed, *UNCOMPRESSED)


@functools.cache
def storage_classes() -> tuple[UID, ...]:
    """Every storage SOP class pynetdicom knows (images, SEG, SR, RT, waveforms, documents ...)."""
    return tuple(UID(cx.abstract_syntax or "") for cx in AllStoragePresentationContexts)


def scp_contexts() -> list[PresentationContext]:
    """The presentation contexts the listening node supports. Storage contexts take both roles, so
    the node stores what is sent to it and sends what a C-GET asks for on the same association."""
    contexts = []
    for uid in (Verification, *FIND_MODELS, *MOVE_MODELS, *GET_MODELS):
        context = PresentationContext()
        context.abstract_syntax = uid
        context.transfer_syntax = list(UNCOMPRESSED)
        contexts.append(context)
    syntaxes: list[Any] = list(decodable_syntaxes())
    for uid in storage_classes():
        context = PresentationContext()
        context.abstract_syntax = uid
        context.transfer_syntax = syntaxes
        context.scu_role = True
        context.scp_role = True
        contexts.append(context)
    return contexts
