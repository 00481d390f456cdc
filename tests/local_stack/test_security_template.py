"""What IAM and KMS enforce, read from template.yaml (docs/security.md points here): which
functions can unwrap a subscriber key, sign with a CA key, unwrap the OCSP responder key or use
the HMAC key, and that every key-wrap permission is bound to an encryption-context purpose."""

from __future__ import annotations

from fincert_local.template import load_template, resources_of_type

TEMPLATE = load_template()
FUNCTIONS = resources_of_type(TEMPLATE, "AWS::Serverless::Function")


def _statements(function_id: str) -> list[dict]:
    statements = []
    for policy in FUNCTIONS[function_id]["Properties"].get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            statements += policy["Statement"]
    return statements


def _actions(statement: dict) -> list[str]:
    actions = statement["Action"]
    return actions if isinstance(actions, list) else [actions]


def _on_key(statement: dict, key_id: str) -> bool:
    resources = statement.get("Resource")
    return {"Fn::GetAtt": [key_id, "Arn"]} in (resources if isinstance(resources, list) else [resources])


def _allowed(action: str, key_id: str, purpose: str | None = None) -> set[str]:
    """The functions allowed `action` on `key_id` (for `purpose`, when given)."""
    allowed = set()
    for function_id in FUNCTIONS:
        for statement in _statements(function_id):
            if statement["Effect"] != "Allow" or action not in _actions(statement):
                continue
            if not _on_key(statement, key_id):
                continue
            if purpose is not None:
                purposes = statement["Condition"]["StringEquals"]["kms:EncryptionContext:purpose"]
                if purpose not in (purposes if isinstance(purposes, list) else [purposes]):
                    continue
            allowed.add(function_id)
    return allowed


def test_only_the_signing_functions_can_unwrap_a_subscriber_key():
    assert _allowed("kms:Decrypt", "SubscriberKeyWrapKey", "subscriber-key") == {
        "CscFunction",
        "SigningFunction",
        "WindowSigningFunction",
    }


def test_only_issuance_renewal_the_window_and_the_pki_functions_sign_with_the_issuing_ca():
    assert _allowed("kms:Sign", "IssuingCaKey") == {
        "EnrollmentFunction",
        "WindowIssuanceFunction",
        "RenewalWorkerFunction",
        "PkiFunction",
        "OcspResponderFunction",
    }
    assert _allowed("kms:Sign", "RootCaKey") == {"PkiFunction"}, "the root signs only its CRL"


def test_only_the_ocsp_signers_unwrap_the_ocsp_responder_key():
    """The PKI function answers OCSP; the signing functions (the bank API's and the window's) put
    the OCSP answer at signing time into every signature's evidence (docs/architecture.md: an exposure accepted
    instead of giving them Sign on the issuing CA's key). No other function may unwrap it."""
    assert _allowed("kms:Decrypt", "SubscriberKeyWrapKey", "ocsp-responder") == {
        "PkiFunction",
        "SigningFunction",
        "WindowSigningFunction",
    }


def test_every_key_wrap_permission_names_its_purposes():
    for function_id in FUNCTIONS:
        for statement in _statements(function_id):
            if _on_key(statement, "SubscriberKeyWrapKey"):
                assert "kms:EncryptionContext:purpose" in statement["Condition"]["StringEquals"], function_id
            assert not [a for a in _actions(statement) if a in ("kms:*", "*")], function_id


def test_the_authorizer_reads_the_table_and_nothing_else():
    policies = FUNCTIONS["AuthorizerFunction"]["Properties"]["Policies"]
    assert [p for p in policies if isinstance(p, dict) and "Ref" not in p] == [
        {"DynamoDBReadPolicy": {"TableName": {"Ref": "FincertTable"}}}
    ]


def test_only_the_identity_flows_can_compute_identity_macs():
    """GenerateMac on the identity key computes blind indexes of a guessed name, phone and birth
    date; the signing functions only verify PINs with it (VerifyMac)."""
    assert _allowed("kms:GenerateMac", "IdentityHmacKey") == {
        "EnrollmentFunction",
        "ConnectionFunction",
        "CustomerFunction",
        "StatusFunction",
        "WindowFunction",
        "WindowIssuanceFunction",
        "WindowCustomerFunction",
    }
    assert {"CscFunction", "SigningFunction", "WindowSigningFunction"} <= _allowed(
        "kms:VerifyMac", "IdentityHmacKey"
    )


def test_signed_contents_are_keyed_with_their_own_key():
    assert _allowed("kms:GenerateMac", "ContentMacKey") == {
        "CscFunction",
        "SigningFunction",
        "WindowSigningFunction",
        "WindowCustomerFunction",
        "CustomerFunction",
    }
    assert TEMPLATE["Resources"]["ContentMacKey"]["Properties"]["KeySpec"] == "HMAC_256"
    assert TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["CONTENT_MAC_KEY_ID"] == {
        "Ref": "ContentMacKey"
    }
