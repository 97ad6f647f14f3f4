"""Talking to other nodes (the ``[[dicom.node]]`` entries of tasks.toml): C-ECHO, C-FIND, C-GET into
the database, C-MOVE to a destination, C-STORE of files (a study, a series, a task's SEG/SR).

Each call opens one association with the node as our AE title, and raises DicomPeerError naming
the node and what it answered when it refuses, fails or cannot be reached.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import UID
from pynetdicom import AE, build_role, evt
from pynetdicom.association import Association
from pynetdicom.presentation import StoragePresentationContexts, build_context
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    PatientRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

from ..emulator.database.index import Database
from ..errors import DicomNodeError, DicomPeerError
from ..model import RemoteNode
from .contexts import UNCOMPRESSED, decodable_syntaxes
from .receiver import STAGING_FOLDER, Receiver, Staged

__all__ = ["RETURN_KEYS", "Outcome", "echo", "find", "get", "move", "send", "identifier"]

log = logging.getLogger(__name__)
#: What a query asks a node to return at each level (besides the keys it matches on).
RETURN_KEYS = {
    "PATIENT": ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "NumberOfPatientRelatedStudies"),
    "STUDY": (
        "PatientName",
        "PatientID",
        "StudyInstanceUID",
        "StudyDate",
        "StudyDescription",
        "AccessionNumber",
        "ModalitiesInStudy",
        "NumberOfStudyRelatedSeries",
        "NumberOfStudyRelatedInstances",
    ),
    "SERIES": (
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "Modality",
        "SeriesNumber",
        "SeriesDescription",
        "NumberOfSeriesRelatedInstances",
    ),
    "IMAGE": ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID", "InstanceNumber"),
}
#: Seconds to wait for a node's answers.
TIMEOUT = 60


@dataclass
class Outcome:
    """What a retrieve or a send did: instances completed, failed (with why), and what came in."""

    completed: int = 0
    failed: int = 0
    warning: int = 0
    problems: list[str] = field(default_factory=list)
    imported: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dict(self.__dict__)

    def __str__(self) -> str:
        text = f"{self.completed} completed, {self.failed} failed"
        if self.warning:
            text += f", {self.warning} with warnings"
        if self.imported:
            text += f", {self.imported} new in the database"
        text += f" ({self.seconds:.1f} s)"
        for problem in self.problems[:5]:
            text += f"\n  {problem}"
        return text


def _ae(local_aet: str) -> AE:
    ae = AE(ae_title=local_aet)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = TIMEOUT
    ae.maximum_pdu_size = 0
    return ae


def _associate(ae: AE, node: RemoteNode, **kwargs: Any) -> Association:
    assoc = ae.associate(node.host, node.port, ae_title=node.ae_title, **kwargs)
    if assoc.is_established:
        return assoc
    why = "refused the association" if assoc.is_rejected else "did not answer (or aborted)"
    raise DicomPeerError(
        f"DICOM node '{node.name}' ({node.ae_title} at {node.host}:{node.port}) {why} - check its AE title, "
        f"host and port in tasks.toml, and that it knows our AE title {ae.ae_title!r}"
    )


def _status_error(node: RemoteNode, what: str, status: Dataset | None) -> DicomPeerError:
    code = f"0x{int(status.Status):04X}" if status is not None and "Status" in status else "no answer"
    comment = f": {status.ErrorComment}" if status is not None and "ErrorComment" in status else ""
    return DicomPeerError(f"DICOM node '{node.name}' failed the {what} (status {code}{comment})")


def identifier(level: str, keys: dict[str, str], *, returned: bool = True) -> Dataset:
    """A query/retrieve identifier: the level, the keys to match and (``returned``: for C-FIND) the
    keys to return, empty. A retrieve's identifier holds only the level and the unique keys."""
    level = level.upper()
    if level not in RETURN_KEYS:
        raise DicomNodeError(f"level {level!r} - use one of patient, study, series, image")
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for keyword in RETURN_KEYS[level] if returned else ():
        setattr(ds, keyword, "")
    for keyword, value in keys.items():
        if not pydicom.datadict.tag_for_keyword(keyword):
            raise DicomNodeError(f"{keyword!r} is not a DICOM keyword - write e.g. PatientID=123 or Modality=CT")
        setattr(ds, keyword, value)
    return ds


