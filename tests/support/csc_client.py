"""A CSC v1 client as a third party writes it: pyHanko's CSCSigner with a PIN-typing authorization
manager, signing a PDF through the local stack (tests/e2e: PAdES and plain CSC signing)."""

from __future__ import annotations

from io import BytesIO

import aiohttp
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.signers.csc_signer import (
    CSCAuthorizationInfo,
    CSCAuthorizationManager,
    CSCCredentialInfo,
    CSCServiceSessionInfo,
    CSCSigner,
    fetch_certs_in_csc_credential,
)

from tests.support.customers import Customer


class PinAuthorization(CSCAuthorizationManager):
    """What a CSC client does when the user types the PIN: credentials/authorize for exactly the
    hashes about to be signed (the SAD is bound to them)."""

    def __init__(
        self,
        session_info: CSCServiceSessionInfo,
        credential_info: CSCCredentialInfo,
        http: aiohttp.ClientSession,
        pin: str,
    ):
        super().__init__(session_info, credential_info)
        self.http = http
        self.pin = pin
        self.authorized: list[list[str]] = []

    async def authorize_signature(self, hash_b64s: list[str]) -> CSCAuthorizationInfo:
        self.authorized.append(list(hash_b64s))
        async with self.http.post(
            self.csc_session_info.endpoint_url("credentials/authorize"),
            json=self.format_csc_auth_request(pin=self.pin, hash_b64s=hash_b64s),
            headers=self.auth_headers,
            raise_for_status=True,
        ) as response:
            return self.parse_csc_auth_response(await response.json())


def blank_pdf() -> bytes:
    writer = PdfFileWriter()
    contents = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 12 Tf 72 720 Td ET"))
    writer.insert_page(PageObject(contents=contents, media_box=(0, 0, 595, 842)))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


async def sign_with_csc(customer: Customer, pdf: bytes, prefer_pss: bool) -> tuple[bytes, PinAuthorization]:
    session_info = CSCServiceSessionInfo(
        service_url=customer.stack.url,
        credential_id=customer.credential_id,
        oauth_token=customer.token,
    )
    async with aiohttp.ClientSession() as http:
        credential_info = await fetch_certs_in_csc_credential(http, session_info)
        authorization = PinAuthorization(session_info, credential_info, http, customer.pin)
        signer = CSCSigner(http, authorization, prefer_pss=prefer_pss)
        out = await signers.async_sign_pdf(
            IncrementalPdfFileWriter(BytesIO(pdf)),
            signers.PdfSignatureMetadata(field_name="Signature1", md_algorithm="sha256"),
            signer=signer,
        )
        return out.getvalue(), authorization
