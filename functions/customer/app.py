"""What a connected customer does, with their session token (from the bank's back end or straight
from their browser): register the certificate with this institution, change the PIN, manage
devices, read their usage history, end the session."""

import base64
from typing import Annotated

from fincert.api.app import create_app, lambda_handler, principal, refuse_unknown_query_parameters
from fincert.api.history_query import (
    HISTORY_QUERY_PARAMETERS,
    ContentSha256Filter,
    HistoryCursor,
    HistoryLimit,
    content_digest,
)
from fincert.api.models import (
    ERROR_RESPONSES,
    PIN_ERROR_RESPONSES,
    DeviceListResponse,
    DeviceRegisteredResponse,
    DeviceRegisterRequest,
    DeviceResponse,
    HistoryPageResponse,
    PinChangeRequest,
    PinRequest,
)
from fincert.api.routing import Path, Response
from fincert.api.security import CUSTOMER
from fincert.errors import InvalidRequest
from fincert.wiring import services

app = create_app()


@app.post(
    "/v1/registrations",
    security=CUSTOMER,
    summary="Register the customer's certificate with this institution (타기관 등록); takes the PIN",
    description="타기관 등록: makes the customer's certificate usable at the session's institution. Takes the PIN (one attempt).",
    responses={204: {"description": "Registered"}, **PIN_ERROR_RESPONSES},
    tags=["customer"],
)
def register_institution(request: PinRequest) -> Response[None]:
    services().accounts.register_institution(principal(app), request.pin)
    return Response(204)


@app.put(
    "/v1/pin",
    security=CUSTOMER,
    summary="Change the PIN (current PIN + new PIN); the customer is notified by SMS",
    description="The current PIN (one attempt) and a new one that meets the PIN policy. The customer is texted.",
    responses={204: {"description": "Changed"}, **PIN_ERROR_RESPONSES},
    tags=["pin"],
)
def change_pin(request: PinChangeRequest) -> Response[None]:
    services().accounts.change_pin(principal(app), request.pin, request.new_pin)
    return Response(204)


@app.post(
    "/v1/devices",
    security=CUSTOMER,
    summary="Register this device's P-256 public key (at most 5 devices)",
    description="Registers a device's P-256 public key (base64 DER SubjectPublicKeyInfo) for later connections without SMS; at most 5 per customer. Returns the `device_handle` the device keeps.",
    responses={201: {"description": "Registered"}, **ERROR_RESPONSES},
    tags=["devices"],
)
def register_device(request: DeviceRegisterRequest) -> Response[DeviceRegisteredResponse]:
    try:
        public_key = base64.b64decode(request.public_key, validate=True)
    except ValueError:
        raise InvalidRequest("public_key must be base64", code="device_key_invalid") from None
    device, handle = services().devices.register_device(principal(app), request.name, public_key)
    body = DeviceRegisteredResponse(**DeviceResponse.of(device).model_dump(), device_handle=handle)
    return Response(201, body=body, content_type="application/json")


@app.get(
    "/v1/devices",
    security=CUSTOMER,
    summary="The customer's devices",
    description="The customer's registered devices, with when each was added and last used to connect.",
    responses={200: {"description": "The devices"}, **ERROR_RESPONSES},
    tags=["devices"],
)
def list_devices() -> DeviceListResponse:
    return DeviceListResponse(
        devices=[DeviceResponse.of(d) for d in services().devices.list_devices(principal(app))]
    )


@app.delete(
    "/v1/devices/<device_id>",
    security=CUSTOMER,
    summary="Remove a device",
    description="Removes one of the customer's devices; its key can be registered again afterwards.",
    responses={204: {"description": "Removed"}, **ERROR_RESPONSES},
    tags=["devices"],
)
def remove_device(
    device_id: Annotated[str, Path(min_length=8, max_length=64, pattern=r"^dev_[A-Za-z0-9_-]+$")],
) -> Response[None]:
    services().devices.remove_device(principal(app), device_id)
    return Response(204)


@app.get(
    "/v1/history",
    security=CUSTOMER,
    summary="The customer's usage history, newest first",
    description="What happened at this institution with the customer's certificate (issuance, connections, authorizations, signatures, devices, registrations, PIN and status changes), newest first. A page may hold fewer than `limit` entries: follow `next_cursor` until it is null.",
    responses={200: {"description": "One page of the history"}, **ERROR_RESPONSES},
    tags=["customer"],
)
def list_history(
    limit: HistoryLimit = 20,
    cursor: HistoryCursor = None,
    content_sha256: ContentSha256Filter = None,
) -> HistoryPageResponse:
    refuse_unknown_query_parameters(app, HISTORY_QUERY_PARAMETERS)
    page = services().accounts.list_history(principal(app), limit, cursor, content_digest(content_sha256))
    return HistoryPageResponse.of(page)


@app.delete(
    "/v1/sessions/current",
    security=CUSTOMER,
    summary="End this session (the token stops working at once)",
    description="Ends the session: its token stops working at once (the authorizer does not cache).",
    responses={204: {"description": "Ended"}, **ERROR_RESPONSES},
    tags=["customer"],
)
def end_session() -> Response[None]:
    services().accounts.end_session(principal(app))
    return Response(204)


handler = lambda_handler(app)
