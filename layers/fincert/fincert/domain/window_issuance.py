"""The issue window's one step: issue the certificate of the ticket's enrollment (docs/hosted-window.md).

Apart from fincert.domain.window so that only the function serving this step imports the
issuance code (key generation, the X.509 profile, the CA's signature)."""

from __future__ import annotations

from fincert.domain.enrollment import EnrollmentService, IssuedCertificate
from fincert.domain.institution_records import Principal
from fincert.domain.ticket_records import TicketPurpose
from fincert.domain.window import WindowService, for_institution


class WindowIssuance:
    def __init__(self, *, window: WindowService, enrollment: EnrollmentService):
        self._window = window
        self._enrollment = enrollment

    def issue(
        self, principal: Principal, sms_code: str, pin: str, *, terms_accepted: bool, auto_renew: bool
    ) -> IssuedCertificate:
        ticket = self._window.open_for(principal, purpose=TicketPurpose.ISSUE)
        issued = self._enrollment.confirm(
            for_institution(ticket),
            ticket.enrollment_id or "",
            sms_code,
            pin,
            terms_accepted=terms_accepted,
            auto_renew=auto_renew,
        )
        credential = issued.credential
        self._window.complete(
            ticket,
            {
                "credential_id": credential.credential_id,
                "serial_number": format(credential.serial_number, "x"),
            },
            account_id=credential.account_id,
        )
        return issued
