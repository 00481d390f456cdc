"""Request and response bodies of the Cloud Signature Consortium API v1 (field names as the CSC
specification spells them). Requests ignore fields they do not know, as CSC clients (pyHanko,
iText, SetaPDF) send optional ones we have no use for (clientData, lang, description)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fincert.api.schema import BaseModel, BeforeValidator, ConfigDict, Field, SkipJsonSchema


def _integral_number(value: Any) -> Any:
    # JSON Schema's integer: any number with a zero fractional part (1.0 is 1). Booleans, strings
    # and fractions are left as they are, for strict validation to refuse.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# A count: a JSON integer (see _integral_number) from 1 to 1000.
JsonCount = Annotated[int, Field(ge=1, le=1000), BeforeValidator(_integral_number)]


class CscRequest(BaseModel):
    """A CSC request body: unknown fields are ignored, but each known field must have the JSON
    type CSC v1.0.4 gives it, or the request is refused (422 validation_failed), never coerced.

    Decided from what clients send (issue 11). The specification types `numSignatures` and
    `maxResults` as Number (a count: an integer), `certInfo` and `authInfo` as Boolean, and
    credentialID, PIN, OTP, SAD, hashAlgo, signAlgo, signAlgoParams, clientData, each `hash` element,
    `certificates` and `lang` as String. pyHanko's CSCSigner (sign/signers/csc_signer.py) sends
    exactly those: numSignatures is a Python int (len() of the hashes or its num_signatures
    argument), certInfo the literal False, everything else str. No field of a CSC request is a
    String that carries a number, so no client needs a string read as a number. Lax parsing used
    to accept `true`, "1" and 1.0 as one signature and "true" or 1 as a Boolean, which hides a
    client's bug in the one call that decides how many signatures a PIN allows. Strict mode
    refuses them. A count written 1.0 is the one exception (JsonCount): JSON has one number
    type, and JSON Schema, which this API's OpenAPI document speaks, calls 1.0 an integer, so a
    client validating against our schema may send it; 1.5 stays refused.
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True, strict=True, defer_build=True)


class CscResponse(BaseModel):
    """A CSC response body. A field that does not apply (a curve for an RSA key, certInfo's
    fields when certInfo was not asked for, the PIN without authInfo) is left out, as the CSC
    specification's optional and conditional fields are, never sent as null: the OpenAPI document
    shows such a field as an optional string (`Absent` below), not a nullable one."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True, omit_none=True)


# An optional response field: left out when None (CscResponse), so not nullable in the schema.
Absent = SkipJsonSchema[None]


class CscErrorResponse(BaseModel):
    """CSC error bodies: `error` is a stable code, `error_description` says what is wrong."""

    model_config = ConfigDict(defer_build=True)

    error: str
    error_description: str


class InfoRequest(CscRequest):
    lang: str | None = Field(default=None, max_length=16)


class InfoResponse(CscResponse):
    specs: str
    name: str
    logo: str
    region: str
    lang: str
    description: str
    authType: list[str]
    methods: list[str]
    # CSC v1 `info` has no field for a time-stamping service; a vendor extension names ours, for
    # clients building PAdES B-T/B-LT/B-LTA signatures (pyHanko's HTTPTimeStamper) around signHash.
    tsa_url: str = Field(
        serialization_alias="x-fincert-tsa-url",
        description="Vendor extension: the RFC 3161 time-stamping service (POST application/timestamp-query with the session token or an institution API key).",
    )


class CredentialsListRequest(CscRequest):
    userID: str | None = Field(default=None, max_length=128)
    maxResults: JsonCount | None = None
    pageToken: str | None = Field(default=None, max_length=256)


class CredentialsListResponse(CscResponse):
    credentialIDs: list[str]


class CredentialsInfoRequest(CscRequest):
    credentialID: str = Field(min_length=1, max_length=64)
    certificates: Literal["none", "single", "chain"] = "single"
    certInfo: bool = False
    authInfo: bool = False


class KeyInfo(CscResponse):
    status: Literal["enabled", "disabled"]
    algo: list[str]
    len: int
    curve: str | Absent = None


class CertInfo(CscResponse):
    status: Literal["valid", "expired", "revoked", "suspended"]
    certificates: list[str] | Absent = None
    issuerDN: str | Absent = None
    serialNumber: str | Absent = None
    subjectDN: str | Absent = None
    validFrom: str | Absent = None
    validTo: str | Absent = None


class PinInfo(CscResponse):
    presence: Literal["true", "false", "optional"]
    format: Literal["A", "N"]
    label: str
    description: str


class CredentialsInfoResponse(CscResponse):
    key: KeyInfo
    cert: CertInfo
    authMode: Literal["implicit", "explicit", "oauth2code"]
    PIN: PinInfo | Absent = None
    multisign: int
    SCAL: Literal["1", "2"]


class AuthorizeRequest(CscRequest):
    credentialID: str = Field(min_length=1, max_length=64)
    numSignatures: JsonCount
    hash: list[str] | None = Field(default=None, min_length=1, max_length=10)
    PIN: str = Field(min_length=1, max_length=16)
    OTP: str | None = Field(default=None, max_length=16)
    description: str | None = Field(default=None, max_length=500)
    clientData: str | None = Field(default=None, max_length=1000)


class AuthorizeResponse(CscResponse):
    SAD: str
    expiresIn: int


class SignHashRequest(CscRequest):
    credentialID: str = Field(min_length=1, max_length=64)
    SAD: str = Field(min_length=1, max_length=256)
    hash: list[str] = Field(min_length=1, max_length=10)
    hashAlgo: str | None = Field(default=None, max_length=64)
    signAlgo: str = Field(min_length=1, max_length=64)
    signAlgoParams: str | None = Field(default=None, max_length=512)
    clientData: str | None = Field(default=None, max_length=1000)


class SignHashResponse(CscResponse):
    signatures: list[str]
