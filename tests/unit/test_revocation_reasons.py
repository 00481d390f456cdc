"""The reason a status change records (RFC 5280 5.3.1): what a subscriber may state, and what
each action implies. The API schema refuses other reasons first (422); the domain refuses them
too, for callers that do not come through the schema."""

import pytest
from fincert.domain.status_changes import revocation_reason
from fincert.domain.status_records import StatusAction
from fincert.errors import InvalidRequest


def test_a_revocation_defaults_to_unspecified_and_keeps_a_subscriber_reason():
    assert revocation_reason(StatusAction.REVOKE, None) == "unspecified"
    assert revocation_reason(StatusAction.REVOKE, "keyCompromise") == "keyCompromise"


@pytest.mark.parametrize(
    "reason", ["certificateHold", "removeFromCRL", "cACompromise", "aACompromise", "nonsense"]
)
def test_reasons_that_are_not_the_subscribers_to_state_are_refused(reason):
    with pytest.raises(InvalidRequest) as refused:
        revocation_reason(StatusAction.REVOKE, reason)
    assert refused.value.code == "reason_invalid"


def test_a_suspension_is_certificate_hold_and_a_restore_has_no_reason():
    assert revocation_reason(StatusAction.SUSPEND, None) == "certificateHold"
    assert revocation_reason(StatusAction.RESTORE, None) is None
    for action in (StatusAction.SUSPEND, StatusAction.RESTORE):
        with pytest.raises(InvalidRequest) as refused:
            revocation_reason(action, "keyCompromise")
        assert refused.value.code == "reason_not_applicable"