def echo(local_aet: str, node: RemoteNode) -> float:
    """C-ECHO the node; the round trip in seconds."""
    ae = _ae(local_aet)
    ae.add_requested_context(Verification)
    started = time.perf_counter()
    assoc = _associate(ae, node)
    try:
        status = assoc.send_c_echo()
    finally:
        assoc.release()
    if not status or status.Status != 0:
        raise _status_error(node, "C-ECHO", status)
    return time.perf_counter() - started


def _plain(value: Any) -> Any:
    if isinstance(value, pydicom.multival.MultiValue | list):
        return [str(v) for v in value]
    return "" if value is None else str(value)


def find(local_aet: str, node: RemoteNode, level: str, keys: dict[str, str]) -> list[dict[str, Any]]:
    """C-FIND on the node: one dict (keyword -> value) per match."""
    query = identifier(level, keys)
    model = (
        PatientRootQueryRetrieveInformationModelFind
        if level.upper() == "PATIENT"
        else (StudyRootQueryRetrieveInformationModelFind)
    )
    ae = _ae(local_aet)
    ae.add_requested_context(model)
    assoc = _associate(ae, node)
    results: list[dict[str, Any]] = []
    try:
        for status, found in assoc.send_c_find(query, model):
            if not status or status.Status not in (0x0000, 0xFF00, 0xFF01):
                raise _status_error(node, "C-FIND", status)
            if found is not None and status.Status in (0xFF00, 0xFF01):
                results.append({e.keyword: _plain(e.value) for e in found if e.keyword})
    finally:
        assoc.release()
    return results


def _suboperations(node: RemoteNode, what: str, responses: Iterable[tuple[Dataset, Any]], outcome: Outcome) -> None:
    final: Dataset | None = None
    for status, _ in responses:
        if not status:
            raise _status_error(node, what, None)
        final = status
    if final is None:
        raise _status_error(node, what, None)
    outcome.completed = int(final.get("NumberOfCompletedSuboperations", 0) or 0)
    outcome.failed = int(final.get("NumberOfFailedSuboperations", 0) or 0)
    outcome.warning = int(final.get("NumberOfWarningSuboperations", 0) or 0)
    if final.Status not in (0x0000, 0xB000):
        raise _status_error(node, what, final)
    if final.Status == 0xB000:
        outcome.problems.append(f"{node.name}: some sub-operations failed ({outcome.failed})")


def move(local_aet: str, node: RemoteNode, level: str, keys: dict[str, str], destination: str) -> Outcome:
    """C-MOVE: ask the node to send what matches to the AE title ``destination``."""
    started = time.perf_counter()
    ae = _ae(local_aet)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelMove)
    assoc = _associate(ae, node)
    outcome = Outcome()
    try:
        responses = assoc.send_c_move(
            identifier(level, keys, returned=False), destination, StudyRootQueryRetrieveInformationModelMove
        )
        _suboperations(node, f"C-MOVE to {destination}", responses, outcome)
    finally:
        assoc.release()
    outcome.seconds = time.perf_counter() - started
    return outcome


