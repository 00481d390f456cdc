/* The fincert-cloud window: served from the service's origin, opened by fincert.js on a bank's page.
 *
 * What it holds, and where:
 * - the UI ticket arrives by postMessage from the opener and is sent once, in a request body, to
 *   redeem it; the window credential it returns, the SMS codes and the PIN live in this script's
 *   memory and leave it only in request bodies (and the Authorization header) to this origin;
 * - nothing secret goes to a URL, a cookie, localStorage, sessionStorage or the console;
 * - IndexedDB keeps, per remembered customer, a non-extractable P-256 private key, a display label
 *   and the device handle (not a secret: the key's signature is what proves the device).
 * Results go to the opener by postMessage, to the ticket's exact origin only.
 */
(function () {
  "use strict";

  // --- language ------------------------------------------------------------------------------

  var STRINGS = {
    ko: {
      title: "금융인증서",
      loading: "불러오는 중…",
      requested_by: "요청한 곳: {origin}",
      no_opener: "이 창은 은행 또는 기관의 화면에서 열어야 합니다. 창을 닫고 다시 시도하세요.",
      cancel: "취소",
      close: "닫기",
      next: "다음",
      back: "뒤로",
      retry: "다시 시도",
      done: "완료",
      // connect
      connect_title: "금융인증서 연결",
      connect_intro: "이름, 휴대폰 번호, 생년월일을 입력하면 인증번호를 문자로 보냅니다.",
      name: "이름",
      phone: "휴대폰 번호",
      phone_hint: "예: 010-1234-5678",
      birth_date: "생년월일 (8자리)",
      birth_hint: "예: 19900101",
      remember: "이 브라우저 기억하기 (다음부터 이름·전화번호 없이 연결)",
      send_code: "인증번호 받기",
      sms_title: "문자 인증",
      sms_intro: "휴대폰으로 받은 6자리 인증번호를 입력하세요.",
      sms_code: "인증번호 (6자리)",
      confirm: "확인",
      pick_title: "기억된 사용자",
      pick_intro: "이 브라우저에 기억된 사용자를 고르세요.",
      pick_user: "{label} · 이 인증서로 연결",
      forget_user: "{label}: 이 브라우저에서 지우기",
      other_user: "다른 정보로 연결",
      connecting: "연결하는 중…",
      device_gone: "이 브라우저의 기기 등록이 해제되어 지웠습니다. 이름과 전화번호로 연결하세요.",
      // remember
      remember_title: "이 브라우저 기억하기",
      remembering: "이 브라우저를 기기로 등록하는 중…",
      remembered: "이 브라우저를 기억했습니다. 등록 알림 문자가 발송됩니다.",
      remember_unavailable: "이 브라우저는 기기로 등록할 수 없습니다. 계속 진행합니다.",
      device_limit_title: "등록 기기 한도 (5대)",
      device_limit_intro: "기기는 5대까지 등록됩니다. 이 브라우저를 등록하려면 기기 하나를 삭제하세요.",
      skip_remember: "기억하지 않고 계속",
      // issue
      issue_title: "금융인증서 발급",
      terms_title: "이용약관",
      terms_text:
        "1. 금융인증서는 발급일로부터 3년간 유효합니다.\n" +
        "2. 인증서의 개인키는 금융인증서 서비스가 암호화하여 보관하며 외부로 내보내지 않습니다.\n" +
        "3. 인증서는 6자리 PIN으로 사용하며, PIN을 5회 연속 틀리면 잠깁니다. 잠긴 PIN은 거래 기관의 본인 확인 후 재설정할 수 있습니다.\n" +
        "4. 1년간 사용하지 않으면 인증서와 개인정보가 삭제됩니다(30일 전 문자 안내).\n" +
        "5. 기기는 5대까지 등록할 수 있습니다.\n" +
        "6. 한 사람에게 하나의 금융인증서만 발급되며, 다시 발급하면 이전 인증서는 폐기됩니다.",
      terms_accept: "이용약관에 동의합니다 (필수)",
      auto_renew: "만료 전에 자동으로 갱신합니다",
      issue_sms_intro: "은행이 보낸 문자의 6자리 인증번호를 입력하세요.",
      new_pin_title: "PIN 설정",
      new_pin: "새 PIN 6자리",
      new_pin_again: "새 PIN 한 번 더",
      pin_mismatch: "두 번 입력한 PIN이 다릅니다. 다시 설정하세요.",
      issuing: "인증서를 발급하는 중…",
      issued: "금융인증서가 발급되었습니다.",
      issued_label: "내 인증서 ({serial})",
      device_label: "내 인증서 ({date} 기억)",
      this_browser: "이 브라우저",
      format_cms_attached: "CMS 서명 (내용 포함)",
      format_cms_detached: "CMS 서명 (내용 별도)",
      format_raw: "전자서명 값 (PKCS#1)",
      must_accept_terms: "약관에 동의해야 발급할 수 있습니다.",
      // sign
      sign_title: "전자서명",
      sign_type: "서명 종류",
      sign_format: "서명 형식",
      contents_count: "서명할 내용 {n}건",
      content_n: "내용 {i}",
      binary_not_shown: "이진 파일: 화면에 표시되지 않습니다",
      file_name: "파일 이름",
      size: "크기",
      bytes: "{n}바이트",
      sha256: "SHA-256",
      pin: "인증서 PIN 6자리",
      sign: "서명하기",
      signing: "서명하는 중…",
      signed: "서명했습니다.",
      content_mismatch: "표시할 내용이 서명할 내용과 다릅니다. 서명하지 않습니다.",
      // manage
      manage_title: "인증서 관리",
      manage_intro: "원하는 작업을 고르세요.",
      change_pin: "PIN 변경",
      current_pin: "현재 PIN 6자리",
      pin_changed: "PIN을 변경했습니다.",
      devices: "등록 기기",
      no_devices: "등록된 기기가 없습니다.",
      remove: "삭제",
      remove_device: "{name} 삭제",
      device_removed: "기기를 삭제했습니다.",
      registered_on: "등록 {date}",
      remember_this: "이 브라우저 기억하기",
      history: "이용 내역",
      no_history: "이용 내역이 없습니다.",
      more: "더 보기",
      suspend: "인증서 효력정지",
      suspend_intro: "효력을 정지하면 인증서로 서명할 수 없습니다. 효력회복은 거래 기관에서 본인 확인 후 할 수 있습니다.",
      suspend_confirm: "효력정지",
      suspended: "인증서 효력을 정지했습니다.",
      revoke: "인증서 폐기",
      revoke_intro: "폐기한 인증서는 다시 쓸 수 없고, 되돌릴 수 없습니다. 다시 서명하려면 거래 기관에서 새로 발급받아야 합니다.",
      revoke_reason: "폐기 사유",
      reason_unspecified: "사유를 밝히지 않음",
      reason_key_compromise: "PIN이나 인증서가 유출된 것 같음",
      revoke_understand: "폐기는 되돌릴 수 없다는 것을 이해했습니다.",
      revoke_must_confirm: "폐기하려면 확인란을 선택하세요.",
      revoke_pin_intro: "PIN을 입력하면 인증서가 바로 폐기됩니다.",
      revoke_confirm: "폐기",
      revoked: "인증서를 폐기했습니다.",
      not_available: "이 기능은 아직 제공되지 않습니다.",
      reverify_note: "PIN을 잊었거나 효력을 회복하려면 거래 기관에서 본인 확인을 받아야 합니다.",
      // manage: certificate, re-verification, registration
      subject: "명의",
      serial: "일련번호",
      status: "상태",
      status_valid: "유효",
      status_suspended: "효력정지",
      status_expired: "만료",
      status_revoked: "폐기",
      valid_until: "유효기간 만료",
      auto_renew_short: "자동 갱신",
      yes: "예",
      no: "아니요",
      pin_reset: "PIN 재설정 (잊었거나 잠긴 PIN)",
      pin_reset_intro: "본인 확인 후 새 PIN을 설정합니다. 이름, 휴대폰 번호, 생년월일을 입력하세요.",
      pin_was_reset: "새 PIN을 설정했습니다. PIN 잠금이 풀렸습니다.",
      restore: "효력회복 (본인 확인)",
      restore_intro: "본인 확인 후 정지된 인증서의 효력을 회복합니다. 이름, 휴대폰 번호, 생년월일을 입력하세요.",
      restored: "인증서 효력을 회복했습니다.",
      register_title: "이 기관에 인증서 등록",
      register_intro: "{institution}에서 이 인증서를 처음 사용합니다. 등록하려면 인증서 PIN을 입력하세요 (타기관 등록).",
      register: "등록",
      registered: "이 기관에 인증서를 등록했습니다. 이제 서명하세요.",
      err_credential_not_suspended: "효력정지 상태의 인증서가 아닙니다.",
      err_hosted_only_institution: "이 기관에서는 인증서 창에서만 할 수 있습니다.",
      // PIN pad
      pin_entered: "6자리 중 {n}자리 입력",
      pin_backspace: "한 자리 지우기",
      pin_clear: "모두 지우기",
      pin_pad: "PIN 입력 키패드",
      pin_locked_title: "PIN 잠김",
      pin_locked:
        "PIN을 5회 연속 잘못 입력하여 잠겼습니다. 거래 기관에서 본인 확인 후 PIN을 재설정하세요.",
      pin_locked_manage: "PIN을 5회 연속 잘못 입력하여 잠겼습니다. 본인 확인 후 새 PIN을 설정하면 잠금이 풀립니다.",
      // errors
      err_required: "입력하세요.",
      err_generic: "처리하지 못했습니다. 잠시 후 다시 시도하세요.",
      err_network: "서비스에 연결할 수 없습니다. 네트워크를 확인하세요.",
      err_pin_format: "PIN은 숫자 6자리입니다.",
      err_pin_invalid: "PIN이 틀렸습니다. 남은 횟수: {remaining}회",
      err_pin_attempt_in_flight: "앞서 입력한 PIN을 확인하는 중입니다. 잠시 후 다시 입력하세요.",
      err_pin_repeated_digits: "같은 숫자를 반복한 PIN은 쓸 수 없습니다.",
      err_pin_sequential: "연속된 숫자로 된 PIN은 쓸 수 없습니다.",
      err_pin_birth_date: "생년월일로 된 PIN은 쓸 수 없습니다.",
      err_pin_phone_number: "휴대폰 번호가 들어간 PIN은 쓸 수 없습니다.",
      err_sms_code_invalid: "인증번호가 틀렸습니다. 남은 횟수: {remaining}회",
      err_sms_code_format: "인증번호는 숫자 6자리입니다.",
      err_phone_invalid: "휴대폰 번호를 확인하세요 (010으로 시작하는 번호).",
      err_birth_date_invalid: "생년월일 8자리를 확인하세요 (예: 19900101).",
      err_name_invalid: "이름을 확인하세요.",
      err_name_too_long: "이름이 너무 깁니다.",
      err_sms_rate_limited: "문자를 너무 자주 요청했습니다. 잠시 후 다시 시도하세요.",
      err_certificate_not_found: "이 정보로 발급된 금융인증서가 없습니다.",
      err_verification_expired: "인증번호의 유효시간이 지났습니다. 다시 요청하세요.",
      err_verification_locked: "인증번호를 너무 많이 틀렸습니다. 다시 요청하세요.",
      err_enrollment_expired: "발급 신청의 유효시간이 지났습니다. 은행 화면에서 다시 시작하세요.",
      err_enrollment_locked: "인증번호를 너무 많이 틀렸습니다. 은행 화면에서 다시 시작하세요.",
      err_device_signature_invalid: "이 브라우저의 기기 확인에 실패했습니다.",
      err_device_already_registered: "이 브라우저는 이미 등록되어 있습니다.",
      err_institution_not_registered: "이 기관에 등록되지 않은 인증서입니다. 기관에서 타기관 인증서 등록을 먼저 하세요.",
      err_credential_not_active: "효력이 정지되었거나 사용할 수 없는 인증서입니다.",
      err_ticket_expired: "요청의 유효시간이 지났습니다. 처음부터 다시 시도하세요.",
      err_window_closed: "이미 끝난 요청입니다.",
    },
    en: {
      title: "Financial Certificate",
      loading: "Loading…",
      requested_by: "Requested by: {origin}",
      no_opener: "Open this window from your bank's page. Close it and try again.",
      cancel: "Cancel",
      close: "Close",
      next: "Next",
      back: "Back",
      retry: "Try again",
      done: "Done",
      connect_title: "Connect your certificate",
      connect_intro: "Enter your name, mobile number and birth date; we will text you a code.",
      name: "Name",
      phone: "Mobile number",
      phone_hint: "e.g. 010-1234-5678",
      birth_date: "Birth date (8 digits)",
      birth_hint: "e.g. 19900101",
      remember: "Remember this browser (connect without name and number next time)",
      send_code: "Text me a code",
      sms_title: "Text message code",
      sms_intro: "Enter the 6-digit code we texted you.",
      sms_code: "Code (6 digits)",
      confirm: "Confirm",
      pick_title: "Remembered customers",
      pick_intro: "Choose who you are: these customers are remembered in this browser.",
      pick_user: "{label} · connect with this certificate",
      forget_user: "{label}: forget in this browser",
      other_user: "Connect with other details",
      connecting: "Connecting…",
      device_gone: "This browser is no longer a registered device, so it was forgotten. Connect with your details.",
      remember_title: "Remember this browser",
      remembering: "Registering this browser as a device…",
      remembered: "This browser is remembered. You will get a text about it.",
      remember_unavailable: "This browser cannot be registered as a device. Continuing.",
      device_limit_title: "Device limit (5)",
      device_limit_intro: "At most 5 devices. Remove one to remember this browser.",
      skip_remember: "Continue without remembering",
      issue_title: "Issue a financial certificate",
      terms_title: "Terms of use",
      terms_text:
        "1. A financial certificate is valid for 3 years from issuance.\n" +
        "2. The service keeps the certificate's private key encrypted and never exports it.\n" +
        "3. You use it with a 6-digit PIN; 5 wrong PINs in a row lock it. Your institution can reset a locked PIN after verifying you.\n" +
        "4. After one year without use, the certificate and your personal data are deleted (you get a text 30 days before).\n" +
        "5. Up to 5 devices can be registered.\n" +
        "6. One financial certificate per person: issuing again revokes the previous one.",
      terms_accept: "I accept the terms of use (required)",
      auto_renew: "Renew automatically before it expires",
      issue_sms_intro: "Enter the 6-digit code from the text your bank sent.",
      new_pin_title: "Set your PIN",
      new_pin: "New 6-digit PIN",
      new_pin_again: "New PIN again",
      pin_mismatch: "The two PINs differ. Set it again.",
      issuing: "Issuing your certificate…",
      issued: "Your financial certificate is issued.",
      issued_label: "My certificate ({serial})",
      device_label: "My certificate (remembered {date})",
      this_browser: "this browser",
      format_cms_attached: "CMS signature (content included)",
      format_cms_detached: "CMS signature (content separate)",
      format_raw: "Raw signature (PKCS#1)",
      must_accept_terms: "You must accept the terms to get a certificate.",
      sign_title: "Electronic signature",
      sign_type: "Kind of signature",
      sign_format: "Signature format",
      contents_count: "{n} item(s) to sign",
      content_n: "Item {i}",
      binary_not_shown: "Binary file: not displayed",
      file_name: "File name",
      size: "Size",
      bytes: "{n} bytes",
      sha256: "SHA-256",
      pin: "Certificate PIN (6 digits)",
      sign: "Sign",
      signing: "Signing…",
      signed: "Signed.",
      content_mismatch: "What would be shown differs from what would be signed. Nothing is signed.",
      manage_title: "Manage your certificate",
      manage_intro: "Choose what to do.",
      change_pin: "Change PIN",
      current_pin: "Current 6-digit PIN",
      pin_changed: "Your PIN is changed.",
      devices: "Registered devices",
      no_devices: "No registered devices.",
      remove: "Remove",
      remove_device: "Remove {name}",
      device_removed: "The device is removed.",
      registered_on: "registered {date}",
      remember_this: "Remember this browser",
      history: "Usage history",
      no_history: "No usage yet.",
      more: "More",
      suspend: "Suspend the certificate",
      suspend_intro: "A suspended certificate signs nothing. Your institution can restore it after verifying you.",
      suspend_confirm: "Suspend",
      suspended: "The certificate is suspended.",
      revoke: "Revoke the certificate",
      revoke_intro: "A revoked certificate can never be used again; this cannot be undone. To sign again, get a new one from your institution.",
      revoke_reason: "Reason",
      reason_unspecified: "No reason given",
      reason_key_compromise: "My PIN or certificate may have been exposed",
      revoke_understand: "I understand that revoking cannot be undone.",
      revoke_must_confirm: "Tick the box to confirm.",
      revoke_pin_intro: "Entering your PIN revokes the certificate at once.",
      revoke_confirm: "Revoke",
      revoked: "The certificate is revoked.",
      not_available: "Not available yet.",
      reverify_note: "A forgotten PIN or a restore needs your institution to verify you again.",
      subject: "Name",
      serial: "Serial number",
      status: "Status",
      status_valid: "Valid",
      status_suspended: "Suspended",
      status_expired: "Expired",
      status_revoked: "Revoked",
      valid_until: "Valid until",
      auto_renew_short: "Auto-renew",
      yes: "Yes",
      no: "No",
      pin_reset: "Reset a forgotten or locked PIN",
      pin_reset_intro: "Verify yourself again, then set a new PIN. Enter your name, mobile number and birth date.",
      pin_was_reset: "Your new PIN is set and the PIN is unlocked.",
      restore: "Restore a suspended certificate",
      restore_intro: "Verify yourself again to restore your suspended certificate. Enter your name, mobile number and birth date.",
      restored: "The certificate is restored.",
      register_title: "Register the certificate here",
      register_intro: "This is the first use of your certificate at {institution}. Enter its PIN to register it here.",
      register: "Register",
      registered: "The certificate is registered here. Now sign.",
      err_credential_not_suspended: "The certificate is not suspended.",
      err_hosted_only_institution: "This institution takes this only in the certificate window.",
      pin_entered: "{n} of 6 digits entered",
      pin_backspace: "Delete one digit",
      pin_clear: "Clear",
      pin_pad: "PIN keypad",
      pin_locked_title: "PIN locked",
      pin_locked: "5 wrong PINs in a row locked your PIN. Ask your institution to verify you and reset it.",
      pin_locked_manage: "5 wrong PINs in a row locked your PIN. Verify yourself again and set a new PIN to unlock it.",
      err_required: "Required.",
      err_generic: "Something went wrong. Try again shortly.",
      err_network: "The service cannot be reached. Check your connection.",
      err_pin_format: "The PIN is 6 digits.",
      err_pin_invalid: "Wrong PIN. Attempts left: {remaining}",
      err_pin_attempt_in_flight: "PINs entered before are still being checked. Enter the PIN again in a moment.",
      err_pin_repeated_digits: "A PIN of repeated digits is not allowed.",
      err_pin_sequential: "A PIN of consecutive digits is not allowed.",
      err_pin_birth_date: "A PIN made of your birth date is not allowed.",
      err_pin_phone_number: "A PIN from your mobile number is not allowed.",
      err_sms_code_invalid: "Wrong code. Attempts left: {remaining}",
      err_sms_code_format: "The code is 6 digits.",
      err_phone_invalid: "Check the mobile number (it starts with 010).",
      err_birth_date_invalid: "Check the 8-digit birth date (e.g. 19900101).",
      err_name_invalid: "Check the name.",
      err_name_too_long: "The name is too long.",
      err_sms_rate_limited: "Too many texts requested. Try again later.",
      err_certificate_not_found: "No financial certificate was issued for these details.",
      err_verification_expired: "The code expired. Ask for a new one.",
      err_verification_locked: "Too many wrong codes. Ask for a new one.",
      err_enrollment_expired: "The request expired. Start again from your bank's page.",
      err_enrollment_locked: "Too many wrong codes. Start again from your bank's page.",
      err_device_signature_invalid: "This browser could not prove it is the registered device.",
      err_device_already_registered: "This browser is already registered.",
      err_institution_not_registered: "This certificate is not registered with this institution yet.",
      err_credential_not_active: "The certificate is suspended or cannot be used.",
      err_ticket_expired: "The request expired. Start again.",
      err_window_closed: "This request has already ended.",
    },
  };

  var SIGN_TYPES = {
    "01": { ko: "로그인", en: "Login" },
    "02": { ko: "이체", en: "Transfer" },
    "03": { ko: "상품 가입", en: "Product sign-up" },
    "04": { ko: "계약", en: "Contract" },
    "05": { ko: "결제", en: "Payment" },
    "06": { ko: "인증서 발급", en: "Certificate issuance" },
    "07": { ko: "자산 연결", en: "Asset linking" },
    "08": { ko: "인증수단 관리", en: "Authenticator management" },
    "99": { ko: "기타", en: "Other" },
  };

  var HISTORY_EVENTS = {
    issued: { ko: "발급", en: "Issued" },
    connected: { ko: "연결", en: "Connected" },
    connection_failed: { ko: "연결 실패", en: "Connection failed" },
    verification_failed: { ko: "본인확인 실패", en: "Verification failed" },
    authorized: { ko: "서명 승인", en: "Authorized" },
    authorization_failed: { ko: "서명 승인 실패", en: "Authorization failed" },
    signed: { ko: "서명", en: "Signed" },
    device_registered: { ko: "기기 등록", en: "Device registered" },
    device_removed: { ko: "기기 삭제", en: "Device removed" },
    institution_registered: { ko: "기관 등록", en: "Institution registered" },
    pin_changed: { ko: "PIN 변경", en: "PIN changed" },
    pin_reset: { ko: "PIN 재설정", en: "PIN reset" },
    status_changed: { ko: "상태 변경", en: "Status changed" },
  };

  var query = new URLSearchParams(window.location.search);
  var lang = query.get("lang") === "en" ? "en" : "ko";

  function t(key, vars) {
    var text = STRINGS[lang][key];
    if (text === undefined) text = STRINGS.ko[key] !== undefined ? STRINGS.ko[key] : key;
    if (vars) {
      Object.keys(vars).forEach(function (name) {
        text = text.split("{" + name + "}").join(String(vars[name]));
      });
    }
    return text;
  }

  // --- state: memory only --------------------------------------------------------------------

  // The API's base path: the window is at <base>/hosted/v1/window.html (base is "" on a custom
  // domain, "/<stage>" on an execute-api URL).
  var API_BASE = window.location.pathname.replace(/\/hosted\/v1\/window\.html$/, "");
  var FATAL = {
    ticket_invalid: true,
    ticket_used: true,
    ticket_expired: true,
    origin_mismatch: true,
    window_closed: true,
    window_purpose_mismatch: true,
    window_not_connected: true,
    enrollment_expired: true,
    enrollment_locked: true,
    enrollment_closed: true,
    enrollment_not_found: true,
  };
  var state = {
    token: null, // the window credential
    flow: null,
    openerOrigin: null, // who sent the ticket (the service checked it against the ticket)
    ticketSeen: false,
    resultPosted: false, // the bank has its answer (the window may still offer to remember it)
    ended: false,
  };

  // --- DOM helpers (no innerHTML: every text is a text node) -----------------------------------

  var app = document.getElementById("app");
  var uid = 0;

  function nextId(prefix) {
    uid += 1;
    return prefix + "-" + uid;
  }

  function h(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        var value = attrs[name];
        if (value === undefined || value === null || value === false) return;
        if (name === "text") node.textContent = value;
        else if (name === "onclick") node.addEventListener("click", value);
        else if (name === "onsubmit") node.addEventListener("submit", value);
        else if (value === true) node.setAttribute(name, "");
        else node.setAttribute(name, String(value));
      });
    }
    for (var i = 2; i < arguments.length; i += 1) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      if (Array.isArray(child)) {
        child.forEach(function (c) {
          if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
        });
      } else {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    }
    return node;
  }

  function screen(name, title) {
    var heading = h("h1", { id: nextId("title"), tabindex: "-1", text: title });
    var section = h("section", { class: "screen", "data-screen": name, "aria-labelledby": heading.id }, heading);
    app.replaceChildren(section);
    app.setAttribute("aria-busy", "false");
    return section;
  }

  function focusFirst(section) {
    var target = section.querySelector("[data-autofocus]") ||
      section.querySelector("input:not([type=hidden]):not([disabled]), .pin-display") ||
      section.querySelector("h1");
    if (target) target.focus();
  }

  function busy(text) {
    var section = screen("busy", text);
    section.appendChild(h("p", { class: "spinner", "aria-hidden": "true" }));
    app.setAttribute("aria-busy", "true");
    section.querySelector("h1").focus();
  }

  function alertBox() {
    return h("p", { class: "error", role: "alert", id: nextId("alert") });
  }

  function showAlert(box, text) {
    box.textContent = text || "";
    box.hidden = !text;
  }

  function field(opts) {
    // A labelled input with its hint and error, linked by aria-describedby.
    var id = nextId("f");
    var hint = opts.hint ? h("p", { class: "hint", id: id + "-hint", text: opts.hint }) : null;
    var error = h("p", { class: "field-error", id: id + "-error", hidden: true });
    var input = h("input", {
      id: id,
      name: opts.name,
      type: opts.type || "text",
      inputmode: opts.inputmode,
      autocomplete: opts.autocomplete || "off",
      maxlength: opts.maxlength,
      required: true,
      spellcheck: "false",
      "aria-describedby": (hint ? id + "-hint " : "") + id + "-error",
    });
    var wrapper = h("div", { class: "field" }, h("label", { for: id, text: opts.label }), input, hint, error);
    return {
      node: wrapper,
      input: input,
      setError: function (text) {
        error.textContent = text || "";
        error.hidden = !text;
        if (text) input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
      },
    };
  }

  function checkbox(label, checked, name) {
    var id = nextId("c");
    var input = h("input", { id: id, type: "checkbox", name: name, checked: !!checked });
    return { node: h("div", { class: "check" }, input, h("label", { for: id, text: label })), input: input };
  }

  function buttonRow() {
    return h.apply(null, ["div", { class: "actions" }].concat(Array.prototype.slice.call(arguments)));
  }

  function cancelButton() {
    return h("button", { type: "button", class: "secondary", onclick: cancel, text: t("cancel") });
  }

  // --- PIN pad ------------------------------------------------------------------------------

  // Six digits kept in this closure only. Digits come from the pad's buttons or the keyboard
  // (0-9, Backspace, Escape to clear, Enter to submit).
  function pinPad(label, onSubmit) {
    var digits = [];
    var labelId = nextId("pin-label");
    var countId = nextId("pin-count");
    var boxes = [];
    for (var i = 0; i < 6; i += 1) boxes.push(h("span", { class: "pin-box", "aria-hidden": "true" }));
    var display = h(
      "div",
      {
        class: "pin-display",
        tabindex: "0",
        role: "textbox",
        "aria-labelledby": labelId,
        "aria-describedby": countId,
        "aria-readonly": "true",
        "data-autofocus": true,
      },
      boxes
    );
    var count = h("p", { class: "pin-count", id: countId, "aria-live": "polite" });

    function update() {
      boxes.forEach(function (box, index) {
        box.classList.toggle("filled", index < digits.length);
      });
      count.textContent = t("pin_entered", { n: digits.length });
    }

    function press(digit) {
      if (digits.length < 6) digits.push(digit);
      update();
    }

    var keys = h("div", { class: "pin-keys", role: "group", "aria-label": t("pin_pad") });
    ["1", "2", "3", "4", "5", "6", "7", "8", "9"].forEach(function (d) {
      keys.appendChild(
        h("button", { type: "button", class: "key", "data-digit": d, onclick: function () { press(d); }, text: d })
      );
    });
    keys.appendChild(
      h("button", {
        type: "button",
        class: "key small",
        "aria-label": t("pin_clear"),
        onclick: function () { digits.length = 0; update(); },
        text: "C",
      })
    );
    keys.appendChild(
      h("button", { type: "button", class: "key", "data-digit": "0", onclick: function () { press("0"); }, text: "0" })
    );
    keys.appendChild(
      h("button", {
        type: "button",
        class: "key small",
        "aria-label": t("pin_backspace"),
        onclick: function () { digits.pop(); update(); },
        text: "←",
      })
    );

    var root = h("div", { class: "pinpad" }, h("p", { class: "label", id: labelId, text: label }), display, count, keys);
    root.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      if (/^[0-9]$/.test(event.key)) {
        event.preventDefault();
        press(event.key);
      } else if (event.key === "Backspace") {
        event.preventDefault();
        digits.pop();
        update();
      } else if (event.key === "Escape") {
        event.preventDefault();
        digits.length = 0;
        update();
      } else if (event.key === "Enter" && event.target === display) {
        event.preventDefault();
        onSubmit();
      }
    });
    update();
    return {
      node: root,
      display: display,
      complete: function () { return digits.length === 6; },
      // Takes the PIN out of the pad: the pad is empty afterwards.
      take: function () {
        var pin = digits.join("");
        digits.length = 0;
        update();
        return pin;
      },
      clear: function () { digits.length = 0; update(); },
      focus: function () { display.focus(); },
    };
  }

  // --- talking to the service ----------------------------------------------------------------

  function ApiError(status, code, message, details) {
    this.status = status;
    this.code = code;
    this.message = message || code;
    this.details = details || {};
  }

  function api(method, path, body) {
    var headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (state.token) headers.Authorization = "Bearer " + state.token;
    return fetch(API_BASE + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      redirect: "error",
    }).then(
      function (response) {
        return response.text().then(function (text) {
          var data = null;
          try {
            data = text ? JSON.parse(text) : null;
          } catch (ignored) {
            data = null;
          }
          if (response.ok) return data;
          var error = (data && data.error) || {};
          var code = typeof error.code === "string" ? error.code : "http_" + response.status;
          // The authorizer's 401 for a window credential: its flow ended or its 10 minutes ran out.
          if (response.status === 401 && state.token && code === "unauthorized") code = "window_closed";
          throw new ApiError(response.status, code, error.message, error.details);
        });
      },
      function () {
        throw new ApiError(0, "network_error", "network error");
      }
    );
  }

  function errorText(error) {
    if (!error || !error.code) return t("err_generic");
    if (error.code === "network_error") return t("err_network");
    var key = "err_" + error.code;
    if (STRINGS.ko[key] === undefined) return t("err_generic");
    var remaining = error.details && error.details.remaining_attempts;
    return t(key, { remaining: remaining === undefined ? "?" : remaining });
  }

  // --- talking to the opener ------------------------------------------------------------------

  function post(message) {
    var target = state.flow ? state.flow.origin : state.openerOrigin;
    if (!target || !window.opener) return;
    try {
      window.opener.postMessage(message, target); // exact origin: another origin gets nothing
    } catch (ignored) {
      /* the opener went away */
    }
  }

  function closeSoon(delay) {
    // Let the posted message reach the opener before the window disappears.
    window.setTimeout(function () { window.close(); }, delay || 800);
  }

  function finish(result) {
    if (state.ended) return;
    state.ended = true;
    if (!state.resultPosted) post({ type: "fincert:result", purpose: state.flow.purpose, result: result });
    state.token = null;
    closeSoon();
  }

  function fail(code, message, keepOpen) {
    if (!state.ended) {
      state.ended = true;
      if (!state.resultPosted) post({ type: "fincert:error", code: code, message: message || code });
      state.token = null;
    }
    if (!keepOpen) closeSoon();
  }

  function fatal(error) {
    var section = screen("error", t("title"));
    section.appendChild(h("p", { class: "error", role: "alert", text: errorText(error) }));
    section.appendChild(buttonRow(h("button", { type: "button", onclick: function () { window.close(); }, text: t("close") })));
    fail(error.code, error.message, true);
    focusFirst(section);
    closeSoon(1500); // long enough to read why
  }

  function cancel() {
    if (!state.ended && state.token) {
      api("POST", "/v1/window/cancel", {}).catch(function () {});
    }
    fail("user_cancelled", "the customer cancelled");
  }

  // Closing the window ends the flow: the bank's back end then reads `cancelled`.
  window.addEventListener("pagehide", function () {
    if (state.ended || state.resultPosted || !state.token) return;
    state.ended = true;
    try {
      fetch(API_BASE + "/v1/window/cancel", {
        method: "POST",
        headers: { Authorization: "Bearer " + state.token, "Content-Type": "application/json" },
        body: "{}",
        keepalive: true,
        credentials: "omit",
      }).catch(function () {});
    } catch (ignored) {
      /* nothing to do while the page goes away */
    }
  });

  // Errors that end the flow go to the opener; the rest are shown where they happened.
  function handled(error) {
    if (error && FATAL[error.code]) {
      fatal(error);
      return true;
    }
    if (error && error.code === "pin_locked") {
      showLocked();
      return true;
    }
    return false;
  }

  function showLocked() {
    var section = screen("locked", t("pin_locked_title"));
    if (state.flow && state.flow.purpose === "manage") {
      // The manage window can lift the lock itself: re-verification, then a new PIN.
      section.appendChild(h("p", { class: "error", role: "alert", text: t("pin_locked_manage") }));
      section.appendChild(
        buttonRow(
          h("button", { type: "button", "data-action": "pin-reset", onclick: function () { reverify("pin-reset", null); }, text: t("pin_reset") }),
          backToMenu()
        )
      );
      focusFirst(section);
      section.querySelector("button").focus();
      return;
    }
    section.appendChild(h("p", { class: "error", role: "alert", text: t("pin_locked") }));
    section.appendChild(buttonRow(h("button", { type: "button", onclick: function () { window.close(); }, text: t("close") })));
    fail("pin_locked", "the PIN is locked", true);
    focusFirst(section);
  }

  // --- bytes ---------------------------------------------------------------------------------

  function toBase64(buffer) {
    var bytes = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < bytes.length; i += 1) text += String.fromCharCode(bytes[i]);
    return btoa(text);
  }

  function fromBase64(text) {
    var raw = atob(text);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return (b + 256).toString(16).slice(1);
    }).join("");
  }

  // --- this browser as a device: IndexedDB ---------------------------------------------------

  var DB_NAME = "fincert";
  var DB_STORE = "devices"; // {device_handle, label, key (non-extractable CryptoKey)}

  function openDb() {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) {
        reject(new Error("no IndexedDB"));
        return;
      }
      var request = window.indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(DB_STORE, { keyPath: "device_handle" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function dbRun(mode, action) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(DB_STORE, mode);
        var request = action(tx.objectStore(DB_STORE));
        tx.oncomplete = function () { db.close(); resolve(request.result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
        tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function rememberedCustomers() {
    return dbRun("readonly", function (store) { return store.getAll(); }).catch(function () { return []; });
  }

  function saveCustomer(record) {
    return dbRun("readwrite", function (store) { return store.put(record); });
  }

  function forgetCustomer(handle) {
    return dbRun("readwrite", function (store) { return store.delete(handle); }).catch(function () {});
  }

  function canRemember() {
    return !!(window.crypto && window.crypto.subtle && window.indexedDB);
  }

  function deviceName() {
    var ua = navigator.userAgent;
    var browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrom(e|ium)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
    var os = /Windows/.test(ua) ? "Windows" : /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS X/.test(ua) ? "macOS" : /Linux/.test(ua) ? "Linux" : "";
    return (lang === "ko" ? "웹 브라우저 " : "Web browser ") + "(" + browser + (os ? ", " + os : "") + ")";
  }

  function maskedName(name) {
    var chars = Array.from(name.replace(/\s+/g, ""));
    if (chars.length <= 1) return chars.join("") + "*";
    if (chars.length === 2) return chars[0] + "*";
    return chars[0] + chars.slice(1, -1).map(function () { return "*"; }).join("") + chars[chars.length - 1];
  }

  // Registers this browser: a new non-extractable P-256 key; the service gets its public half.
  // Resolves once done or skipped (it never blocks the flow the customer came for).
  function rememberBrowser(label) {
    if (!canRemember()) {
      return notice(t("remember_title"), t("remember_unavailable"));
    }
    busy(t("remembering"));
    var keyPair;
    return window.crypto.subtle
      .generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])
      .then(function (pair) {
        keyPair = pair;
        return window.crypto.subtle.exportKey("spki", pair.publicKey);
      })
      .then(function (spki) {
        return registerDevice(label, keyPair.privateKey, toBase64(spki));
      });
  }

  function registerDevice(label, privateKey, publicKey) {
    return api("POST", "/v1/window/devices", { name: deviceName(), public_key: publicKey }).then(
      function (device) {
        return saveCustomer({ device_handle: device.device_handle, label: label, key: privateKey }).then(
          function () { return notice(t("remember_title"), t("remembered")); },
          function () { return notice(t("remember_title"), t("remember_unavailable")); }
        );
      },
      function (error) {
        if (handled(error)) return new Promise(function () {});
        if (error.code === "device_limit_reached") {
          return deviceLimit().then(function (retry) {
            return retry ? registerDevice(label, privateKey, publicKey) : undefined;
          });
        }
        return notice(t("remember_title"), errorText(error));
      }
    );
  }

  // A short message with one button; resolves when the customer goes on.
  function notice(title, text) {
    return new Promise(function (resolve) {
      var section = screen("notice", title);
      section.appendChild(h("p", { role: "status", text: text }));
      var button = h("button", { type: "button", "data-autofocus": true, onclick: function () { resolve(); }, text: t("next") });
      section.appendChild(buttonRow(button));
      focusFirst(section);
    });
  }

  // The 5-device limit: the list to remove one from. Resolves true to retry, false to skip.
  function deviceLimit() {
    return new Promise(function (resolve) {
      var section = screen("device-limit", t("device_limit_title"));
      section.appendChild(h("p", { text: t("device_limit_intro") }));
      var box = alertBox();
      showAlert(box, "");
      section.appendChild(box);
      var list = h("ul", { class: "devices" });
      section.appendChild(list);
      section.appendChild(
        buttonRow(h("button", { type: "button", class: "secondary", onclick: function () { resolve(false); }, text: t("skip_remember") }))
      );
      fillDevices(list, box, function () { resolve(true); });
      focusFirst(section);
    });
  }

  function formatDate(value) {
    if (!value) return "";
    var date = new Date(value);
    if (isNaN(date.getTime())) return String(value);
    return date.toLocaleString(lang === "ko" ? "ko-KR" : "en-GB", { dateStyle: "medium", timeStyle: "short" });
  }

  // Lists the customer's devices in `list`, each with a remove button; `onRemoved` after one goes.
  function fillDevices(list, box, onRemoved) {
    var mine = {};
    return rememberedCustomers()
      .then(function (customers) {
        // A device handle is fcd.<account>.<device_id>: the ones this browser holds keys for.
        customers.forEach(function (c) { mine[String(c.device_handle).split(".").pop()] = c.device_handle; });
        return api("GET", "/v1/window/devices");
      })
      .then(
      function (answer) {
        var devices = (answer && answer.devices) || [];
        list.replaceChildren();
        if (!devices.length) list.appendChild(h("li", { text: t("no_devices") }));
        devices.forEach(function (device) {
          var remove = h("button", {
            type: "button",
            class: "secondary small",
            "aria-label": t("remove_device", { name: device.name }),
            "data-device-id": device.device_id,
            text: t("remove"),
          });
          remove.addEventListener("click", function () {
            remove.disabled = true;
            api("DELETE", "/v1/window/devices/" + encodeURIComponent(device.device_id)).then(
              function () {
                showAlert(box, "");
                // Removed from the service: this browser's key for it is useless, forget it too.
                var forget = mine[device.device_id] ? forgetCustomer(mine[device.device_id]) : Promise.resolve();
                forget.then(function () { onRemoved(device); });
              },
              function (error) {
                remove.disabled = false;
                if (!handled(error)) showAlert(box, errorText(error));
              }
            );
          });
          list.appendChild(
            h(
              "li",
              { class: "device" },
              h("span", { class: "device-name", text: device.name + (mine[device.device_id] ? " · " + t("this_browser") : "") }),
              h("span", { class: "muted", text: t("registered_on", { date: formatDate(device.created_at) }) }),
              remove
            )
          );
        });
      },
      function (error) {
        if (!handled(error)) showAlert(box, errorText(error));
      }
    );
  }

  // --- steps several flows share ---------------------------------------------------------------

  // Name + mobile number + birth date. opts: screen, title, intro, submit (button text),
  // remember (offer "remember this browser"), start(values) -> Promise of the API's answer,
  // then(answer, values, remember), secondary (the second button; cancel by default).
  function identityStep(opts, message) {
    var section = screen(opts.screen, opts.title);
    section.appendChild(h("p", { text: opts.intro }));
    var box = alertBox();
    showAlert(box, message || "");
    var name = field({ label: t("name"), name: "name", autocomplete: "name", maxlength: 50 });
    var phone = field({ label: t("phone"), name: "phone", type: "tel", inputmode: "numeric", autocomplete: "tel-national", maxlength: 13, hint: t("phone_hint") });
    var birth = field({ label: t("birth_date"), name: "birth_date", inputmode: "numeric", autocomplete: "bday", maxlength: 8, hint: t("birth_hint") });
    var remember = opts.remember ? checkbox(t("remember"), false, "remember") : null;
    if (remember && !canRemember()) remember.input.disabled = true;
    var submit = h("button", { type: "submit", text: opts.submit });
    var form = h(
      "form",
      { novalidate: true },
      box,
      name.node,
      phone.node,
      birth.node,
      remember ? remember.node : null,
      buttonRow(submit, opts.secondary ? opts.secondary() : cancelButton())
    );
    section.appendChild(form);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var values = {
        name: name.input.value.trim(),
        phone: phone.input.value.replace(/[\s-]/g, ""),
        birth_date: birth.input.value.trim(),
      };
      name.setError(values.name ? "" : t("err_required"));
      phone.setError(/^01[0-9]{8,9}$/.test(values.phone) ? "" : t("err_phone_invalid"));
      birth.setError(/^[0-9]{8}$/.test(values.birth_date) ? "" : t("err_birth_date_invalid"));
      var invalid = [name, phone, birth].filter(function (f) { return f.input.getAttribute("aria-invalid"); });
      if (invalid.length) {
        invalid[0].input.focus();
        return;
      }
      submit.disabled = true;
      var wantsRemember = !!(remember && remember.input.checked);
      opts.start(values).then(
        function (answer) {
          opts.then(answer, values, wantsRemember);
        },
        function (error) {
          submit.disabled = false;
          if (handled(error)) return;
          var byField = { name_invalid: name, name_too_long: name, phone_invalid: phone, phone_unreachable: phone, birth_date_invalid: birth };
          if (byField[error.code]) {
            byField[error.code].setError(errorText(error));
            byField[error.code].input.focus();
          } else {
            showAlert(box, errorText(error));
          }
        }
      );
    });
    focusFirst(section);
  }

  // The 6-digit code the service texted. opts: screen, title, intro, submit, confirm(code) ->
  // Promise, then(answer), restart(message) (the verification is spent: start again),
  // secondary. A wrong code is shown on the field; the screen is drawn again for each error.
  function smsStep(opts, fieldError, message) {
    var section = screen(opts.screen, opts.title);
    section.appendChild(h("p", { text: opts.intro || t("sms_intro") }));
    var box = alertBox();
    showAlert(box, message || "");
    var code = field({ label: t("sms_code"), name: "sms_code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6 });
    if (fieldError) code.setError(fieldError);
    var submit = h("button", { type: "submit", text: opts.submit || t("confirm") });
    var form = h("form", { novalidate: true }, box, code.node, buttonRow(submit, opts.secondary ? opts.secondary() : cancelButton()));
    section.appendChild(form);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var value = code.input.value.trim();
      if (!/^[0-9]{6}$/.test(value)) {
        code.setError(t("err_sms_code_format"));
        code.input.focus();
        return;
      }
      code.setError("");
      submit.disabled = true;
      code.input.value = "";
      opts.confirm(value).then(
        function (answer) {
          value = null;
          opts.then(answer);
        },
        function (error) {
          value = null;
          if (handled(error)) return;
          if (error.code === "sms_code_invalid" || error.code === "sms_code_format") {
            smsStep(opts, errorText(error), null);
          } else if (/^(verification_|challenge_)/.test(error.code) || error.code === "sms_code_expired") {
            opts.restart(errorText(error));
          } else if (opts.otherError && opts.otherError(error)) {
            return;
          } else {
            smsStep(opts, null, errorText(error));
          }
        }
      );
    });
    focusFirst(section);
  }

  // One PIN pad on its own screen; onPin(pin, again) once six digits are submitted, where
  // again(message) shows a refusal on the same screen and lets the customer type again. `above`
  // adds what the customer must read first (its own nodes), `secondary` the second button.
  function pinScreen(opts) {
    var section = screen(opts.screen, opts.title);
    if (opts.above) opts.above(section);
    var box = alertBox();
    showAlert(box, opts.message || "");
    var form = h("form", { novalidate: true });
    var submit = h("button", { type: "submit", class: opts.danger ? "danger" : null, text: opts.submit });
    var pad = pinPad(opts.label, function () { form.requestSubmit(); });
    form.appendChild(box);
    form.appendChild(pad.node);
    form.appendChild(buttonRow(submit, opts.secondary ? opts.secondary() : cancelButton()));
    section.appendChild(form);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!pad.complete()) {
        showAlert(box, t("err_pin_format"));
        pad.focus();
        return;
      }
      submit.disabled = true;
      opts.onPin(pad.take(), function again(message) {
        submit.disabled = false;
        showAlert(box, message);
        pad.focus();
      });
    });
    if (opts.above) section.querySelector("h1").focus();
    else pad.focus();
    return section;
  }

  // A new PIN, typed twice; resolves with it. A mismatch starts over.
  function newPin(name, title, message, secondary) {
    return new Promise(function (resolve) {
      function first(note) {
        pinScreen({ screen: name, title: title, label: t("new_pin"), submit: t("next"), message: note, secondary: secondary, onPin: again });
      }
      function again(firstPin) {
        pinScreen({
          screen: name + "-again",
          title: title,
          label: t("new_pin_again"),
          submit: t("confirm"),
          secondary: secondary,
          onPin: function (pin) {
            if (pin !== firstPin) {
              firstPin = null;
              first(t("pin_mismatch"));
              return;
            }
            firstPin = null;
            resolve(pin);
          },
        });
      }
      first(message);
    });
  }

  function isPinPolicyError(error) {
    return /^pin_(format|repeated_digits|sequential|birth_date|phone_number)$/.test(error.code);
  }

  // --- connecting the customer --------------------------------------------------------------

  // Resolves once state.flow.connected, by a remembered browser or by name + phone + SMS code.
  function ensureConnected() {
    if (state.flow.connected) return Promise.resolve();
    return rememberedCustomers().then(function (customers) {
      return new Promise(function (resolve) {
        if (customers.length) pickCustomer(customers, resolve);
        else identityForm(resolve, null);
      });
    });
  }

  function pickCustomer(customers, connected, message) {
    var section = screen("pick", t("pick_title"));
    section.appendChild(h("p", { text: t("pick_intro") }));
    var box = alertBox();
    showAlert(box, message || "");
    section.appendChild(box);
    var list = h("ul", { class: "customers" });
    customers.forEach(function (customer) {
      var choose = h("button", {
        type: "button",
        class: "customer",
        "data-device-handle": customer.device_handle,
        text: t("pick_user", { label: customer.label }),
      });
      choose.addEventListener("click", function () { deviceConnect(customer, connected); });
      var forget = h("button", {
        type: "button",
        class: "secondary small",
        "aria-label": t("forget_user", { label: customer.label }),
        text: "✕",
      });
      forget.addEventListener("click", function () {
        forgetCustomer(customer.device_handle).then(ensureConnectedAgain(connected));
      });
      list.appendChild(h("li", null, choose, forget));
    });
    section.appendChild(list);
    section.appendChild(
      buttonRow(
        h("button", { type: "button", class: "secondary", onclick: function () { identityForm(connected, null); }, text: t("other_user") }),
        cancelButton()
      )
    );
    var first = section.querySelector("button.customer");
    if (first) first.focus();
  }

  function ensureConnectedAgain(connected, message) {
    return function () {
      rememberedCustomers().then(function (customers) {
        if (customers.length && !message) pickCustomer(customers, connected);
        else identityForm(connected, message || null);
      });
    };
  }

  function deviceConnect(customer, connected) {
    busy(t("connecting"));
    var challengeId;
    api("POST", "/v1/window/device-connections", { device_handle: customer.device_handle })
      .then(function (answer) {
        challengeId = answer.challenge_id;
        // WebCrypto signs ECDSA as raw r||s (64 bytes); the service takes it as well as DER.
        return window.crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, customer.key, fromBase64(answer.challenge));
      })
      .then(function (signature) {
        return api("POST", "/v1/window/device-connections/" + encodeURIComponent(challengeId) + "/confirm", {
          signature: toBase64(signature),
        });
      })
      .then(
        function (flow) {
          adoptFlow(flow);
          connected();
        },
        function (error) {
          if (handled(error)) return;
          if (error.code === "device_not_found") {
            forgetCustomer(customer.device_handle).then(ensureConnectedAgain(connected, t("device_gone")));
            return;
          }
          rememberedCustomers().then(function (customers) {
            pickCustomer(customers, connected, errorText(error));
          });
        }
      );
  }

  function identityForm(connected, message) {
    identityStep(
      {
        screen: "identity",
        title: t("connect_title"),
        intro: t("connect_intro"),
        submit: t("send_code"),
        remember: true,
        start: function (values) {
          return api("POST", "/v1/window/connections", values);
        },
        then: function (answer, values, wantsRemember) {
          // What the browser would show for this customer next time: no full name, no number.
          var label = maskedName(values.name) + " (…" + values.phone.slice(-4) + ")";
          values = null;
          smsStep({
            screen: "sms",
            title: t("sms_title"),
            confirm: function (code) {
              return api("POST", "/v1/window/connections/" + encodeURIComponent(answer.verification_id) + "/confirm", { sms_code: code });
            },
            then: function (flow) {
              adoptFlow(flow);
              if (wantsRemember) rememberBrowser(label).then(connected);
              else connected();
            },
            restart: function (note) { identityForm(connected, note); },
          });
        },
      },
      message
    );
  }

  function adoptFlow(answer) {
    if (!answer || typeof answer !== "object") return;
    var flow = answer.flow && typeof answer.flow === "object" ? answer.flow : answer;
    if (flow.purpose && flow.origin) state.flow = flow;
    else if (flow.connected !== undefined) state.flow.connected = flow.connected;
  }

  // --- issue -----------------------------------------------------------------------------------

  function issueFlow() {
    // Auto-renewal is opt-in (docs/design.md): the box starts unticked, as the bank API's default.
    var choices = { auto_renew: false, remember: false, sms_code: "" };

    function termsStep(message, smsError) {
      var section = screen("issue-terms", t("issue_title"));
      var box = alertBox();
      showAlert(box, message || "");
      var termsId = nextId("terms");
      var terms = h(
        "div",
        { class: "terms" },
        h("h2", { id: termsId, text: t("terms_title") }),
        h("div", { class: "terms-text", tabindex: "0", role: "region", "aria-labelledby": termsId, text: t("terms_text") })
      );
      var accept = checkbox(t("terms_accept"), false, "terms_accepted");
      var renew = checkbox(t("auto_renew"), choices.auto_renew, "auto_renew");
      var remember = checkbox(t("remember"), choices.remember, "remember");
      if (!canRemember()) remember.input.disabled = true;
      var code = field({ label: t("sms_code"), name: "sms_code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6, hint: t("issue_sms_intro") });
      if (smsError) code.setError(smsError);
      var submit = h("button", { type: "submit", text: t("next") });
      var form = h("form", { novalidate: true }, box, terms, accept.node, renew.node, remember.node, code.node, buttonRow(submit, cancelButton()));
      section.appendChild(form);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (!accept.input.checked) {
          showAlert(box, t("must_accept_terms"));
          accept.input.focus();
          return;
        }
        var value = code.input.value.trim();
        if (!/^[0-9]{6}$/.test(value)) {
          code.setError(t("err_sms_code_format"));
          code.input.focus();
          return;
        }
        choices.auto_renew = renew.input.checked;
        choices.remember = remember.input.checked;
        choices.sms_code = value;
        code.input.value = "";
        pinStep(null);
      });
      focusFirst(section);
      if (smsError) code.input.focus();
    }

    function pinStep(message) {
      newPin("issue-pin", t("new_pin_title"), message).then(submitIssuance);
    }

    function submitIssuance(pin) {
      busy(t("issuing"));
      var body = { sms_code: choices.sms_code, pin: pin, terms_accepted: true, auto_renew: choices.auto_renew };
      pin = null;
      api("POST", "/v1/window/issuance", body).then(
        function (answer) {
          body = null;
          choices.sms_code = "";
          state.flow.connected = true;
          var result = {
            credential_id: answer.credential_id,
            serial_number: answer.serial_number,
            certificate_pem: answer.certificate_pem,
          };
          var serial = String(answer.serial_number || "");
          // The bank gets its answer first; remembering the browser comes after.
          post({ type: "fincert:result", purpose: state.flow.purpose, result: result });
          state.resultPosted = true;
          var next = choices.remember ? rememberBrowser(t("issued_label", { serial: serial.slice(-6) })) : Promise.resolve();
          next.then(function () {
            var section = screen("issued", t("issued"));
            section.appendChild(h("p", { role: "status", text: t("issued") }));
            focusFirst(section);
            finish(result);
          });
        },
        function (error) {
          body = null;
          if (handled(error)) return;
          if (isPinPolicyError(error)) {
            pinStep(errorText(error));
          } else if (error.code === "sms_code_invalid" || error.code === "sms_code_format") {
            choices.sms_code = "";
            termsStep(null, errorText(error));
          } else {
            termsStep(errorText(error));
          }
        }
      );
    }

    termsStep(null);
  }

  // --- sign ------------------------------------------------------------------------------------

  function utf8Sha256(text) {
    return window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(hex);
  }

  // The FinCert code of a sign type given by name (the flow may carry the code itself).
  var SIGN_TYPE_CODES = { login: "01", transfer: "02", product: "03", contract: "04", payment: "05", other: "99" };

  function signTypeLabel(sign) {
    var code = sign.sign_type_code || SIGN_TYPE_CODES[sign.sign_type] || (SIGN_TYPES[sign.sign_type] ? sign.sign_type : null);
    var known = code ? SIGN_TYPES[code] : null;
    var label = known ? known[lang] : sign.sign_type;
    return code ? label + " (" + code + ")" : label;
  }

  function signFormats(sign) {
    var formats = sign.formats || (sign.format ? [sign.format] : []);
    return formats
      .map(function (f) { return STRINGS.ko["format_" + f] ? t("format_" + f) : f; })
      .join(", ");
  }

  function groupHex(value) {
    return String(value || "").replace(/(.{8})(?=.)/g, "$1 ");
  }

  function contentNode(content, index) {
    var heading = h("h3", { text: t("content_n", { i: index + 1 }) });
    if (content.kind === "text") {
      return h(
        "li",
        { class: "content", "data-content-index": index, "data-kind": "text" },
        heading,
        h("pre", { class: "content-text", tabindex: "0", text: content.text }),
        h("p", { class: "muted" }, t("bytes", { n: Number(content.bytes).toLocaleString() }) + " · SHA-256 ", h("code", { text: groupHex(content.sha256) }))
      );
    }
    return h(
      "li",
      { class: "content binary", "data-content-index": index, "data-kind": "binary" },
      heading,
      h("p", { class: "badge", text: t("binary_not_shown") }),
      h(
        "dl",
        null,
        h("dt", { text: t("file_name") }),
        h("dd", { class: "content-name", text: content.name || "" }),
        h("dt", { text: t("size") }),
        h("dd", { text: t("bytes", { n: Number(content.bytes).toLocaleString() }) }),
        h("dt", { text: t("sha256") }),
        h("dd", null, h("code", { class: "content-sha256", text: groupHex(content.sha256) }))
      )
    );
  }

  function signFlow() {
    var sign = state.flow.sign || { contents: [] };
    var contents = sign.contents || [];
    // What is shown must be what the service signs: each text's SHA-256, computed here, must
    // equal the digest the service will sign.
    Promise.all(
      contents.map(function (content) {
        return content.kind === "text" ? utf8Sha256(content.text).then(function (d) { return d === String(content.sha256).toLowerCase(); }) : true;
      })
    ).then(function (checks) {
      if (checks.indexOf(false) >= 0) {
        fatal(new ApiError(0, "content_mismatch", t("content_mismatch")));
        return;
      }
      signScreen(sign, contents, null);
    });
  }

  function signScreen(sign, contents, message, note) {
    pinScreen({
      screen: "sign",
      title: t("sign_title"),
      label: t("pin"),
      submit: t("sign"),
      message: message,
      // The contents come first: the customer reads them before reaching the PIN.
      above: function (section) {
        if (note) section.appendChild(h("p", { role: "status", class: "ok", text: note }));
        section.appendChild(
          h(
            "dl",
            { class: "summary" },
            h("dt", { text: t("sign_type") }),
            h("dd", { class: "sign-type", text: signTypeLabel(sign) }),
            h("dt", { text: t("sign_format") }),
            h("dd", { class: "sign-format", text: signFormats(sign) })
          )
        );
        section.appendChild(h("h2", { text: t("contents_count", { n: contents.length }) }));
        section.appendChild(h("ol", { class: "contents" }, contents.map(contentNode)));
      },
      onPin: function (pin, again) {
        var body = { pin: pin };
        api("POST", "/v1/window/signatures", body).then(
          function (answer) {
            body = null;
            var done = screen("signed", t("signed"));
            done.appendChild(h("p", { role: "status", text: t("signed") }));
            focusFirst(done);
            finish({ contents: answer.contents, formats: answer.formats, certificate_pem: answer.certificate_pem });
          },
          function (error) {
            body = null;
            if (handled(error)) return;
            if (error.code === "institution_not_registered") {
              registerHere(sign, contents, null);
              return;
            }
            again(errorText(error));
          }
        );
      },
    });
  }

  // 타기관 등록: the certificate was issued through another institution; using it here takes the
  // customer's PIN once, on its own screen, before the signature's PIN.
  function registerHere(sign, contents, message) {
    pinScreen({
      screen: "register",
      title: t("register_title"),
      label: t("pin"),
      submit: t("register"),
      message: message,
      above: function (section) {
        section.appendChild(h("p", { text: t("register_intro", { institution: state.flow.institution_name || state.flow.institution_id }) }));
      },
      onPin: function (pin) {
        var body = { pin: pin };
        busy(t("register_title"));
        api("POST", "/v1/window/registrations", body).then(
          function () {
            body = null;
            signScreen(sign, contents, null, t("registered"));
          },
          function (error) {
            body = null;
            if (handled(error)) return;
            registerHere(sign, contents, errorText(error));
          }
        );
      },
    });
  }

  // --- connect ---------------------------------------------------------------------------------

  function connectFlow() {
    busy(t("connecting"));
    api("POST", "/v1/window/connect-code", {}).then(
      function (answer) {
        finish({ code: answer.code, ticket_id: state.flow.ticket_id });
      },
      function (error) {
        if (!handled(error)) fatal(error);
      }
    );
  }

  // --- manage ----------------------------------------------------------------------------------

  function backToMenu() {
    return h("button", { type: "button", class: "secondary", onclick: function () { manageFlow(null); }, text: t("back") });
  }

  // `known`: the certificate as a status change answered it. A revoked one is no longer the
  // customer's certificate (GET answers 404), so the answer is what shows it.
  function certificateCard(section, known) {
    var card = h("dl", { class: "summary certificate" });
    section.appendChild(card);
    (known ? Promise.resolve(known) : api("GET", "/v1/window/certificate")).then(
      function (cert) {
        var subject = state.flow.certificate && state.flow.certificate.subject;
        var rows = [
          [t("subject"), subject || ""],
          [t("serial"), cert.serial_number],
          [t("status"), t("status_" + cert.status)],
          [t("valid_until"), formatDate(cert.not_after)],
          [t("auto_renew_short"), cert.auto_renew ? t("yes") : t("no")],
        ];
        rows.forEach(function (row) {
          if (!row[1]) return;
          card.appendChild(h("dt", { text: row[0] }));
          card.appendChild(h("dd", { "data-field": row[0], text: row[1] }));
        });
        card.setAttribute("data-status", cert.status);
      },
      function (error) {
        if (!handled(error)) card.appendChild(h("dd", { class: "error", text: errorText(error) }));
      }
    );
  }

  function manageFlow(message, certificate) {
    var section = screen("manage", t("manage_title"));
    if (message) section.appendChild(h("p", { role: "status", class: "ok", text: message }));
    certificateCard(section, certificate);
    section.appendChild(h("p", { text: t("manage_intro") }));
    function item(action, label, run) {
      return h("li", null, h("button", { type: "button", "data-action": action, onclick: run, text: label }));
    }
    section.appendChild(
      h(
        "ul",
        { class: "menu" },
        item("change-pin", t("change_pin"), function () { changePin(null); }),
        item("pin-reset", t("pin_reset"), function () { reverify("pin-reset", null); }),
        item("devices", t("devices"), devicesScreen),
        item("history", t("history"), historyScreen),
        item("suspend", t("suspend"), function () { suspendScreen(null); }),
        item("restore", t("restore"), function () { reverify("restore", null); }),
        item("revoke", t("revoke"), function () { revokeScreen(null); })
      )
    );
    section.appendChild(h("p", { class: "muted", text: t("reverify_note") }));
    var done = h("button", { type: "button", "data-action": "done", text: t("done") });
    done.addEventListener("click", function () {
      done.disabled = true;
      api("POST", "/v1/window/finish", {}).then(
        function () { finish({}); },
        function (error) {
          done.disabled = false;
          if (!handled(error)) fatal(error);
        }
      );
    });
    section.appendChild(buttonRow(done));
    var first = section.querySelector(".menu button");
    if (first) first.focus();
  }

  function changePin(message) {
    pinScreen({
      screen: "change-pin",
      title: t("change_pin"),
      label: t("current_pin"),
      submit: t("next"),
      message: message,
      secondary: backToMenu,
      onPin: function (current) {
        newPin("change-pin-new", t("change_pin"), null, backToMenu).then(function (fresh) {
          submitPinChange(current, fresh);
          current = fresh = null;
        });
      },
    });
  }

  function submitPinChange(current, fresh) {
    busy(t("change_pin"));
    var body = { pin: current, new_pin: fresh };
    api("PUT", "/v1/window/pin", body).then(
      function () {
        body = null;
        manageFlow(t("pin_changed"));
      },
      function (error) {
        body = null;
        if (handled(error)) return;
        changePin(errorText(error));
      }
    );
  }

  // Forgotten-PIN reset and restore: the customer proves who they are again (name, mobile,
  // birth date, SMS code), whatever this window's connection was.
  function reverify(kind, message) {
    var reset = kind === "pin-reset";
    var route = reset ? "/v1/window/pin-resets" : "/v1/window/status-changes";
    identityStep(
      {
        screen: kind,
        title: reset ? t("pin_reset") : t("restore"),
        intro: reset ? t("pin_reset_intro") : t("restore_intro"),
        submit: t("send_code"),
        secondary: backToMenu,
        start: function (values) {
          return api("POST", route, values);
        },
        then: function (answer) {
          var confirmUrl = route + "/" + encodeURIComponent(answer.verification_id) + "/confirm";
          smsStep({
            screen: kind + "-sms",
            title: reset ? t("pin_reset") : t("restore"),
            secondary: backToMenu,
            restart: function (note) { reverify(kind, note); },
            confirm: function (code) {
              if (!reset) return api("POST", confirmUrl, { sms_code: code, action: "restore" });
              // The new PIN goes with the code: ask for it before sending either.
              return newPin(kind + "-pin", t("pin_reset"), null, backToMenu).then(function (pin) {
                busy(t("pin_reset"));
                return api("POST", confirmUrl, { sms_code: code, new_pin: pin });
              });
            },
            otherError: function (error) {
              if (reset && isPinPolicyError(error)) {
                reverify(kind, errorText(error));
                return true;
              }
              return false;
            },
            then: function () {
              manageFlow(reset ? t("pin_was_reset") : t("restored"));
            },
          });
        },
      },
      message
    );
  }

  function devicesScreen() {
    var section = screen("devices", t("devices"));
    var box = alertBox();
    showAlert(box, "");
    section.appendChild(box);
    var list = h("ul", { class: "devices" });
    section.appendChild(list);
    var rememberButton = h("button", {
      type: "button",
      class: "secondary",
      onclick: function () { rememberBrowser(t("device_label", { date: new Date().toISOString().slice(0, 10) })).then(devicesScreen); },
      text: t("remember_this"),
    });
    if (!canRemember()) rememberButton.disabled = true;
    section.appendChild(buttonRow(rememberButton, backToMenu()));
    fillDevices(list, box, function () {
      showAlert(box, "");
      devicesScreen();
    });
    section.querySelector("h1").focus();
  }

  function historyScreen() {
    var section = screen("history", t("history"));
    var box = alertBox();
    showAlert(box, "");
    section.appendChild(box);
    var list = h("ol", { class: "history" });
    section.appendChild(list);
    var more = h("button", { type: "button", class: "secondary", hidden: true, text: t("more") });
    section.appendChild(buttonRow(more, backToMenu()));
    var cursor = null;
    function load() {
      more.disabled = true;
      api("GET", "/v1/window/history?limit=20" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "")).then(
        function (page) {
          var entries = (page && page.entries) || [];
          if (!entries.length && !list.children.length) list.appendChild(h("li", { text: t("no_history") }));
          entries.forEach(function (entry) {
            var kind = HISTORY_EVENTS[entry.event];
            var detail = entry.detail
              ? Object.keys(entry.detail)
                  .filter(function (k) { return k !== "hash" && k !== "hashes"; })
                  .map(function (k) { return k + "=" + entry.detail[k]; })
                  .join(", ")
              : "";
            list.appendChild(
              h(
                "li",
                { "data-event": entry.event },
                h("span", { class: "when", text: formatDate(entry.at) }),
                h("span", { class: "what", text: kind ? kind[lang] : entry.event }),
                h("span", { class: "muted", text: entry.institution_id + (detail ? " · " + detail : "") })
              )
            );
          });
          cursor = page && page.next_cursor;
          more.hidden = !cursor;
          more.disabled = false;
        },
        function (error) {
          if (!handled(error)) showAlert(box, errorText(error));
        }
      );
    }
    more.addEventListener("click", load);
    load();
    section.querySelector("h1").focus();
  }

  function suspendScreen(message) {
    pinScreen({
      screen: "suspend",
      title: t("suspend"),
      label: t("pin"),
      submit: t("suspend_confirm"),
      danger: true,
      message: message,
      secondary: backToMenu,
      above: function (section) {
        section.appendChild(h("p", { text: t("suspend_intro") }));
      },
      onPin: function (pin) {
        var body = { action: "suspend", pin: pin };
        busy(t("suspend"));
        api("POST", "/v1/window/certificate/status", body).then(
          function () {
            body = null;
            manageFlow(t("suspended"));
          },
          function (error) {
            body = null;
            if (handled(error)) return;
            suspendScreen(errorText(error));
          }
        );
      },
    });
  }

  // Revoking cannot be undone: a confirmation step (what it means, a reason, a box to tick) comes
  // before the PIN, and the PIN screen says again what the PIN does.
  function revokeScreen(message) {
    var section = screen("revoke", t("revoke"));
    var box = alertBox();
    showAlert(box, message || "");
    var reasonId = nextId("reason");
    var reason = h(
      "select",
      { id: reasonId, name: "reason" },
      h("option", { value: "unspecified", text: t("reason_unspecified") }),
      h("option", { value: "keyCompromise", text: t("reason_key_compromise") })
    );
    var understand = checkbox(t("revoke_understand"), false, "understand");
    var submit = h("button", { type: "submit", class: "danger", text: t("next") });
    var form = h(
      "form",
      { novalidate: true },
      box,
      h("p", { text: t("revoke_intro") }),
      h("div", { class: "field" }, h("label", { for: reasonId, text: t("revoke_reason") }), reason),
      understand.node,
      buttonRow(submit, backToMenu())
    );
    section.appendChild(form);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!understand.input.checked) {
        showAlert(box, t("revoke_must_confirm"));
        understand.input.focus();
        return;
      }
      revokePin(reason.value, null);
    });
    section.querySelector("h1").focus();
  }

  function revokePin(reason, message) {
    pinScreen({
      screen: "revoke-pin",
      title: t("revoke"),
      label: t("pin"),
      submit: t("revoke_confirm"),
      danger: true,
      message: message,
      secondary: backToMenu,
      above: function (section) {
        section.appendChild(h("p", { text: t("revoke_pin_intro") }));
      },
      onPin: function (pin) {
        var body = { action: "revoke", reason: reason, pin: pin };
        busy(t("revoke"));
        api("POST", "/v1/window/certificate/status", body).then(
          function (certificate) {
            body = null;
            manageFlow(t("revoked"), certificate);
          },
          function (error) {
            body = null;
            if (handled(error)) return;
            revokePin(reason, errorText(error));
          }
        );
      },
    });
  }

  // --- start -----------------------------------------------------------------------------------

  function applyLanguage() {
    document.documentElement.lang = lang;
    document.title = t("title");
    document.getElementById("brand").textContent = t("title");
    var loading = document.getElementById("loading");
    if (loading) loading.textContent = t("loading");
  }

  function showOrigin(flow) {
    var who = flow.institution_name ? flow.institution_name + " · " + flow.origin : flow.origin;
    document.getElementById("origin-line").textContent = t("requested_by", { origin: who });
  }

  function redeem(ticket, openerOrigin, expectedPurpose) {
    busy(t("loading"));
    api("POST", "/v1/window/redeem", { ticket: ticket, opener_origin: openerOrigin }).then(
      function (answer) {
        state.token = answer.window_token;
        adoptFlow(answer);
        if (!state.flow) {
          fatal(new ApiError(0, "ticket_invalid"));
          return;
        }
        if (state.flow.origin !== openerOrigin) {
          // The service checked this already; a window never answers another origin.
          cancelQuietly();
          state.flow = null;
          fatal(new ApiError(403, "origin_mismatch"));
          return;
        }
        showOrigin(state.flow);
        if (expectedPurpose && expectedPurpose !== state.flow.purpose) {
          cancelQuietly();
          fatal(new ApiError(403, "window_purpose_mismatch", "the ticket is for " + state.flow.purpose));
          return;
        }
        start(state.flow.purpose);
      },
      function (error) {
        fatal(error);
      }
    );
  }

  function cancelQuietly() {
    api("POST", "/v1/window/cancel", {}).catch(function () {});
  }

  function start(purpose) {
    if (purpose === "issue") {
      issueFlow();
      return;
    }
    var next = { connect: connectFlow, sign: signFlow, manage: function () { manageFlow(null); } }[purpose];
    if (!next) {
      fatal(new ApiError(0, "window_purpose_mismatch"));
      return;
    }
    ensureConnected().then(next);
  }

  function onMessage(event) {
    // Only the page that opened this window; the service checks its origin against the ticket.
    if (!window.opener || event.source !== window.opener) return;
    var data = event.data;
    if (!data || typeof data !== "object" || data.type !== "fincert:ticket") return;
    if (state.ticketSeen) return;
    if (typeof data.ticket !== "string" || !data.ticket || data.ticket.length > 512) return;
    state.ticketSeen = true;
    state.openerOrigin = event.origin;
    if (data.lang === "en" || data.lang === "ko") {
      lang = data.lang;
      applyLanguage();
    }
    var purpose = typeof data.purpose === "string" ? data.purpose : null;
    redeem(data.ticket, event.origin, purpose);
  }

  function boot() {
    applyLanguage();
    if (!window.opener) {
      var section = screen("no-opener", t("title"));
      section.appendChild(h("p", { class: "error", role: "alert", text: t("no_opener") }));
      focusFirst(section);
      return;
    }
    window.addEventListener("message", onMessage);
    // No secret in it, and the opener's origin is not known yet: "*" is the only target.
    window.opener.postMessage({ type: "fincert:ready" }, "*");
  }

  boot();
})();
