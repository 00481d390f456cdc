// Types for fincert.js v1 (a plain script: it defines the global `FinCert`).
// Reference it with: /// <reference path="fincert.d.ts" />

declare namespace FinCert {
  /** Stable codes of FinCertError; other service error codes may pass through as strings. */
  type ErrorCode =
    | "popup_blocked"
    | "user_cancelled"
    | "ticket_invalid"
    | "ticket_used"
    | "ticket_expired"
    | "origin_mismatch"
    | "pin_locked"
    | "window_closed"
    | "window_purpose_mismatch"
    | "network_error"
    | (string & {});

  interface FinCertError extends Error {
    readonly name: "FinCertError";
    readonly code: ErrorCode;
    /** For `ticket_invalid` raised because the ticket Promise rejected: its reason. */
    readonly cause?: unknown;
  }

  interface FinCertErrorConstructor {
    new (code: ErrorCode, message?: string): FinCertError;
    (code: ErrorCode, message?: string): FinCertError;
    readonly prototype: FinCertError;
  }

  interface Options {
    /** The service's base URL, e.g. "https://fincert.example". Default: where fincert.js was loaded from. */
    service?: string;
    /** The UI ticket your back end minted (POST /v1/ui-tickets), or a Promise of it. */
    ticket: string | PromiseLike<string>;
    /** The window's language: Korean by default. */
    lang?: "ko" | "en";
  }

  interface IssueResult {
    credential_id: string;
    serial_number: string;
    certificate_pem: string;
  }

  interface ConnectResult {
    /** One-time code: your back end exchanges it (POST /v1/ui-tickets/{ticket_id}/session). */
    code: string;
    ticket_id: string;
  }

  type SignatureFormat = "cms_attached" | "cms_detached" | "raw";

  interface FormatSignature {
    format: SignatureFormat;
    /** Base64: DER CMS SignedData, or the raw signature. */
    signature: string;
  }

  interface ContentSignatures {
    /** Lowercase hex SHA-256 of the content (of its UTF-8 bytes for text). */
    content_sha256: string;
    /** One per format, in the order of `formats`. */
    signatures: FormatSignature[];
  }

  interface SignResult {
    /** One per content, in the order the ticket listed them. */
    contents: ContentSignatures[];
    formats: SignatureFormat[];
    certificate_pem: string;
  }

  type ManageResult = Record<string, never>;

  const version: string;
  const FinCertError: FinCertErrorConstructor;

  /** Issue a certificate for an enrollment your back end started. */
  function issue(options: Options): Promise<IssueResult>;
  /** Connect the customer's cloud certificate to your site. */
  function connect(options: Options): Promise<ConnectResult>;
  /** Sign exactly the contents the ticket names, with one PIN. */
  function sign(options: Options): Promise<SignResult>;
  /** Let the customer manage their certificate (PIN, devices, history, suspension). */
  function manage(options: Options): Promise<ManageResult>;
}

interface Window {
  FinCert: typeof FinCert;
}