def get(local_aet: str, node: RemoteNode, level: str, keys: dict[str, str], db: Database) -> Outcome:
    """C-GET: fetch what matches into the database (the same checks and indexing as received files)."""
    started = time.perf_counter()
    outcome = Outcome()
    staging = db.folder / STAGING_FOLDER / f"get-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    received: list[int] = [0]
    receiver = Receiver(
        db, lambda arrivals: received.__setitem__(0, received[0] + sum(a.instances for a in arrivals)), staging=staging
    )

    def on_store(event: Any) -> int:
        try:
            with event.request.DataSet.getbuffer() as view:
                from pynetdicom.dsutils import encode_file_meta

                path = receiver.stage((b"\x00" * 128 + b"DICM", encode_file_meta(event.file_meta), view))
        except OSError as exc:
            outcome.problems.append(f"could not keep an instance: {exc}")
            return 0xA700
        try:
            header = receiver.check(path)
        except Exception as exc:  # noqa: BLE001 - the importer would skip it: refuse it
            path.unlink(missing_ok=True)
            outcome.problems.append(f"instance {event.request.AffectedSOPInstanceUID} refused: {exc}")
            return 0xC000
        receiver.accept(Staged(path, header, node.ae_title))
        return 0x0000

    ae = _ae(local_aet)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
    classes = [UID(cx.abstract_syntax or "") for cx in StoragePresentationContexts][:127]
    syntaxes = list(decodable_syntaxes())
    for uid in classes:
        ae.add_requested_context(uid, syntaxes)
    roles = [build_role(uid, scp_role=True) for uid in classes]
    try:
        assoc = _associate(ae, node, ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, on_store)])
        try:
            responses = assoc.send_c_get(
                identifier(level, keys, returned=False), StudyRootQueryRetrieveInformationModelGet
            )
            _suboperations(node, "C-GET", responses, outcome)
        finally:
            assoc.release()
    finally:
        receiver.close(wait=600)
    outcome.imported = received[0]
    outcome.seconds = time.perf_counter() - started
    return outcome


def _send_contexts(datasets: list[tuple[Path, str, str]]) -> list[Any]:
    pairs: dict[tuple[str, str], None] = {}
    for _, sop_class, syntax in datasets:
        pairs[(sop_class, syntax)] = None
        if UID(syntax).is_compressed:
            pairs[(sop_class, "")] = None
    if len(pairs) > 128:
        raise DicomNodeError(
            f"these files need {len(pairs)} presentation contexts, more than one association carries (128) - "
            "send fewer kinds of objects at a time"
        )
    return [build_context(sop, [syntax] if syntax else list(UNCOMPRESSED)) for sop, syntax in pairs]


def send(local_aet: str, node: RemoteNode, paths: list[Path]) -> Outcome:
    """C-STORE files to the node (decompressed when it does not take their transfer syntax)."""
    started = time.perf_counter()
    outcome = Outcome()
    described: list[tuple[Path, str, str]] = []
    for path in paths:
        try:
            head = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID"])
            syntax = str(head.file_meta.get("TransferSyntaxUID") or "1.2.840.10008.1.2")
            described.append((path, str(head.SOPClassUID), syntax))
        except Exception as exc:  # noqa: BLE001 - reported, the others are sent
            outcome.failed += 1
            outcome.problems.append(f"{path}: not readable ({exc})")
    if not described:
        outcome.seconds = time.perf_counter() - started
        return outcome
    ae = _ae(local_aet)
    assoc = _associate(ae, node, contexts=_send_contexts(described))
    try:
        for path, _sop, syntax in described:
            _send_one(assoc, node, path, syntax, outcome)
    finally:
        assoc.release()
    outcome.seconds = time.perf_counter() - started
    return outcome


def _send_one(assoc: Association, node: RemoteNode, path: Path, syntax: str, outcome: Outcome) -> None:
    try:
        ds = pydicom.dcmread(path)
        accepted = {
            str(cx.transfer_syntax[0]) for cx in assoc.accepted_contexts if cx.abstract_syntax == ds.SOPClassUID
        }
        if UID(syntax).is_compressed and syntax not in accepted:
            ds.decompress(generate_instance_uid=False)  # a change of transfer syntax: the same instance
        status = assoc.send_c_store(ds)
    except Exception as exc:  # noqa: BLE001 - one file failing does not stop the others
        outcome.failed += 1
        outcome.problems.append(f"{path}: {type(exc).__name__}: {exc}")
        return
    if status and status.Status in (0x0000, 0xB000, 0xB006, 0xB007):
        outcome.completed += 1
        outcome.warning += status.Status != 0
    else:
        outcome.failed += 1
        code = f"0x{int(status.Status):04X}" if status else "no answer"
        outcome.problems.append(f"{path}: node '{node.name}' answered {code}")
