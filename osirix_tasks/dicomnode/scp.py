"""The listening node: a pynetdicom AE answering C-ECHO, C-STORE, C-FIND, C-MOVE and C-GET.

Who may associate is decided twice: the peer's address when it connects (a refused address is
closed before any DICOM is read), its calling AE title when it asks for an association (refused
with DICOM's "calling AE title not recognised"). Each refusal is logged with who tried, once per
peer and time window (:class:`.allow.RefusalLog`).
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian
from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.dsutils import encode_file_meta
from pynetdicom.transport import ThreadedAssociationServer

from ..errors import DicomNodeError, PortUnavailable
from ..model import DicomSettings
from .allow import AllowList, RefusalLog
from .contexts import scp_contexts
from .query import IndexQuery
from .receiver import Receiver, Staged

__all__ = ["NodeServer"]

log = logging.getLogger(__name__)
#: DICOM status codes the handlers answer with.
SUCCESS, PENDING = 0x0000, 0xFF00
OUT_OF_RESOURCES, CANNOT_UNDERSTAND, IDENTIFIER_MISMATCH = 0xA700, 0xC000, 0xA900
UNKNOWN_DESTINATION, SUBOP_FAILED = 0xA801, 0xA702
_PREAMBLE = b"\x00" * 128 + b"DICM"


class _GuardedServer(ThreadedAssociationServer):
    """pynetdicom's threaded server, closing connections from addresses not on the allow-list."""

    allow: AllowList
    refusals: RefusalLog

    def verify_request(self, request: Any, client_address: Any) -> bool:
        address = str(client_address[0])
        if self.allow.address_allowed(address):
            # Answers are small: send each at once rather than wait for the peer's delayed ACK.
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return True
        self.refusals.refused(address, "", "address not in allowed_addresses")
        return False


