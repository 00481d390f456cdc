"""Institutions (members and their API key hashes), the browser origins they registered, and the CA's own records (its certificates, the delegated OCSP responder)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from fincert.adapters.dynamodb import keys
from fincert.adapters.dynamodb.items import (
    SharedItems,
    to_institution,
)
from fincert.adapters.dynamodb.table import (
    as_bytes,
    attribute_values,
    from_iso,
    iso,
)
from fincert.domain.ca_records import CertificateAuthorityRecord, OcspResponderRecord
from fincert.domain.institution_records import Institution
from fincert.errors import ConditionFailed


class InstitutionTable(SharedItems):
    def get_institution(self, institution_id: str, *, consistent: bool = False) -> Institution | None:
        item = self._get(keys.institution(institution_id), consistent=consistent)
        return to_institution(item) if item else None

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
        # The directory entry lets the operator list institutions with one Query, not a Scan.
        listed = {**keys.institution_listing(institution.institution_id).as_dict()}
        origins = [
            self._tx_update(
                keys.origin(origin),
                UpdateExpression="ADD institutions :institution",
                ExpressionAttributeValues=attribute_values({":institution": {institution.institution_id}}),
            )
            for origin in dict.fromkeys(institution.allowed_origins)
        ]
        try:
            self._transact(
                [self._put(item), self._put(listed, new=False), *origins],
                ["institution", "listing"] + ["origin"] * len(origins),
            )
        except ConditionFailed as e:
            raise ConditionFailed(f"institution {institution.institution_id} exists") from e

    def institutions_of_origin(self, origin: str) -> list[Institution]:
        registered = self._get(keys.origin(origin), consistent=False)
        # An item left without institutions (its last one removed, the delete not yet done) is none.
        ids = sorted((registered or {}).get("institutions") or ())
        if not ids:
            return []
        # Strongly consistent, like the authorizer's read: a deactivation counts from the next request.
        # Every institution is read (an origin is one bank's site, so it is one chunk in practice):
        # stopping at BatchGetItem's 100 would refuse an origin whose active institution sorts later.
        found: list[Institution] = []
        for start in range(0, len(ids), 100):
            chunk = [keys.institution(institution_id) for institution_id in ids[start : start + 100]]
            found += [to_institution(item) for item in self._batch_get(chunk, consistent=True) if item]
        return found

    # --- the operator's management (fincert.domain.institutions) -------------------------------
    def list_institutions(self) -> list[Institution]:
        listed = self._query_all(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=attribute_values({":pk": keys.INSTITUTION_LISTING_PK}),
        )
        found: list[Institution] = []
        ids = [keys.institution_id_of_listing(item["sk"]) for item in listed]
        for start in range(0, len(ids), 100):  # BatchGetItem's limit
            chunk = [keys.institution(institution_id) for institution_id in ids[start : start + 100]]
            found += [to_institution(item) for item in self._batch_get(chunk, consistent=True) if item]
        return sorted(found, key=lambda institution: institution.institution_id)

    def _listed(self, institution_id: str) -> dict[str, Any]:
        """A transaction item writing the institution's listing entry: every change to an
        institution writes it, so one registered before the listing existed appears in
        list-institutions after any operator command on it."""
        return self._put(keys.institution_listing(institution_id).as_dict(), new=False)

    def _update_institution(self, institution_id: str, update: str, values: dict[str, Any]) -> Institution:
        """One conditional update of an existing institution, with its listing entry;
        ConditionFailed when there is none. Returns it as now stored (operator commands only)."""
        self._transact(
            [
                self._tx_update(
                    keys.institution(institution_id),
                    UpdateExpression=update,
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues=attribute_values(values),
                ),
                self._listed(institution_id),
            ],
            ["institution", "listing"],
        )
        item = self._get(keys.institution(institution_id))
        if item is None:  # deleted in between: no operator command deletes one
            raise ConditionFailed(f"institution {institution_id} is gone")
        return to_institution(item)

    def rotate_api_key(
        self, institution_id: str, new_hash: str, previous_valid_until: datetime | None
    ) -> Institution:
        """The new hash replaces the current one, which becomes the previous key until
        `previous_valid_until`; a key rotated out before that is dropped. None: no previous key
        at all (removed, not valid until a time some clock chose)."""
        if previous_valid_until is None:
            return self._update_institution(
                institution_id,
                "SET api_key_hash = :new REMOVE previous_api_key_hash, previous_key_valid_until",
                {":new": new_hash},
            )
        return self._update_institution(
            institution_id,
            "SET previous_api_key_hash = api_key_hash, api_key_hash = :new, previous_key_valid_until = :until",
            {":new": new_hash, ":until": iso(previous_valid_until)},
        )

    def set_institution_active(self, institution_id: str, active: bool) -> Institution:
        return self._update_institution(institution_id, "SET active = :active", {":active": active})

    def add_institution_origin(self, institution_id: str, origin: str) -> None:
        """Appends the origin to the institution's list and names the institution on the origin's
        item (CORS preflights), in one transaction; ConditionFailed("institution") when there is no
        such institution or it has the origin already."""
        self._transact(
            [
                self._tx_update(
                    keys.institution(institution_id),
                    UpdateExpression="SET allowed_origins = list_append(allowed_origins, :one)",
                    ConditionExpression="attribute_exists(pk) AND NOT contains(allowed_origins, :origin)",
                    ExpressionAttributeValues=attribute_values({":one": [origin], ":origin": origin}),
                ),
                self._tx_update(
                    keys.origin(origin),
                    UpdateExpression="ADD institutions :institution",
                    ExpressionAttributeValues=attribute_values({":institution": {institution_id}}),
                ),
                self._listed(institution_id),
            ],
            ["institution", "origin", "listing"],
        )

    def remove_institution_origin(self, institution_id: str, origins: tuple[str, ...], origin: str) -> None:
        """Removes the origin at its index in `origins` (the list as read: the condition fails if
        it changed meanwhile) and the institution from the origin's item; the origin's item goes
        when no institution uses it any more."""
        index = origins.index(origin)
        self._transact(
            [
                self._tx_update(
                    keys.institution(institution_id),
                    UpdateExpression=f"REMOVE allowed_origins[{index}]",
                    ConditionExpression=f"allowed_origins[{index}] = :origin",
                    ExpressionAttributeValues=attribute_values({":origin": origin}),
                ),
                self._tx_update(
                    keys.origin(origin),
                    UpdateExpression="DELETE institutions :institution",
                    ExpressionAttributeValues=attribute_values({":institution": {institution_id}}),
                ),
                self._listed(institution_id),
            ],
            ["institution", "origin", "listing"],
        )
        with contextlib.suppress(ConditionFailed):  # another institution still uses it
            self._delete_if(keys.origin(origin), "attribute_not_exists(institutions)")

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
