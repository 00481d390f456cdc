"""OCSP request limits, shared by the PKI handler (which refuses oversized requests before
parsing) and fincert.crypto.ocsp: a module with no imports, so the handler's cold start does not
pay for the OCSP code to know them."""

# RFC 6960 puts no limit on a request; one SHA-256 CertID, a 32-byte nonce and an optional
# signature with a certificate fit comfortably. The HTTP layer refuses bigger bodies (and GET
# paths) before parsing, as malformedRequest.
MAX_REQUEST_SIZE = 4096
# RFC 8954 2.1: a nonce is 1 to 32 octets.
MAX_NONCE_SIZE = 32
# A GET request's path segment: the base64 of at most MAX_REQUEST_SIZE octets, URL-encoded
# (RFC 6960 A.1), each character at most 3 once percent-encoded.
MAX_GET_REQUEST_CHARS = 3 * (4 * MAX_REQUEST_SIZE // 3 + 4)