class NodeServer:
    """The node's AE and its listening socket."""

    def __init__(self, settings: DicomSettings, receiver: Receiver, query: IndexQuery):
        self.settings = settings
        self.receiver = receiver
        self.query = query
        self.allow = AllowList(tuple(settings.allowed_aets), tuple(settings.allowed_addresses))
        self.refusals = RefusalLog()
        self._refused_contexts: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()
        self.ae = AE(ae_title=settings.ae_title)
        self.ae.maximum_associations = settings.max_associations
        self.ae.maximum_pdu_size = 0  # no limit: the sender's largest PDUs, fewer of them
        self.ae.require_calling_aet = list(settings.allowed_aets)
        for context in scp_contexts():  # one by one: the list setter would drop the roles
            self.ae.add_supported_context(
                UID(context.abstract_syntax or ""),
                context.transfer_syntax,
                scu_role=context.scu_role,
                scp_role=context.scp_role,
            )
        self._server: _GuardedServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- life ------------------------------------------------------------------------------

    def start(self, port: int) -> int:
        """Listen on ``settings.address:port`` (0: a free port); returns the port."""
        handlers: list[Any] = [
            (evt.EVT_C_ECHO, self._on_echo),
            (evt.EVT_C_STORE, self._on_store),
            (evt.EVT_C_FIND, self._on_find),
            (evt.EVT_C_GET, self._on_get),
            (evt.EVT_C_MOVE, self._on_move),
            (evt.EVT_REJECTED, self._on_rejected),
            (evt.EVT_ACCEPTED, self._on_accepted),
            (evt.EVT_RELEASED, self._on_end),
            (evt.EVT_ABORTED, self._on_end),
        ]
        try:
            server = cast(
                _GuardedServer,
                self.ae.make_server((self.settings.address, port), evt_handlers=handlers, server_class=_GuardedServer),
            )
        except OSError as exc:
            raise PortUnavailable(
                f"DICOM port {port} on {self.settings.address} is not available ({exc.strerror}) - choose another "
                "with --dicom-port or [dicom] port"
            ) from None
        server.allow, server.refusals = self.allow, self.refusals
        self.ae._servers.append(server)  # as AE.start_server does: shutdown() removes it
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="dicom-node", daemon=True)
        self._thread.start()
        self.port = int(server.server_address[1])
        return self.port

    def stop(self) -> None:
        """Stop listening and end the associations going on."""
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        for assoc in list(self.ae.active_associations):
            assoc.abort()
        if self._thread is not None:
            self._thread.join(5)

    # --- association events ----------------------------------------------------------------

    @staticmethod
    def _peer(assoc: Association) -> tuple[str, str]:
        return str(assoc.requestor.address), str(assoc.requestor.ae_title).strip()

    def _on_rejected(self, event: Any) -> None:
        address, aet = self._peer(event.assoc)
        why = "calling AE title not in allowed_aets" if not self.allow.aet_allowed(aet) else "too many associations"
        self.refusals.refused(address, aet, why)

    def _on_accepted(self, event: Any) -> None:
        """Log, once per sender and SOP class, what was refused for want of a decoder."""
        address, aet = self._peer(event.assoc)
        for context in event.assoc.rejected_contexts:
            if context.result != 0x04:  # 0x03: a SOP class this node does not store (debug only)
                log.debug("DICOM: %s did not get %s (result %s)", aet, context.abstract_syntax, context.result)
                continue
            key = (aet, str(context.abstract_syntax), ",".join(str(t) for t in context.transfer_syntax))
            with self._lock:
                if key in self._refused_contexts or len(self._refused_contexts) > 4096:
                    continue
                self._refused_contexts.add(key)
            log.warning(
                "DICOM: %s at %s offered %s only in %s, which this node cannot decode - refused; ask the sender "
                "to send it uncompressed (Explicit VR Little Endian) or as JPEG, JPEG-LS, JPEG 2000 or RLE",
                aet,
                address,
                UID(str(context.abstract_syntax)).name,
                ", ".join(UID(t).name for t in context.transfer_syntax) or "no transfer syntax",
            )

    def _on_end(self, event: Any) -> None:
        self.receiver.flush()

    # --- services --------------------------------------------------------------------------

    @staticmethod
    def _on_echo(event: Any) -> int:
        return SUCCESS

    def _on_store(self, event: Any) -> int:
        address, aet = self._peer(event.assoc)
        data = event.request.DataSet
        limit = self.settings.max_dataset_mb * 1024 * 1024
        size = data.getbuffer().nbytes
        if size > limit:
            log.warning("DICOM: refused a %d MB dataset from %s (limit %d MB)", size >> 20, aet, limit >> 20)
            return OUT_OF_RESOURCES
        try:
            with data.getbuffer() as view:
                path = self.receiver.stage((_PREAMBLE, encode_file_meta(event.file_meta), view))
        except OSError as exc:
            log.warning(
                "DICOM: could not keep an instance from %s (%s) - free disk space in %s; the sender was told",
                aet,
                exc,
                self.receiver.staging,
            )
            return OUT_OF_RESOURCES
        try:
            header = self.receiver.check(path)
        except Exception as exc:  # noqa: BLE001 - whatever the importer would skip is refused here
            path.unlink(missing_ok=True)
            log.warning(
                "DICOM: refused instance %s from %s at %s: %s: %s",
                event.request.AffectedSOPInstanceUID,
                aet,
                address,
                type(exc).__name__,
                exc,
            )
            return CANNOT_UNDERSTAND
        self.receiver.accept(Staged(path, header, aet))
        return SUCCESS

    def _on_find(self, event: Any) -> Iterator[tuple[int, Dataset | None]]:
        try:
            identifier = event.identifier
            for response in self.query.find(identifier, cancelled=lambda: bool(event.is_cancelled)):
                yield PENDING, response
        except DicomNodeError as exc:
            log.warning("DICOM: C-FIND refused: %s", exc)
            yield IDENTIFIER_MISMATCH, None
            return
        yield SUCCESS, None

    def _files(self, event: Any) -> list[Path] | None:
        try:
            return self.query.files(event.identifier)
        except DicomNodeError as exc:
            log.warning("DICOM: retrieve refused: %s", exc)
            return None

    def _on_get(self, event: Any) -> Iterator[Any]:
        files = self._files(event)
        if files is None:
            yield 0
            return
        yield len(files)
        for path in files:
            if event.is_cancelled:
                yield 0xFE00, None
                return
            yield self._load(path, event.assoc)

    def _on_move(self, event: Any) -> Iterator[Any]:
        destination = str(event.move_destination).strip()
        node = next((n for n in self.settings.node if n.ae_title == destination), None)
        if node is None:
            log.warning(
                "DICOM: C-MOVE to unknown destination %r - add it as a [[dicom.node]] in tasks.toml", destination
            )
            yield None, None
            return
        files = self._files(event)
        yield node.host, node.port, {"contexts": _move_contexts(files or [])}
        yield len(files or [])
        for path in files or []:
            if event.is_cancelled:
                yield 0xFE00, None
                return
            yield self._load(path, _store_association(self.ae, destination))

    def _load(self, path: Path, assoc: Association | None) -> tuple[int, Dataset | None]:
        """A stored file ready to send over ``assoc``: decompressed when the peer did not accept its
        transfer syntax."""
        try:
            ds = pydicom.dcmread(path)
        except Exception as exc:  # noqa: BLE001 - a file gone or broken: that sub-operation fails
            log.warning("DICOM: cannot send %s: %s", path, exc)
            return SUBOP_FAILED, None
        syntax = ds.file_meta.get("TransferSyntaxUID")
        if assoc is not None and syntax is not None and UID(syntax).is_compressed:
            accepted = {
                str(cx.transfer_syntax[0])
                for cx in assoc.accepted_contexts
                if cx.abstract_syntax == ds.SOPClassUID and cx.transfer_syntax
            }
            if accepted and syntax not in accepted:
                try:
                    ds.decompress(generate_instance_uid=False)  # a change of transfer syntax: the same instance
                except Exception as exc:  # noqa: BLE001 - cannot be sent in a syntax the peer takes
                    log.warning("DICOM: cannot decompress %s for the peer: %s", path, exc)
                    return SUBOP_FAILED, None
        return PENDING, ds


def _move_contexts(files: list[Path]) -> list[Any]:
    """The presentation contexts a C-MOVE's store association proposes: each SOP class in each
    syntax of the files, and uncompressed beside the compressed ones (at most 128, DICOM's limit)."""
    from pynetdicom.presentation import build_context

    from .contexts import UNCOMPRESSED

    pairs: dict[tuple[str, str], None] = {}
    for path in files:
        try:
            meta = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID"])
        except Exception:  # noqa: BLE001 - reported when it is sent
            continue
        sop_class = str(meta.get("SOPClassUID") or meta.file_meta.get("MediaStorageSOPClassUID") or "")
        syntax = str(meta.file_meta.get("TransferSyntaxUID") or ExplicitVRLittleEndian)
        pairs[(sop_class, syntax)] = None
        if UID(syntax).is_compressed:
            pairs[(sop_class, "")] = None
        if len(pairs) >= 127:
            break
    return [build_context(sop, [syntax] if syntax else list(UNCOMPRESSED)) for sop, syntax in pairs if sop]


def _store_association(ae: AE, destination: str) -> Association | None:
    """The association pynetdicom opened to a C-MOVE destination (to see what it accepted)."""
    for assoc in ae.active_associations:
        if assoc.is_requestor and assoc.is_established and str(assoc.acceptor.ae_title).strip() == destination:
            return assoc
    return None
