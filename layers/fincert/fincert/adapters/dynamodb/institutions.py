"""Institutions (members and their API key hashes), the browser origins they registered, and the CA's own records (its certificates, the delegated OCSP responder)."""

from __future__ import annotations

from fincert.adapters.dynamodb import keys
from fincert.adapters.dynamodb.items import (
    SharedItems,
)
from fincert.adapters.dynamodb.table import (
    as_bytes,
    attribute_values,
    from_iso,
    iso,
)
from fincert.domain.model import (
    CertificateAuthorityRecord,
    Institution,
    OcspResponderRecord,
)
from fincert.errors import ConditionFailed


class InstitutionTable(SharedItems):
    def get_institution(self, institution_id: str) -> Institution | None:
        item = self._get(keys.institution(institution_id), consistent=False)
        if item is None:
            return None
        return Institution(
            institution_id=item["institution_id"],
            name=item["name"],
            api_key_hash=item["api_key_hash"],
            scopes=frozenset(item.get("scopes", ())),
            allowed_origins=tuple(item.get("allowed_origins", ())),
            active=bool(item.get("active", True)),
            hosted_only=bool(item.get("hosted_only", False)),
        )

    def put_institution(self, institution: Institution) -> None:
        """The institution and, for CORS preflights (which carry no credentials), an ORIGIN item
        per browser origin it registered, naming the institutions that use it."""
        item = {
            **keys.institution(institution.institution_id).as_dict(),
            "institution_id": institution.institution_id,
            "name": institution.name,
            "api_key_hash": institution.api_key_hash,
            "scopes": set(institution.scopes) or None,
            "allowed_origins": list(institution.allowed_origins),
            "active": institution.active,
            "hosted_only": institution.hosted_only,
        }
        origins = [
            self._tx_update(
                keys.origin(origin),
                UpdateExpression="ADD institutions :institution",
                ExpressionAttributeValues=attribute_values({":institution": {institution.institution_id}}),
            )
            for origin in dict.fromkeys(institution.allowed_origins)
        ]
        try:
            self._transact([self._put(item), *origins], ["institution"] + ["origin"] * len(origins))
        except ConditionFailed as e:
            raise ConditionFailed(f"institution {institution.institution_id} exists") from e

    def origin_registered(self, origin: str) -> bool:
        return self._get(keys.origin(origin), consistent=False) is not None

    def get_certificate_authority(self) -> CertificateAuthorityRecord | None:
        item = self._get(keys.CERTIFICATE_AUTHORITY)
        if item is None:
            return None
        return CertificateAuthorityRecord(
            root_key_id=item["root_key_id"],
            issuing_key_id=item["issuing_key_id"],
            root_certificate_der=as_bytes(item["root_certificate"]),
            issuing_certificate_der=as_bytes(item["issuing_certificate"]),
            created_at=from_iso(item["created_at"]),
        )

    def put_certificate_authority(self, record: CertificateAuthorityRecord) -> None:
        self._put_new(
            {
                **keys.CERTIFICATE_AUTHORITY.as_dict(),
                "root_key_id": record.root_key_id,
                "issuing_key_id": record.issuing_key_id,
                "root_certificate": record.root_certificate_der,
                "issuing_certificate": record.issuing_certificate_der,
                "created_at": iso(record.created_at),
            }
        )

    def get_ocsp_responder(self) -> OcspResponderRecord | None:
        item = self._get(keys.OCSP_RESPONDER, consistent=False)
        if item is None:
            return None
        return OcspResponderRecord(
            certificate_der=as_bytes(item["certificate"]),
            wrapped_private_key=as_bytes(item["wrapped_private_key"]),
            serial_number=int(item["serial"], 16),
            not_after=from_iso(item["not_after"]),
            created_at=from_iso(item["created_at"]),
        )

    def put_ocsp_responder(self, record: OcspResponderRecord, replaces: int | None) -> None:
        """Raises ConditionFailed when the stored responder is not `replaces` (None: none yet),
        i.e. another renewal won the race; its responder is as good as ours."""
        item = {
            **keys.OCSP_RESPONDER.as_dict(),
            "certificate": record.certificate_der,
            "wrapped_private_key": record.wrapped_private_key,
            "serial": keys.serial_hex(record.serial_number),
            "not_after": iso(record.not_after),
            "created_at": iso(record.created_at),
        }
        if replaces is None:
            self._put_new(item)
        else:
            self._put_if(item, "serial = :previous", {":previous": keys.serial_hex(replaces)})
