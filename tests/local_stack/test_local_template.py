"""fincert_local.template: reading template.yaml, the one source of routes, authorizer and resources."""

import json
import textwrap

import pytest
from fincert_local.template import (
    Route,
    api_routes,
    api_stage,
    authorizer,
    functions,
    gateway_responses,
    load_template,
    pseudo_parameters,
    resolve,
)


@pytest.fixture(scope="module")
def template():
    return load_template()


def test_short_tags_become_long_forms(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            A: !Ref Table
            B: !GetAtt Db.Endpoint.Address
            C: !GetAtt [Key, Arn]
            D: !Sub "${AWS::Region}-x"
            E: !Sub ["${A}-y", {A: !Ref P}]
            F: !Join [",", [a, !Ref P]]
            G: !If [Cond, !Equals [a, b], !Not [!Condition Other]]
            H: !Select [0, !Split [",", "a,b"]]
            I: !FindInMap [M, K, V]
            J: !ImportValue Exported
            K: !GetAZs ""
            M: !Base64 abc
            L: !And [!Or [x, y], z]
            """
        )
    )
    t = load_template(path)
    assert t["A"] == {"Ref": "Table"}
    assert t["B"] == {"Fn::GetAtt": ["Db", "Endpoint.Address"]}
    assert t["C"] == {"Fn::GetAtt": ["Key", "Arn"]}
    assert t["D"] == {"Fn::Sub": "${AWS::Region}-x"}
    assert t["E"] == {"Fn::Sub": ["${A}-y", {"A": {"Ref": "P"}}]}
    assert t["F"] == {"Fn::Join": [",", ["a", {"Ref": "P"}]]}
    assert t["G"] == {"Fn::If": ["Cond", {"Fn::Equals": ["a", "b"]}, {"Fn::Not": [{"Condition": "Other"}]}]}
    assert t["H"] == {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}
    assert t["I"] == {"Fn::FindInMap": ["M", "K", "V"]}
    assert t["J"] == {"Fn::ImportValue": "Exported"}
    assert t["K"] == {"Fn::GetAZs": ""}
    assert t["M"] == {"Fn::Base64": "abc"}
    assert t["L"] == {"Fn::And": [{"Fn::Or": ["x", "y"]}, "z"]}


def test_routes_of_the_real_template(template):
    routes = api_routes(template)
    assert Route("EnrollmentFunction", "POST", "/v1/enrollments", True) in routes
    assert Route("EnrollmentFunction", "POST", "/v1/enrollments/{enrollment_id}/confirm", True) in routes
    assert Route("PkiFunction", "GET", "/pki/chain.pem", False) in routes
    assert api_stage(template) == "live"


def test_authorizer_of_the_real_template(template):
    spec = authorizer(template)
    assert spec.function_id == "AuthorizerFunction"
    assert spec.identity_headers == ["Authorization"]
    assert spec.function_id in functions(template)


def test_gateway_responses_of_the_real_template(template):
    responses = gateway_responses(template)
    assert responses["UNAUTHORIZED"].status == 401
    assert responses["ACCESS_DENIED"].status == 403
    assert json.loads(responses["UNAUTHORIZED"].body)["error"]["code"] == "unauthorized"
    assert json.loads(responses["ACCESS_DENIED"].body)["error"]["code"] == "forbidden"


def test_function_specs_fall_back_to_globals(template):
    specs = functions(template)
    globals_ = template["Globals"]["Function"]
    enrollment = specs["EnrollmentFunction"]
    assert (enrollment.code_uri, enrollment.handler) == ("functions/enrollment/", "app.handler")
    assert enrollment.memory_size == globals_["MemorySize"]
    assert enrollment.timeout == globals_["Timeout"]
    assert specs["AuthorizerFunction"].timeout == 5  # its own value wins


def test_resolve_intrinsics():
    refs = {"Table": "t-1"}
    attrs = {("Key", "Arn"): "arn:aws:kms:r:1:key/k"}
    names = {**pseudo_parameters("ap-northeast-2", "111122223333"), "Stage": "v1"}
    assert resolve({"Ref": "Table"}, refs, attrs, names) == "t-1"
    assert resolve({"Ref": "Stage"}, refs, attrs, names) == "v1"
    assert resolve({"Fn::GetAtt": ["Key", "Arn"]}, refs, attrs, names) == "arn:aws:kms:r:1:key/k"
    assert resolve({"Fn::GetAtt": "Key.Arn"}, refs, attrs, names) == "arn:aws:kms:r:1:key/k"
    sub = {"Fn::Sub": "arn:${AWS::Partition}:x:${AWS::Region}:${AWS::AccountId}:${Table}/${Key.Arn}/${!Lit}"}
    assert (
        resolve(sub, refs, attrs, names)
        == "arn:aws:x:ap-northeast-2:111122223333:t-1/arn:aws:kms:r:1:key/k/${Lit}"
    )
    assert resolve({"Fn::Sub": ["${A}.${Stage}", {"A": {"Ref": "Table"}}]}, refs, attrs, names) == "t-1.v1"
    assert resolve({"Fn::Join": ["-", ["a", {"Ref": "Table"}]]}, refs, attrs, names) == "a-t-1"
    assert resolve({"Nested": [{"Ref": "Table"}]}, refs, attrs, names) == {"Nested": ["t-1"]}


def test_resolve_refuses_what_it_cannot_evaluate():
    with pytest.raises(KeyError, match="Missing"):
        resolve({"Ref": "Missing"}, {}, {}, {})
    with pytest.raises(NotImplementedError, match="Fn::If"):
        resolve({"Fn::If": ["C", "a", "b"]}, {}, {}, {})
