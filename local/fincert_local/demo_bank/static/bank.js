// The demo bank's page: what a bank's front end needs to use the hosted window. It never sees a
// PIN or an SMS code; it gets a ticket from its own back end, hands it to FinCert, and asks its
// back end (which asks the service) what happened.
(function () {
  "use strict";

  var service = document.querySelector('meta[name="fincert-service"]').content;
  var statusLine = document.getElementById("status");
  var resultBox = document.getElementById("result");

  function $(id) {
    return document.getElementById(id);
  }

  function bank(path, body) {
    return fetch(path, {
      method: body === undefined ? "GET" : "POST",
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          var error = new Error((data && data.error && data.error.message) || "HTTP " + response.status);
          error.code = (data && data.error && data.error.code) || "http_" + response.status;
          throw error;
        }
        return data;
      });
    });
  }

  function show(state, text, detail) {
    statusLine.dataset.state = state;
    statusLine.textContent = text;
    resultBox.textContent = detail === undefined ? "" : JSON.stringify(detail, null, 2);
  }

  function lang() {
    return $("lang").value;
  }

  // The ticket comes from the bank's back end; FinCert opens its window at once, in the click,
  // and waits for this Promise.
  function ticketFor(purpose, extra, remember) {
    return bank("/api/tickets", Object.assign({ purpose: purpose }, extra || {})).then(function (minted) {
      remember.ticket_id = minted.ticket_id;
      return minted.ticket;
    });
  }

  function run(purpose, extra, afterwards) {
    var minted = {};
    show("busy", purpose + ": the certificate window is open…");
    FinCert[purpose]({ service: service, ticket: ticketFor(purpose, extra, minted), lang: lang() })
      .then(function (result) {
        show("busy", purpose + ": the window answered; asking our back end…");
        return bank("/api/outcome", Object.assign({ ticket_id: minted.ticket_id }, afterwards ? afterwards(result) : {}));
      })
      .then(function (outcome) {
        var ok = outcome.status === "completed" && (purpose !== "sign" || outcome.verified === true);
        var text = {
          issue: "발급 완료 · Certificate issued: serial " + (outcome.issued && outcome.issued.serial_number),
          sign: outcome.verified ? "서명 검증 완료 · Transfer signed and verified by the bank" : "서명 검증 실패 · Signature NOT verified",
          connect: "연결 완료 · Connected with your certificate",
          manage: "인증서 관리 완료 · Management window closed",
        }[purpose];
        show(ok ? "ok" : "error", text, outcome);
      })
      .catch(function (error) {
        show("error", purpose + " failed: " + (error.code || "error") + " (" + error.message + ")", {
          code: error.code || null,
          ticket_id: minted.ticket_id || null,
        });
      });
  }

  function render(me) {
    $("login").hidden = me.logged_in;
    $("dashboard").hidden = !me.logged_in;
    if (me.logged_in) {
      $("customer-name").textContent = me.customer.name;
      $("sms-link").href = me.sms_url;
      $("sms-link").textContent = me.sms_url;
    } else {
      $("login-name").value = me.default_customer.name;
      $("login-phone").value = me.default_customer.phone;
      $("login-birth").value = me.default_customer.birth_date;
    }
  }

  $("login-form").addEventListener("submit", function (event) {
    event.preventDefault();
    bank("/api/login", {
      name: $("login-name").value,
      phone: $("login-phone").value,
      birth_date: $("login-birth").value,
    }).then(function () {
      return bank("/api/me").then(render);
    });
  });
  $("logout").addEventListener("click", function () {
    bank("/api/logout", {}).then(function () {
      return bank("/api/me").then(render);
    });
  });
  $("issue").addEventListener("click", function () {
    run("issue");
  });
  $("transfer-form").addEventListener("submit", function (event) {
    event.preventDefault();
    run("sign", { transfer: { to_account: $("to-account").value, amount: $("amount").value, memo: $("memo").value } });
  });
  $("connect").addEventListener("click", function () {
    run("connect", null, function (result) {
      return { code: result.code };
    });
  });
  $("manage").addEventListener("click", function () {
    run("manage");
  });

  bank("/api/me").then(render);
})();
