/*! fincert.js v1: opens the fincert-cloud window for a bank's page. No build step, no dependencies.
 *
 *   FinCert.issue({ service, ticket, lang })   -> Promise<{credential_id, serial_number, certificate_pem}>
 *   FinCert.connect({ service, ticket, lang }) -> Promise<{code, ticket_id}>
 *   FinCert.sign({ service, ticket, lang })    -> Promise<{contents, formats, certificate_pem}>
 *   FinCert.manage({ service, ticket, lang })  -> Promise<{}>
 *
 * Call them from a click handler: the window opens at once (a popup opened later is blocked), and
 * `ticket` may be a Promise (fetch it from the bank's back end after the click). The ticket reaches
 * the window by postMessage, never in a URL. Failures reject with a FinCert.FinCertError whose
 * `code` is stable. The PIN and SMS codes are typed in the window, on the service's origin: this
 * page never sees them.
 */
(function (global) {
  "use strict";

  var VERSION = "1";
  var WINDOW_PATH = "/hosted/v1/window.html";
  var SDK_PATH = "/sdk/v1/fincert.js";
  var PURPOSES = ["issue", "connect", "sign", "manage"];
  // After the window is seen closed, how long a result it posted just before closing may still
  // be on its way (postMessage is asynchronous).
  var CLOSE_GRACE_MS = 400;
  var POLL_MS = 250;

  var MESSAGES = {
    popup_blocked: "the browser blocked the window: call FinCert from a click handler",
    user_cancelled: "the customer closed the window",
    ticket_invalid: "the ticket is not valid",
    ticket_used: "the ticket was already used",
    ticket_expired: "the ticket expired",
    origin_mismatch: "this page's origin is not the one the ticket names",
    pin_locked: "the PIN is locked after too many wrong attempts",
    window_closed: "the window's flow already ended",
    network_error: "the service could not be reached",
  };

  function FinCertError(code, message) {
    var error = new Error(message || MESSAGES[code] || code);
    Object.setPrototypeOf(error, FinCertError.prototype);
    error.name = "FinCertError";
    error.code = code;
    return error;
  }
  FinCertError.prototype = Object.create(Error.prototype, {
    constructor: { value: FinCertError, writable: true, configurable: true },
  });

  // The service this file was loaded from: the default for `service`.
  var defaultService = null;
  try {
    var script = global.document && global.document.currentScript;
    if (script && script.src) {
      var src = new URL(script.src);
      var at = src.pathname.lastIndexOf(SDK_PATH);
      if (at >= 0) defaultService = src.origin + src.pathname.slice(0, at);
    }
  } catch (ignored) {
    defaultService = null;
  }

  function randomName() {
    var bytes = new Uint8Array(8);
    global.crypto.getRandomValues(bytes);
    return "fincert_" + Array.prototype.map.call(bytes, function (b) {
      return (b + 256).toString(16).slice(1);
    }).join("");
  }

  function features() {
    var width = 480;
    var height = 760;
    var left = Math.max(0, (global.screenX || 0) + ((global.outerWidth || width) - width) / 2);
    var top = Math.max(0, (global.screenY || 0) + ((global.outerHeight || height) - height) / 2);
    return "popup=yes,width=" + width + ",height=" + height + ",left=" + Math.round(left) + ",top=" + Math.round(top);
  }

  function open(purpose, options) {
    options = options || {};
    var service = options.service || defaultService;
    var base;
    try {
      base = new URL(String(service).replace(/\/+$/, ""));
    } catch (e) {
      return Promise.reject(new TypeError("FinCert: `service` must be the service's URL"));
    }
    if (base.protocol !== "https:" && base.protocol !== "http:") {
      return Promise.reject(new TypeError("FinCert: `service` must be an http(s) URL"));
    }
    if (options.ticket === undefined || options.ticket === null) {
      return Promise.reject(new TypeError("FinCert: `ticket` (a string or a Promise of one) is required"));
    }
    var origin = base.origin;
    var lang = options.lang === "en" ? "en" : "ko";
    var url = origin + base.pathname.replace(/\/+$/, "") + WINDOW_PATH + "?lang=" + lang;

    // Synchronously, inside the click: popup blockers allow a window opened by a user gesture.
    var popup = null;
    try {
      popup = global.open(url, randomName(), features());
    } catch (e) {
      popup = null;
    }
    if (!popup) {
      return Promise.reject(FinCertError("popup_blocked"));
    }
    var ticket = Promise.resolve(options.ticket);

    return new Promise(function (resolve, reject) {
      var settled = false;
      var closedSince = null;

      function finish(ok, value) {
        if (settled) return;
        settled = true;
        global.clearInterval(timer);
        global.removeEventListener("message", onMessage);
        (ok ? resolve : reject)(value);
      }

      function fail(error) {
        finish(false, error);
        try {
          if (!popup.closed) popup.close();
        } catch (ignored) {
          /* already gone */
        }
      }

      // The ticket is settled as soon as it can be: a Promise the bank's back end rejects fails
      // the call at once (and is never left unhandled), a string waits for the window's `ready`.
      var ticketValue = null;
      var windowReady = false;
      ticket.then(
        function (value) {
          if (settled) return;
          if (typeof value !== "string" || !value) {
            fail(FinCertError("ticket_invalid", "the ticket must be a non-empty string"));
            return;
          }
          ticketValue = value;
          if (windowReady) sendTicket();
        },
        function (cause) {
          var error = FinCertError("ticket_invalid", "the ticket could not be obtained");
          error.cause = cause;
          fail(error);
        }
      );

      function sendTicket() {
        // To the service's origin only: if the window was navigated elsewhere, nothing is sent.
        popup.postMessage({ type: "fincert:ticket", ticket: ticketValue, lang: lang, purpose: purpose }, origin);
      }

      function onMessage(event) {
        // Only the window this call opened, and only while it shows the service's origin.
        if (event.source !== popup || event.origin !== origin) return;
        var data = event.data;
        if (!data || typeof data !== "object" || typeof data.type !== "string") return;
        if (data.type === "fincert:ready") {
          // Again after a reload of the window: it lost everything it held, the ticket included.
          windowReady = true;
          if (ticketValue !== null) sendTicket();
        } else if (data.type === "fincert:result") {
          if (data.purpose !== purpose) {
            fail(FinCertError("window_purpose_mismatch", "the window answered for another purpose"));
            return;
          }
          finish(true, data.result || {});
        } else if (data.type === "fincert:error") {
          var code = typeof data.code === "string" && data.code ? data.code : "window_closed";
          finish(false, FinCertError(code, typeof data.message === "string" ? data.message : undefined));
        }
      }

      var timer = global.setInterval(function () {
        var closed;
        try {
          closed = popup.closed;
        } catch (e) {
          closed = true;
        }
        if (!closed) return;
        if (closedSince === null) {
          closedSince = Date.now();
        } else if (Date.now() - closedSince >= CLOSE_GRACE_MS) {
          finish(false, FinCertError("user_cancelled"));
        }
      }, POLL_MS);
      global.addEventListener("message", onMessage);
    });
  }

  var api = { version: VERSION, FinCertError: FinCertError };
  PURPOSES.forEach(function (purpose) {
    api[purpose] = function (options) {
      return open(purpose, options);
    };
  });
  global.FinCert = Object.freeze(api);
})(window);
