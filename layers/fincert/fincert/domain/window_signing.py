"""The sign window's one step: sign exactly the ticket's contents (docs/hosted-window.md).

Apart from fincert.domain.window so that only the function serving this step imports the
signing code (CMS, the time-stamp token, the OCSP answer)."""

from __future__ import annotations

import base64
from dataclasses import replace

from fincert.domain.institution_records import Principal
from fincert.domain.sign_requests import RawEvidence, SignatureFormat, SignedContents, SignType
from fincert.domain.signing import SigningService
from fincert.domain.ticket_records import TicketPurpose
from fincert.domain.ui_tickets import sign_contents
from fincert.domain.window import WindowService, not_connected


class WindowSigning:
    def __init__(self, *, window: WindowService, signing: SigningService):
        self._window = window
        self._signing = signing

    def sign(self, principal: Principal, pin: str) -> SignedContents:
        """Signs exactly the ticket's contents, in its formats, for one PIN entry; the bank's back
        end then reads the signatures from the ticket's outcome, not from its page."""
        ticket = self._window.open_for(principal, purpose=TicketPurpose.SIGN)
        if ticket.account_id is None or ticket.sign is None:
            raise not_connected()
        order = ticket.sign
        signed = self._signing.sign_contents(
            replace(principal, account_id=ticket.account_id),
            sign_contents(order),
            SignType(order.sign_type),
            [SignatureFormat(f) for f in order.formats],
            pin,
        )
        self._window.complete(
            ticket,
            {
                "credential_id": signed.credential.credential_id,
                "sign_type": signed.sign_type.value,
                "sign_type_code": signed.sign_type.code,
                "contents": [
                    {
                        "content_sha256": content.sha256.hex(),
                        "signatures": [
                            _signature_outcome(
                                f.value, value, content.raw_evidence if f.value == "raw" else None
                            )
                            for f, value in content.signatures.items()
                        ],
                    }
                    for content in signed.contents
                ],
            },
        )
        return signed


def _signature_outcome(
    signature_format: str, value: bytes, evidence: RawEvidence | None
) -> dict[str, object]:
    """One signature as the bank reads it from the ticket, as POST /v1/signatures answers it: a raw
    signature's time-stamp token and OCSP answer beside it (a CMS carries them inside)."""

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return {
        "format": signature_format,
        "signature": b64(value),
        "timestamp_token": b64(evidence.timestamp_token) if evidence else None,
        "ocsp_response": b64(evidence.ocsp_response) if evidence else None,
    }
