"""SMS_REGION (template parameter SmsRegion): a stack in a region where SNS sends no SMS has its
texts sent by SNS in another region; unset, they go out from the stack's own region."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fincert.adapters.clients import AwsClients
from fincert.settings import Settings
from fincert.wiring import Services
from fincert_local.gateway import recorded_sms

from tests.support import log_safety
from tests.support.in_process import REGION, aws_session

PHONE = "+821099990000"
ELSEWHERE = "ap-northeast-1"


@pytest.fixture
def settings(aws) -> Settings:
    return Settings.from_env()


@pytest.mark.parametrize(("sms_region", "sent_from"), [("", REGION), (ELSEWHERE, ELSEWHERE)])
def test_sms_go_out_from_the_sms_region(aws, settings, sms_region, sent_from):
    log_safety.remember_secret(PHONE)
    services = Services(replace(settings, sms_region=sms_region), clients=AwsClients(session=aws_session()))
    services.sms.send_sms(PHONE, "fincert smoke")
    assert recorded_sms(PHONE, sent_from) == ["fincert smoke"]
    other = ELSEWHERE if sent_from == REGION else REGION
    assert recorded_sms(PHONE, other) == []


def test_settings_read_sms_region():
    required = {
        "TABLE_NAME": "t",
        "ROOT_CA_KEY_ID": "r",
        "ISSUING_CA_KEY_ID": "i",
        "KEY_WRAP_KEY_ID": "w",
        "HMAC_KEY_ID": "h",
        "CONTENT_MAC_KEY_ID": "c",
        "PKI_BASE_URL": "http://pki.example",
        "CERTIFICATE_POLICY_OID": "1.3.6.1.4.1.32473.1.1",
    }
    assert Settings.from_env(required).sms_region == ""
    assert Settings.from_env(required | {"SMS_REGION": ""}).sms_region == ""
    assert Settings.from_env(required | {"SMS_REGION": ELSEWHERE}).sms_region == ELSEWHERE
